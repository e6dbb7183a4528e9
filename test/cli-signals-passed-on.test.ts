// Signals sent to the pdi command besides SIGINT, SIGTERM and SIGHUP: SIGQUIT, SIGUSR1, SIGUSR2 and SIGALRM reach the
// program it runs, as through sudo (nginx reopens its logs on SIGUSR1, stops gracefully on SIGQUIT). Before, SIGUSR1
// opened Node's debugger on 127.0.0.1:9229 (anyone on the machine could run code as pdi's user) and the program never
// got it; the others ended pdi at once, leaving the program running without it and pdi's files in TMPDIR.
import {spawn} from 'node:child_process';
import path from 'node:path';
import test from 'ava';
import {attachedReport} from '../src/ts/attach/attach.js';
import {cliPath, collectOutput} from './helpers/cli.js';
import {compileC, scratchDirectory, temporaryEntries, writeFiles} from './helpers/files.js';
import {countConfig, startFixture} from './helpers/attach-fixture.js';
import {until} from './helpers/until.js';

const scratch = scratchDirectory('pdi-signals-passed-on-');
const catcher = compileC(scratch, 'catcher', `#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
static volatile sig_atomic_t last;
static void note(int signal) { last = signal; }
int main(void) {
  int signals[] = {SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM};
  for (int i = 0; i < 4; i++) signal(signals[i], note);
  setvbuf(stdout, NULL, _IONBF, 0);
  puts("ready");
  for (;;) {
    pause();
    printf("got %s\\n", sigabbrev_np(last));
    if (last == SIGQUIT) return 7;
  }
}
`);

test('SIGUSR1, SIGUSR2 and SIGALRM sent to pdi run reach the program, SIGQUIT too, and pdi ends with the program\'s status; no debugger opens', async t => {
	const temporary = scratchDirectory('pdi-signals-tmp-');
	const child = spawn(process.execPath, [cliPath, 'run', '--', catcher], {env: {...process.env, TMPDIR: temporary}, stdio: ['ignore', 'pipe', 'pipe']});
	const output = collectOutput(child);
	await until(() => output.stdout().includes('ready'), 10_000);
	for (const signal of ['SIGUSR1', 'SIGUSR2', 'SIGALRM'] as const) {
		child.kill(signal);
		const name = signal.slice(3);
		await until(() => output.stdout().includes(`got ${name}\n`), 10_000);
		t.true(output.stdout().includes(`got ${name}\n`), `${signal}: ${output.stdout()}`);
	}

	child.kill('SIGQUIT');
	t.is(await output.closed, 7, output.stderr());
	t.is(output.stdout(), 'ready\ngot USR1\ngot USR2\ngot ALRM\ngot QUIT\n');
	t.notRegex(output.stderr(), /Debugger listening/);
	t.deepEqual(temporaryEntries(temporary), []);
});

test('SIGUSR1 to pdi attach ends it with 138, without a debugger, and the process it attached to is detached', async t => {
	const fixture = await startFixture(t);
	const own = (await attachedReport(fixture.pid, '$main')).objects.find(object => object.main)?.imports?.find(slot => slot.symbol === 'write')?.target?.name;
	const config = path.join(writeFiles({'count.yaml': JSON.stringify(countConfig)}), 'count.yaml');
	const attaching = spawn(process.execPath, [cliPath, 'attach', String(fixture.pid), '-c', config], {env: {...process.env, PDI_COUNT_OUTPUT: '/dev/null'}, stdio: ['ignore', 'pipe', 'pipe']});
	const output = collectOutput(attaching);
	await until(() => output.stderr().includes('attached to process'), 10_000);
	attaching.kill('SIGUSR1');
	t.is(await output.closed, 138, output.stderr());
	t.notRegex(output.stderr(), /Debugger listening/);
	const now = (await attachedReport(fixture.pid, '$main')).objects.find(object => object.main)?.imports?.find(slot => slot.symbol === 'write')?.target?.name;
	t.is(now, own, 'detached as pdi ended');
	const end = await fixture.finish();
	t.is(end.code, 0, end.stderr);
});
