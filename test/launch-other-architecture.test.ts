import {execFileSync} from 'node:child_process';
import {copyFileSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {pdi} from './helpers/cli.js';
import {scratchDirectory} from './helpers/files.js';
import {programForMachine} from './helpers/preload.js';

const programFor = (machine: number): string => programForMachine(machine, 'pdi-other-arch-');

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

test('a statically linked aarch64 program is refused for both at once: static, and of another architecture', async t => {
	const directory = scratchDirectory('pdi-other-arch-');
	writeFileSync(path.join(directory, 'main.c'), 'int main(void) { return 0; }\n');
	const program = path.join(directory, 'static-aarch64');
	execFileSync('aarch64-linux-gnu-gcc', ['-static', '-o', program, path.join(directory, 'main.c')]);
	const result = await pdi(['run', '--', program]);
	t.is(result.code, 2);
	// Before, only `statically linked`: rebuilt dynamically, it met the architecture's refusal next.
	t.is(result.stderr, `pdi: ${program}: statically linked; pdi needs a dynamically linked program (LD_PRELOAD has no effect on it), and built for aarch64 (64-bit) where this pdi build is for x86_64: pdi starts programs of its own architecture only; start a dynamically linked build of it by hand under qemu-aarch64 with pdi's aarch64 core (docs/launching.md, "Programs of another architecture")\n`);
});

test('pdi run refuses a program of an architecture pdi has no core for (riscv64, arm, mips, ppc64, s390x, loongarch64, an unknown one) saying which it supports', async t => {
	for (const [machine, name] of [[243, 'riscv64'], [40, 'arm'], [8, 'mips'], [21, 'ppc64'], [22, 's390x'], [258, 'loongarch64'], [0x12_34, 'machine 4660']] as const) {
		const program = programFor(machine);
		const result = await pdi(['run', '--', program]);
		t.is(result.code, 2, name);
		t.is(result.stderr, `pdi: ${program}: built for ${name} (64-bit), but this pdi build is for x86_64: pdi supports x86_64, aarch64 and i386 programs only\n`);
	}
});

/** A copy of the host's `true` under `name` (qemu-user is recognised by its name). */
function programNamed(name: string): string {
	const program = path.join(scratchDirectory('pdi-other-arch-'), name);
	copyFileSync('/bin/true', program);
	return program;
}

test('pdi run and pdi trace refuse qemu-user as the program, whose own calls they would instrument, and say how to start its program', async t => {
	const cases = [
		['qemu-aarch64', `never those of the aarch64 program it runs${qemuAdvice('aarch64').replace('this one', 'the aarch64 program')}`],
		['qemu-i386-static', `never those of the i386 program it runs${qemuAdvice('i386').replace('this one', 'the i386 program')}`],
		['qemu-arm', 'never those of the arm program it runs: pdi supports x86_64, aarch64 and i386 programs only'],
		['qemu-x86_64', 'never those of the x86_64 program it runs: run the x86_64 program without qemu-x86_64'],
	] as const;
	for (const [name, words] of cases) {
		const program = programNamed(name);
		for (const command of ['run', 'trace']) {
			const result = await pdi([command, '--', program, './app']);
			t.is(result.code, 2, `${command} ${name}`);
			t.is(result.stderr, `pdi: ${program}: the qemu-user emulator: pdi would instrument the emulator's own calls, ${words}\n`);
		}
	}

	// qemu's other tools are programs like any other.
	const tool = await pdi(['run', '--', programNamed('qemu-img')]);
	t.is(tool.code, 0, tool.stderr);
});
