// pdi trace -p writes "tracing process N" through Node's stderr first, and Node makes a pipe it writes to
// non-blocking: the trace writer then took the first full pipe (EAGAIN) as a write failure, ended with status 2 and
// dropped the rest (`pdi trace -p PID 2>&1 | less`). It now waits, as any writer does (docs/trace.md).
import {spawn} from 'node:child_process';
import test from 'ava';
import {cliPath} from './helpers/cli.js';
import {compileC, scratchDirectory} from './helpers/files.js';

const scratch = scratchDirectory('pdi-trace-slow-output-');
const busy = compileC(scratch, 'busy', `#include <string.h>
#include <unistd.h>
int main(void) {
  const char *volatile text = "hello world";
  volatile size_t total = 0;
  for (;;) {
    for (int i = 0; i < 200; i++) total += strlen(text);
    usleep(1000);
  }
}
`);

test('pdi trace -p into a pipe that its reader leaves full for a while waits for it, and loses no line', async t => {
	const target = spawn(busy, [], {stdio: 'ignore'});
	t.teardown(() => target.kill('SIGKILL'));
	await new Promise(resolve => setTimeout(resolve, 200));
	const tracer = spawn(process.execPath, [cliPath, 'trace', '-p', String(target.pid), '-e', 'strlen'], {stdio: ['ignore', 'ignore', 'pipe']});
	t.teardown(() => tracer.kill('SIGKILL'));
	// Unread for 2 s: 64 KiB of lines fill the pipe in a fraction of that.
	tracer.stderr.pause();
	await new Promise(resolve => setTimeout(resolve, 2000));
	let stderr = '';
	tracer.stderr.setEncoding('utf8').on('data', (chunk: string) => {
		stderr += chunk;
	});
	tracer.stderr.resume();
	await new Promise(resolve => setTimeout(resolve, 500));
	tracer.kill('SIGINT');
	const status = await new Promise<number | null>(resolve => tracer.on('close', resolve));
	t.notRegex(stderr, /failed/);
	t.is(status, 0, stderr.slice(-500));
	const lines = stderr.split('\n').filter(line => line.includes('strlen("hello world") = 11'));
	t.true(lines.length > 2000, `${lines.length} lines: ${stderr.slice(0, 800)}`);
	t.regex(stderr, /^pdi: detached from process \d+$/m);
});
