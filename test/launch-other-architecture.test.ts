import {copyFileSync, openSync, writeSync, closeSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {pdi} from './helpers/cli.js';
import {scratchDirectory} from './helpers/files.js';
import {fixtures} from './helpers/preload.js';

/** A copy of a host fixture program whose ELF header names another machine (e_machine, at byte 18). */
function programFor(machine: number): string {
	const program = path.join(scratchDirectory('pdi-other-arch-'), 'app');
	copyFileSync(path.join(fixtures, 'now-pie/fixprog'), program);
	const descriptor = openSync(program, 'r+');
	writeSync(descriptor, Buffer.from([machine & 0xff, machine >> 8]), 0, 2, 18);
	closeSync(descriptor);
	return program;
}

const qemuAdvice = (arch: string): string => `: pdi starts programs of its own architecture only; start this one by hand under qemu-${arch} with pdi's ${arch} core (docs/launching.md, "Programs of another architecture")`;

test('pdi run, trace, inspect and comux run refuse an aarch64 program in one line that says to start it under qemu-aarch64 with the aarch64 core', async t => {
	const program = programFor(183);
	const commands = [['run', '--'], ['trace', '--'], ['inspect', '--'], ['comux', 'run', '/dev/null', '--']];
	for (const command of commands) {
		const result = await pdi([...command, program]);
		t.is(result.code, 2, command.join(' '));
		t.is(result.stderr, `pdi: ${program}: built for aarch64 (64-bit), but this pdi build is for x86_64${qemuAdvice('aarch64')}\n`, command.join(' '));
		t.is(result.stdout, '');
	}
});

test('pdi run refuses a program of an architecture pdi has no core for (riscv64, arm, mips) saying which it supports', async t => {
	for (const [machine, name] of [[243, 'riscv64'], [40, 'arm'], [8, 'machine 8']] as const) {
		const program = programFor(machine);
		const result = await pdi(['run', '--', program]);
		t.is(result.code, 2, name);
		t.is(result.stderr, `pdi: ${program}: built for ${name} (64-bit), but this pdi build is for x86_64: pdi supports x86_64, aarch64 and i386 programs only\n`);
	}
});
