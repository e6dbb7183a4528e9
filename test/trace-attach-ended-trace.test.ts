// A pdi trace killed without detaching leaves its trace in the program, inert, and a process takes one trace at a
// time: pdi trace -p then says that the trace it met has ended, and whose it was (was: "its calls are in that
// trace", of a trace that no longer had a reader).
import {spawn} from 'node:child_process';
import {readFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {cliPath, pdi} from './helpers/cli.js';
import {compileC, scratchDirectory} from './helpers/files.js';
import {until} from './helpers/until.js';

const scratch = scratchDirectory('pdi trace ended trace ');
const looping = compileC(scratch, 'looping', `#include <string.h>
#include <unistd.h>
int main(void) {
  const char *volatile text = "x";
  for (int i = 0; i < 3000; i++) {
    if (strlen(text) != 1)
      return 1;
    usleep(10000);
  }
  return 0;
}
`);

test('pdi trace -p of a process whose pdi trace was killed says that trace has ended and names its reader', async t => {
	const output = path.join(scratch, 'first.txt');
	const first = spawn(process.execPath, [cliPath, 'trace', '-o', output, '--', looping], {stdio: 'ignore'});
	t.teardown(() => first.kill('SIGKILL'));
	t.true(await until(() => readFileSync(output, {encoding: 'utf8', flag: 'a+'}).includes('strlen'), 20_000));
	const program = Number(readFileSync(output, 'utf8').split(' ', 1)[0]);
	t.teardown(() => {
		try {
			process.kill(program, 'SIGKILL');
		} catch {}
	});
	first.kill('SIGKILL');
	await new Promise(resolve => first.once('exit', resolve));
	const again = await pdi(['trace', '-p', String(program), '-e', 'strlen']);
	t.is(again.code, 2, again.stderr);
	t.is(again.stderr, `pdi: process ${program} keeps the trace of a pdi trace that has ended (process ${first.pid}, its reader, is gone): a trace that ends without detaching stays in the process, inert, and a process takes one trace at a time; nothing was changed in it: restart it to trace it again\n`);
});
