import {copyFileSync, symlinkSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {pdi} from './helpers/cli.js';
import {writeFiles} from './helpers/files.js';
import {programForMachine} from './helpers/preload.js';

const programFor = (machine: number): string => programForMachine(machine, 'pdi-arch8-missing-');

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
