import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {pdi} from './helpers/cli.js';
import {compileC, scratchDirectory} from './helpers/files.js';

// A report file named relatively (PDI_COUNT_OUTPUT=counts.txt) means the directory the program started in, for
// every process of it: before, a descendant that changed directory before its exec wrote a file of its own there.
const scratch = scratchDirectory('pdi-report-paths-');
const pidProgram = compileC(scratch, 'pid', '#include <stdio.h>\n#include <unistd.h>\nint main(void) { printf("pid %d\\n", (int)getpid()); return 0; }\n');

/** A directory with a `sub` directory and `config.cfg` holding `rules`. */
function workDirectory(name: string, rules: string): string {
	const directory = path.join(scratch, name);
	mkdirSync(path.join(directory, 'sub'), {recursive: true});
	writeFileSync(path.join(directory, 'config.cfg'), rules);
	return directory;
}

const twoRunsInSub = ['sh', '-c', `cd sub && ${pidProgram} && ${pidProgram}`];

test('a relative PDI_COUNT_OUTPUT collects the counts of processes that changed directory in the file where the program started', async t => {
	const directory = workDirectory('count', 'backend count = count\nrelink */pid getpid count count_getpid\n');
	const result = await pdi(['run', '-c', 'config.cfg', '--', ...twoRunsInSub], {cwd: directory, env: {...process.env, PDI_COUNT_OUTPUT: 'counts.txt'}});
	t.is(result.code, 0, result.stderr);
	t.is(readFileSync(path.join(directory, 'counts.txt'), 'utf8'), 'pdi-count: getpid 1\npdi-count: getpid 1\n');
	t.false(existsSync(path.join(directory, 'sub', 'counts.txt')));
});

test('a relative PDI_TRACE_OUTPUT of the trace backend alone, following children, gets the lines of processes that changed directory', async t => {
	const directory = workDirectory('trace', 'backend t = trace\ncallback */pid * t\n');
	const env = {...process.env, PDI_TRACE_OUTPUT: 'trace.txt', PDI_TRACE_FOLLOW: '1', PDI_TRACE_FUNCTIONS: 'getpid'};
	const result = await pdi(['run', '-c', 'config.cfg', '--', ...twoRunsInSub], {cwd: directory, env});
	t.is(result.code, 0, result.stderr);
	const lines = readFileSync(path.join(directory, 'trace.txt'), 'utf8').split('\n').filter(line => line.includes('pid!getpid()'));
	t.is(lines.length, 2, lines.join('\n'));
	t.false(existsSync(path.join(directory, 'sub', 'trace.txt')));
});
