import {copyFileSync, mkdirSync, symlinkSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {pdi} from './helpers/cli.js';
import {scratchDirectory} from './helpers/files.js';

/**
 * qemu-user under another name, through a symbolic link (an alias of one's own, as Debian's
 * /usr/libexec/qemu-binfmt/aarch64-binfmt-P is one to qemu-aarch64): the "emulator" is a copy of /bin/true, so that
 * a pdi that let it through would run it and succeed.
 */
function emulatorLinked(emulator: string, link: string): string {
	const directory = scratchDirectory('pdi-arch8-qemu-');
	mkdirSync(path.join(directory, 'bin'));
	copyFileSync('/bin/true', path.join(directory, 'bin', emulator));
	symlinkSync(path.join('bin', emulator), path.join(directory, link));
	return path.join(directory, link);
}

test('pdi run and pdi trace refuse qemu-user reached through a symbolic link of another name, naming the emulator it is', async t => {
	const cases = [
		['qemu-aarch64', 'aarch64-run', 'never those of the aarch64 program it runs: pdi starts programs of its own architecture only; start the aarch64 program by hand under qemu-aarch64 with pdi\'s aarch64 core (docs/launching.md, "Programs of another architecture")'],
		['qemu-i386-static', 'run32', 'never those of the i386 program it runs: pdi starts programs of its own architecture only; start the i386 program by hand under qemu-i386 with pdi\'s i386 core (docs/launching.md, "Programs of another architecture")'],
		['qemu-x86_64', 'emu', 'never those of the x86_64 program it runs: run the x86_64 program without qemu-x86_64'],
	] as const;
	for (const [emulator, link, words] of cases) {
		const program = emulatorLinked(emulator, link);
		for (const command of ['run', 'trace']) {
			const result = await pdi([command, '--', program, './app']);
			t.is(result.code, 2, `${command} ${link}`);
			t.is(result.stderr, `pdi: ${program}: the qemu-user emulator ${emulator}: pdi would instrument the emulator's own calls, ${words}\n`);
		}
	}

	// A link named as the emulator keeps the message of the emulator by its name; a link to another program runs.
	const named = emulatorLinked('qemu-aarch64', 'qemu-aarch64');
	t.regex((await pdi(['run', '--', named, './app'])).stderr, /: the qemu-user emulator: pdi would/);
	const other = emulatorLinked('true', 'qemu-img');
	const tool = await pdi(['run', '--', other]);
	t.is(tool.code, 0, tool.stderr);
});
