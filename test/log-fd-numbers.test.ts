import {execFileSync} from 'node:child_process';
import {writeFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {pdi} from './helpers/cli.js';
import {compileC, scratchDirectory} from './helpers/files.js';

// The core's copy of stderr for its warnings at exit sat at the lowest free descriptor from 10 up: the program's own
// eighth file got 11 instead of 10, and a program that dup2()s its file onto 10 had pdi's warning written into it.
// It now sits near the descriptor limit, as the log file and the backends' files do (kept-fd.h).
const scratch = scratchDirectory('pdi log fd numbers ');
const opens = compileC(scratch, 'opens', `#include <fcntl.h>
#include <stdio.h>
int main(void) {
	for (int i = 0; i < 12; i++)
		printf("%d ", open("/dev/null", O_RDONLY));
	printf("\\n");
	return 0;
}
`);
const ontoTen = compileC(scratch, 'onto-ten', `#include <fcntl.h>
#include <string.h>
#include <unistd.h>
int main(int argc, char **argv) {
	(void)argc;
	int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	for (int n = 10; n <= 12; n++)
		dup2(fd, n);
	dup2(fd, 3);
	return write(10, "program data\\n", 13) == 13 ? 0 : 1;
}
`);

test('a program under pdi run and pdi trace gets the descriptor numbers it gets bare', async t => {
	const bare = execFileSync(opens, {encoding: 'utf8'});
	t.is(bare, '3 4 5 6 7 8 9 10 11 12 13 14 \n');
	const config = path.join(scratch, 'count.yaml');
	writeFileSync(config, 'backends: [{name: count, library: count}]\nrules:\n  - relink: {object: $main, function: open, backend: count, wrapper: count_open}\n');
	for (const args of [['run', '-c', config, '--', opens], ['trace', '-o', path.join(scratch, 'trace.txt'), '--', opens]]) {
		const run = await pdi(args);
		t.is(run.stdout, bare, `${args[0]}: ${run.stderr}`);
	}
});

test('pdi\'s warning at exit reaches its stderr, not the file a program dup2()s onto descriptor 10', async t => {
	const data = path.join(scratch, 'data.txt');
	// A rule that meets nothing: its warning comes at exit, through the core's copy of stderr.
	const config = path.join(scratch, 'nothing.yaml');
	writeFileSync(config, 'rules:\n  - act: {object: $main, function: opne, do: {count: true}}\n');
	const run = await pdi(['run', '-c', config, '--', ontoTen, data]);
	t.is(run.code, 0, run.stderr);
	t.regex(run.stderr, /act opne: no object matching '\$main' imported it/);
	t.is(execFileSync('cat', [data], {encoding: 'utf8'}), 'program data\n');
});
