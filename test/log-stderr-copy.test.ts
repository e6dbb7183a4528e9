import {execFileSync} from 'node:child_process';
import {writeFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {pdi} from './helpers/cli.js';
import {compileC, scratchDirectory} from './helpers/files.js';

// The core's copy of stderr for its warnings at exit sits at the lowest free descriptor from 10 up: a program that
// dup2()s its own file onto it replaces it, and pdi's warning must still reach pdi's stderr, not that file.
const scratch = scratchDirectory('pdi log fd numbers ');
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
