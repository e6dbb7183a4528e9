// The shell that runs pdi sees 139 and prints no "Segmentation fault" of its own: pdi says it. Was a bug: a crash
// under pdi run or pdi trace went by without a word.
import test from 'ava';
import {runProgram} from '../src/ts/index.js';
import {pdi} from './helpers/cli.js';
import {compileC, scratchDirectory} from './helpers/files.js';

const scratch = scratchDirectory('pdi-killed-by-signal-');
const crasher = compileC(scratch, 'crasher', `#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(int argc, char **argv) {
  puts("before");
  fflush(stdout);
  if (strcmp(argv[1], "segv") == 0) raise(SIGSEGV);
  if (strcmp(argv[1], "abort") == 0) abort();
  if (strcmp(argv[1], "int") == 0) raise(SIGINT);
  if (strcmp(argv[1], "pipe") == 0) raise(SIGPIPE);
  return atoi(argv[1]);
}
`);

for (const command of ['run', 'trace'] as const) {
	const args = (how: string) => command === 'run' ? ['run', '--', crasher, how] : ['trace', '-e', 'puts', '-o', '/dev/null', '--', crasher, how];

	test(`pdi ${command} says which signal killed the program, after its output, and exits 128+N`, async t => {
		const segv = await pdi(args('segv'));
		t.is(segv.code, 139);
		t.is(segv.stdout, 'before\n');
		t.regex(segv.stderr, new RegExp(`(?:^|\\n)pdi: ${crasher} was killed by SIGSEGV\\n$`));
		const aborted = await pdi(args('abort'));
		t.is(aborted.code, 134);
		t.regex(aborted.stderr, new RegExp(`(?:^|\\n)pdi: ${crasher} was killed by SIGABRT\\n$`));
	});

	test(`pdi ${command} says nothing of SIGINT and SIGPIPE, as a shell, nor of an exit status above 128`, async t => {
		for (const [how, status] of [['int', 130], ['pipe', 141], ['139', 139]] as const) {
			const result = await pdi(args(how));
			t.is(result.code, status, how);
			t.notRegex(result.stderr, /was killed by/, how);
		}
	});
}

test('runProgram() gives the signal that ended the program beside its status, and no signal for an exit', async t => {
	const crashed = await runProgram(crasher, ['segv'], {stdio: 'ignore'});
	t.like(crashed, {status: 139, signal: 'SIGSEGV'});
	const exited = await runProgram(crasher, ['139'], {stdio: 'ignore'});
	t.is(exited.status, 139);
	t.false('signal' in exited);
});
