import {renameSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {pdi} from './helpers/cli.js';
import {compileC, scratchDirectory} from './helpers/files.js';

test('a caller\'s file name with a newline or an escape sequence is shown with \\xHH in pdi trace\'s text lines, so that each line stays whole', async t => {
	// Before: the name went out raw, a newline split the call's line in two and ESC reached the terminal.
	const directory = scratchDirectory('pdi-trace-names-');
	const built = compileC(directory, 'caller', '#include <string.h>\nint main(int argc, char **argv) { return (int)strlen(argv[argc - 1]) == 3 ? 0 : 1; }\n', ['-fno-builtin']);
	const program = path.join(directory, 'we\nird\u001B[31mred');
	renameSync(built, program);
	const traced = await pdi(['trace', '-e', 'strlen', '--', program, 'abc']);
	t.is(traced.code, 0, traced.stderr);
	t.regex(traced.stderr, /^\d+ \d+ {2}we\\x0aird\\x1b\[31mred!strlen\("abc"\) = 3\n/m);
	t.false(traced.stderr.includes('\u001B'));
	const json = await pdi(['trace', '--json', '-e', 'strlen', '--', program, 'abc']);
	t.is((JSON.parse(json.stderr.split('\n').find(line => line.startsWith('{'))!) as {caller: string}).caller, program);
});
