// A thread blocked in a system call while it holds malloc's lock (malloc_stats writing to a full pipe): an injected
// dlopen on it would wait for that lock forever. pdi borrows another thread, and when it must take that one, it gives
// the call up and puts the thread back instead of hanging (docs/attach.md).
import {execFileSync, spawn} from 'node:child_process';
import {closeSync, constants, openSync, readFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {attach} from '../src/ts/attach/attach.js';
import {PdiError} from '../src/ts/errors.js';
import {compileC, scratchDirectory} from './helpers/files.js';

const directory = scratchDirectory('pdi-attach-lock-');
const program = compileC(directory, 'mallocstats', `
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
static void *idle(void *unused) { (void)unused; for (;;) pause(); }
int main(void) {
  pthread_t thread;
  pthread_create(&thread, NULL, idle, NULL);
  free(malloc(100));
  /* stderr is a pipe nobody reads: fill it, then malloc_stats blocks in its write with the arena locked. */
  static char junk[4096];
  fcntl(2, F_SETFL, O_NONBLOCK);
  while (write(2, junk, sizeof junk) > 0) {}
  fcntl(2, F_SETFL, 0);
  printf("ready\\n");
  fflush(stdout);
  malloc_stats();
  return 0;
}
`, ['-O2', '-pthread']);

const config = {rules: [{act: {object: '$main', function: 'write', do: {count: true}}}]} as const;

/** Starts the program with its stderr on a FIFO that is open for reading and never read; resolves once it is blocked in malloc_stats. */
async function startBlocked(name: string) {
	const fifo = path.join(directory, name);
	execFileSync('mkfifo', [fifo]);
	const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
	const writer = openSync(fifo, constants.O_WRONLY);
	const child = spawn(program, [], {stdio: ['ignore', 'pipe', writer]});
	closeSync(writer);
	const {stdout} = child;
	if (stdout === null) {
		throw new Error('no stdout pipe');
	}

	await new Promise<void>(resolve => {
		stdout.once('data', () => {
			resolve();
		});
	});
	const pid = child.pid!;
	// The main thread sits in write (system call 1) inside malloc_stats.
	for (let tries = 0; tries < 200 && !readFileSync(`/proc/${pid}/task/${pid}/syscall`, 'utf8').startsWith('1 '); tries++) {
		await new Promise(resolve => setTimeout(resolve, 10));
	}

	return {
		pid,
		syscall: () => readFileSync(`/proc/${pid}/task/${pid}/syscall`, 'utf8').split(' ')[0],
		tracer: () => /^TracerPid:\s*(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1],
		stop: () => {
			child.kill('SIGKILL');
			closeSync(reader);
		},
	};
}

test.serial('pdi borrows the thread that holds no lock, not the one blocked inside malloc_stats, and attaches', async t => {
	const target = await startBlocked('free.fifo');
	t.teardown(target.stop);
	const attached = await attach(target.pid, config);
	await attached.detach();
	t.is(target.syscall(), '1', 'the main thread is still in its write');
	t.is(target.tracer(), '0');
});

test.serial('made to borrow the thread inside malloc_stats, pdi gives the call up after its deadlock limit and puts the thread back', async t => {
	const target = await startBlocked('held.fifo');
	t.teardown(target.stop);
	process.env['PDI_INJECT_STUCK_MS'] = '1000';
	const error = await t.throwsAsync(attach(target.pid, config, {thread: target.pid}), {instanceOf: PdiError});
	delete process.env['PDI_INJECT_STUCK_MS'];
	t.regex(error?.message ?? '', new RegExp(`^the call into process ${target.pid} did not return: thread ${target.pid} waited \\d+ ms for a lock that it most likely holds itself`));
	t.is(target.syscall(), '1', 'the main thread is back in its write');
	t.is(target.tracer(), '0');
});
