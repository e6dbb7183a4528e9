import {execFileSync} from 'node:child_process';
import {writeFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {pdi} from './helpers/cli.js';
import {scratchDirectory} from './helpers/files.js';

const scratch = scratchDirectory('pdi-inspect-refused-');

test('pdi inspect -c with a config the core refuses at start says the core ended the program, not that the program could not load it', async t => {
	// Two patterns that meet only in the running program: the core finds the conflict per slot and ends it with status 2.
	const config = path.join(scratch, 'overlap.cfg');
	writeFileSync(config, 'backend c = count\nrelink $main malloc c count_malloc\nrelink /usr/bin/cat malloc c count_calloc\n');
	const result = await pdi(['inspect', '-c', config, '--', '/usr/bin/cat', '/dev/null']);
	t.is(result.code, 2);
	t.is(result.stdout, '');
	const lines = result.stderr.trimEnd().split('\n');
	t.regex(lines[0] ?? '', new RegExp(`^pdi: ${config}:3:1: relink malloc: conflicts with the relink at ${config}:2, `));
	t.is(lines[1], 'pdi: /usr/bin/cat exited with status 2 before the report: the pdi core ends a program so when it cannot install the config or write the report (its message is above)');
	t.is(lines.length, 2, result.stderr);
});

test('a program that exits with status 2 before the core\'s constructor is said to have ended before the core ran, a library constructor named first among the causes', async t => {
	// A library's constructor runs before the preloaded core's and ends the process: no report, no config at fault.
	const library = path.join(scratch, 'libquit.so');
	const librarySource = path.join(scratch, 'quit.c');
	writeFileSync(librarySource, '#include <unistd.h>\n__attribute__((constructor)) static void quit(void) { _exit(2); }\nint quit_value(void) { return 0; }\n');
	execFileSync('gcc', ['-shared', '-fPIC', '-o', library, librarySource]);
	const source = path.join(scratch, 'main.c');
	writeFileSync(source, 'int quit_value(void);\nint main(void) { return quit_value(); }\n');
	const program = path.join(scratch, 'quit');
	execFileSync('gcc', ['-o', program, source, library, `-Wl,-rpath,${scratch}`]);
	const config = path.join(scratch, 'fine.cfg');
	writeFileSync(config, 'backend c = count\nrelink $main malloc c count_malloc\n');
	for (const args of [['inspect', '--', program], ['inspect', '-c', config, '--', program]]) {
		const result = await pdi(args);
		t.is(result.code, 2);
		// Before: only the secure-mode and LD_PRELOAD causes, neither of which was this program's.
		t.is(result.stderr, `pdi: ${program} exited with status 2 without a report from the pdi core, which never ran in it (it ended before the core's start, in a constructor of its own or of a library it loads; or the loader runs it in secure mode, or it clears LD_PRELOAD: such programs cannot be inspected)\n`);
	}
});
