import {copyFileSync, openSync, writeSync, closeSync, symlinkSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {pdi} from './helpers/cli.js';
import {scratchDirectory, writeFiles} from './helpers/files.js';
import {fixtures} from './helpers/preload.js';

/** A copy of a host fixture program whose ELF header names another machine (e_machine, at byte 18) and class. */
function programFor(machine: number): string {
	const program = path.join(scratchDirectory('pdi-arch8-missing-'), 'app');
	copyFileSync(path.join(fixtures, 'now-pie/fixprog'), program);
	const descriptor = openSync(program, 'r+');
	writeSync(descriptor, Buffer.from([machine & 0xff, machine >> 8]), 0, 2, 18);
	closeSync(descriptor);
	return program;
}

/** A PATH of one directory holding node and, if asked, a qemu-user emulator of that name (a copy of /bin/true). */
function searchPath(emulators: string[]): string {
	const bin = writeFiles({}, 'pdi-arch8-bin-');
	symlinkSync(process.execPath, path.join(bin, 'node'));
	for (const emulator of emulators) {
		copyFileSync('/bin/true', path.join(bin, emulator));
	}

	return bin;
}

const advice = (arch: string): string => `: pdi starts programs of its own architecture only; start this one by hand under qemu-${arch} with pdi's ${arch} core (docs/launching.md, "Programs of another architecture")`;

test('an aarch64 or i386 program refused while qemu-user is not in PATH: the line also says so, with the package to install', async t => {
	for (const [machine, arch] of [[183, 'aarch64'], [3, 'i386']] as const) {
		const program = programFor(machine);
		const without = await pdi(['run', '--', program], {env: {...process.env, PATH: searchPath([])}});
		t.is(without.code, 2);
		t.is(without.stderr, `pdi: ${program}: built for ${arch} (64-bit), but this pdi build is for x86_64${advice(arch)}; qemu-${arch} is not in PATH (Debian: apt-get install qemu-user)\n`);
		const present = await pdi(['trace', '--', program], {env: {...process.env, PATH: searchPath([`qemu-${arch}`])}});
		t.is(present.code, 2);
		t.is(present.stderr, `pdi: ${program}: built for ${arch} (64-bit), but this pdi build is for x86_64${advice(arch)}\n`);
	}
});
