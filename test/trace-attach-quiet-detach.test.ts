// pdi trace -p --object '*' traces the C library's own imports, where the loader's calls of a dlopen show: a detach
// finds pdi_attach_close in the core's mapping instead of calling dlopen and dlsym in the process, so the trace holds
// the program's calls only. Was known and documented: two or four `_dl_catch_exception` lines at the end.
import {spawn} from 'node:child_process';
import {readFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {startPdi} from './helpers/cli.js';
import {compileC, scratchDirectory} from './helpers/files.js';
import {until} from './helpers/until.js';

const scratch = scratchDirectory('pdi trace quiet detach ');
const looping = compileC(scratch, 'looping', `#include <stdio.h>
#include <string.h>
#include <unistd.h>
int main(void) {
  char text[32];
  for (int i = 0; i < 3000; i++) {
    snprintf(text, sizeof text, "%d", i);
    if (strlen(text) > 20)
      return 1;
    usleep(10000);
  }
  return 0;
}
`);

test('a detach from pdi trace -p --object \'*\' leaves no call of its own in the trace, and a second attach and detach work the same', async t => {
	const target = spawn(looping, [], {stdio: 'ignore'});
	t.teardown(() => target.kill('SIGKILL'));
	await new Promise(resolve => setTimeout(resolve, 100));
	for (let round = 0; round < 2; round++) {
		const output = path.join(scratch, `trace ${round}.txt`);
		const run = startPdi(['trace', '-p', String(target.pid), '--object', '*', '-o', output]);
		t.teardown(() => run.child.kill('SIGKILL'));
		t.true(await until(() => readFileSync(output, {encoding: 'utf8', flag: 'a+'}).split('\n').length > 30, 20_000), run.stderr());
		run.child.kill('SIGINT');
		t.is(await run.exited, 0, run.stderr());
		const lines = readFileSync(output, 'utf8').trimEnd().split('\n');
		const foreign = lines.filter(line => !/ looping!(?:snprintf|strlen|usleep)\(/.test(line) && !/ libc\.so\.6!/.test(line));
		t.deepEqual(foreign, [], `calls that are not the program's: ${foreign.slice(0, 5).join('\n')}`);
		t.false(lines.some(line => /_dl_catch_exception|dlopen|dlsym/.test(line)), lines.slice(-5).join('\n'));
	}

	t.is(target.exitCode, null, 'the program runs on');
});
