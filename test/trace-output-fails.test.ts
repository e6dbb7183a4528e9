// A trace whose output takes no more (a full disk) was said only when the program ended, or with -p at Ctrl-C: a
// long-running program ran on while every line was lost, and nothing said so. It is now said at once; -p detaches then.
import {spawn} from 'node:child_process';
import test from 'ava';
import {startPdi} from './helpers/cli.js';
import {compileC, scratchDirectory} from './helpers/files.js';
import {until} from './helpers/until.js';

const scratch = scratchDirectory('pdi-trace-output-fails-');
const busy = compileC(scratch, 'busy', `#include <string.h>
#include <unistd.h>
int main(int argc, char **argv) {
  const char *volatile text = "hello world";
  volatile size_t total = 0;
  for (int round = 0; argc < 2 || round < 600; round++) {
    total += strlen(text);
    usleep(10000);
  }
  return 0;
}
`);

test('pdi trace -o /dev/full says the failed write while the program still runs, once, and ends with status 2', async t => {
	// About 6 s of calls (on a loaded machine, longer): the line must come long before the end.
	const run = startPdi(['trace', '-e', 'strlen', '-o', '/dev/full', '--', busy, 'finite']);
	let ended = false;
	void run.exited.then(() => {
		ended = true;
	});
	const said = await until(() => run.stderr().includes('writing /dev/full failed'), 4000);
	t.true(said && !ended, `said at once: ${run.stderr()}`);
	t.is(await run.exited, 2);
	t.is(run.stderr(), 'pdi: trace: writing /dev/full failed: no space left on device\n');
});

test('pdi trace -p -o /dev/full detaches as soon as a write fails, says why, ends with status 2 and leaves the process running', async t => {
	const target = spawn(busy, [], {stdio: 'ignore'});
	t.teardown(() => target.kill('SIGKILL'));
	await new Promise(resolve => setTimeout(resolve, 200));
	const run = startPdi(['trace', '-p', String(target.pid), '-e', 'strlen', '-o', '/dev/full']);
	t.teardown(() => run.child.kill('SIGKILL'));
	// Before, only the interrupt ended it (and said the failure then).
	let interrupted = false;
	const timer = setTimeout(() => {
		interrupted = true;
		run.child.kill('SIGINT');
	}, 10_000);
	t.is(await run.exited, 2, run.stderr());
	clearTimeout(timer);
	t.false(interrupted);
	t.is(run.stderr(), `pdi: tracing process ${target.pid}; Ctrl-C or SIGTERM detaches\npdi: trace: writing /dev/full failed: no space left on device\npdi: detached from process ${target.pid}\n`);
	t.is(target.exitCode, null);
	t.is(target.signalCode, null);
});
