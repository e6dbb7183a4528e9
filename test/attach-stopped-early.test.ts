// A process stopped before its C library was mapped (a debugger's PTRACE_TRACEME child stopped at its exec) is
// refused as stopped, with how to continue it, not as a program without glibc (docs/attach.md, "Refusals").
import {spawn} from 'node:child_process';
import {readFileSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {pdi} from './helpers/cli.js';
import {compileC, scratchDirectory} from './helpers/files.js';

const directory = scratchDirectory('pdi-attach-stopped-');
const launcher = compileC(directory, 'stopexec', `
#include <signal.h>
#include <stdio.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>
int main(int argc, char **argv) {
  (void)argc;
  pid_t child = fork();
  if (child == 0) {
    ptrace(PTRACE_TRACEME, 0, 0, 0);
    execvp(argv[1], argv + 1);
    _exit(127);
  }
  int status;
  waitpid(child, &status, 0);
  ptrace(PTRACE_DETACH, child, 0, (void *)SIGSTOP);
  printf("%d\\n", child);
  fflush(stdout);
  pause();
  return 0;
}
`);

const config = path.join(directory, 'count.yaml');
writeFileSync(config, 'rules:\n  - act: {object: $main, function: write, do: {count: true}}\n');

test('pdi attach and pdi trace -p tell to continue a process stopped before its C library was mapped', async t => {
	const launched = spawn(launcher, ['sleep', '100'], {stdio: ['ignore', 'pipe', 'inherit']});
	const pid = Number(await new Promise<string>(resolve => {
		launched.stdout.once('data', (data: Buffer) => {
			resolve(data.toString());
		});
	}));
	t.teardown(() => {
		process.kill(pid, 'SIGKILL');
		launched.kill('SIGKILL');
	});
	// The SIGSTOP the launcher's detach sends lands a little later.
	const stopped = () => /^State:\s+T/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
	for (let tries = 0; tries < 500 && !stopped(); tries++) {
		await new Promise(resolve => setTimeout(resolve, 10));
	}

	t.true(stopped());
	const expected = `pdi: process ${pid} is stopped before its C library was mapped: continue it first (kill -CONT ${pid}, or fg in its shell)\n`;
	for (const args of [['attach', String(pid), '-c', config], ['trace', '-p', String(pid)]]) {
		const result = await pdi(args);
		t.is(result.code, 2);
		t.is(result.stderr, expected);
	}
});
