// A process whose main thread called pthread_exit runs on in its other threads, while /proc shows the main thread as a
// zombie, /proc/PID/exe as unreadable and /proc/PID/maps as empty: pdi attaches to it all the same (docs/attach.md).
import {spawn} from 'node:child_process';
import {readFileSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {pdi} from './helpers/cli.js';
import {compileC, scratchDirectory} from './helpers/files.js';

const directory = scratchDirectory('pdi-attach-main-ended-');
const program = compileC(directory, 'mainends', `
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>
static void *work(void *unused) {
  (void)unused;
  for (;;) {
    if (write(1, "x", 1) < 0)
      perror("write");
    usleep(20000);
  }
}
int main(void) {
  pthread_t thread;
  pthread_create(&thread, NULL, work, NULL);
  pthread_exit(NULL);
}
`, ['-O2', '-pthread']);

test('pdi attach makes the write of a process whose main thread ended fail, and its counts see the calls', async t => {
	const child = spawn(program, [], {stdio: ['ignore', 'ignore', 'pipe']});
	t.teardown(() => child.kill('SIGKILL'));
	let stderr = '';
	child.stderr?.on('data', (data: Buffer) => {
		stderr += data.toString();
	});
	const pid = child.pid!;
	while (!/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'))) {
		await new Promise(resolve => setTimeout(resolve, 10));
	}

	const config = path.join(directory, 'eio.yaml');
	writeFileSync(config, 'rules:\n  - act: {object: $main, function: write, do: {return: -1, errno: EIO}}\n');
	// Before: 'process PID has ended (a zombie that its parent has not reaped yet): there is nothing to attach to'.
	const result = await pdi(['attach', String(pid), '-c', config, '-v', '--detach-after', '0.5']);
	t.is(result.code, 0, result.stderr);
	const counts = /act \$main write: (\d+) call\(s\) seen, (\d+) fired/.exec(result.stderr);
	t.truthy(counts, result.stderr);
	t.true(Number(counts?.[1]) > 0, result.stderr);
	t.is(counts?.[1], counts?.[2]);
	t.regex(stderr, /^write: Input\/output error$/m);
});
