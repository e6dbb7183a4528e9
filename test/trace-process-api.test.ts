// traceProcess(): pdi trace -p for TypeScript, its calls as typed events until a detach or the process's end.
import {spawn, type ChildProcess} from 'node:child_process';
import {readFileSync} from 'node:fs';
import test from 'ava';
import {PdiError, traceProcess, type CallEvent} from '../dist/ts/index.js';
import {compileC, scratchDirectory} from './helpers/files.js';
import {until} from './helpers/until.js';

const scratch = scratchDirectory('pdi trace process ');
// Ends after its rounds, or at SIGUSR1 (a test's own end, whatever the machine's load), printing its denied accesses.
const looping = compileC(scratch, 'looping', `#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
static volatile sig_atomic_t stop;
static void on_usr1(int signal) { (void)signal; stop = 1; }
int main(int argc, char **argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 3000;
  signal(SIGUSR1, on_usr1);
  const char *volatile text = "abc";
  int denied = 0;
  for (int i = 0; i < rounds && !stop; i++) {
    if (strlen(text) != 3)
      return 1;
    denied += access("/", F_OK) != 0;
    usleep(10000);
  }
  printf("%d\\n", denied);
  return 0;
}
`);

function start(rounds = 3000): {child: ChildProcess; output: () => string; exited: Promise<number | null>} {
	const child = spawn(looping, [String(rounds)], {stdio: ['ignore', 'pipe', 'inherit']});
	let output = '';
	child.stdout.on('data', (chunk: Buffer) => {
		output += chunk.toString();
	});
	const exited = new Promise<number | null>(resolve => child.once('exit', resolve));
	return {child, output: () => output, exited};
}

/** Whether the process has started its loop (its C library mapped, main running). */
const running = (pid: number) => readFileSync(`/proc/${pid}/maps`, 'utf8').includes('libc.so.6');

test('traceProcess() gives a running program\'s calls as typed events until detach(), and the program runs on; a second trace follows', async t => {
	const program = start();
	t.teardown(() => program.child.kill('SIGKILL'));
	const pid = program.child.pid!;
	t.true(await until(() => running(pid), 10_000));
	for (const round of [1, 2]) {
		const traced = await traceProcess(pid, {functions: ['strlen', 'usleep']});
		t.is(traced.pid, pid);
		const calls: CallEvent[] = [];
		for await (const call of traced.calls) {
			calls.push(call);
			if (calls.length === 10) {
				await traced.detach();
			}
		}

		const result = await traced.done;
		t.is(result.ended, 'detached', `round ${round}`);
		t.true(calls.length >= 10);
		const strlen = calls.find(call => call.function === 'strlen');
		t.like(strlen, {pid, function: 'strlen', args: ['abc'], ret: 3, abandoned: false});
		t.deepEqual(new Set(calls.map(call => call.function)), new Set(['strlen', 'usleep']));
		t.is(result.summary.processes[0]?.pid, pid);
		t.is(result.summary.processes[0]?.calls, calls.length);
		t.deepEqual(result.warnings, []);
		await traced.detach();
	}

	t.is(program.child.exitCode, null);
	process.kill(pid, 0);
});

test('traceProcess() ends with the process, its calls all there, and installs a config\'s act rules with the trace', async t => {
	const program = start();
	t.teardown(() => program.child.kill('SIGKILL'));
	const pid = program.child.pid!;
	t.true(await until(() => running(pid), 10_000));
	const traced = await traceProcess(pid, {functions: 'access', config: {rules: [{act: {function: 'access', do: {return: -1, errno: 'EACCES'}}}]}});
	const calls: CallEvent[] = [];
	for await (const call of traced.calls) {
		calls.push(call);
		if (calls.length === 20) {
			program.child.kill('SIGUSR1');
		}
	}

	const result = await traced.done;
	t.is(result.ended, 'exited');
	t.is(await program.exited, 0);
	const denied = Number(program.output().trim());
	t.true(denied >= 20, program.output());
	t.is(calls.length, denied);
	t.true(calls.every(call => call.ret === -1 && call.errno === 'EACCES'), JSON.stringify(calls[0]));
});

test('aborting traceProcess()\'s signal detaches: the loop over calls and done reject with an AbortError, and the program runs on', async t => {
	const program = start();
	t.teardown(() => program.child.kill('SIGKILL'));
	const pid = program.child.pid!;
	t.true(await until(() => running(pid), 10_000));
	const controller = new AbortController();
	const traced = await traceProcess(pid, {functions: 'strlen', signal: controller.signal});
	let seen = 0;
	const error = await t.throwsAsync(async () => {
		for await (const call of traced.calls) {
			seen += call.function === 'strlen' ? 1 : 0;
			if (seen === 3) {
				controller.abort();
			}
		}
	});
	t.is(error?.name, 'AbortError');
	// As Node's own (trace(), runProgram()): its constructor's name and code too (was a plain Error).
	t.is(error?.constructor.name, 'AbortError');
	t.is((error as NodeJS.ErrnoException | undefined)?.code, 'ABORT_ERR');
	t.true(seen >= 3);
	await t.throwsAsync(traced.done, {name: 'AbortError'});
	await traced.detach();
	process.kill(pid, 0);
	// Detached: a new trace may begin.
	const again = await traceProcess(pid, {functions: 'strlen'});
	await again.detach();
	t.is((await again.done).ended, 'detached');
});

test('traceProcess() refuses follow, unknown options, a process that does not exist and its own process, in one line, before attaching', async t => {
	await t.throwsAsync(traceProcess(process.pid, {follow: true}), {instanceOf: PdiError, message: /^follow: an attached process is traced alone/});
	await t.throwsAsync(traceProcess(process.pid, {stdio: 'pipe'} as never), {instanceOf: PdiError, message: /^unknown option 'stdio'/});
	const missing = Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8').trim());
	await t.throwsAsync(traceProcess(missing), {instanceOf: PdiError, message: `no such process: ${missing}`});
	await t.throwsAsync(traceProcess(process.pid), {instanceOf: PdiError, message: /cannot attach to the process it runs in/});
});

test('a detach() that a stopped process refused can be called again once it runs, and then removes the trace and its act rules', async t => {
	// Before: the first failure was final, and the act rule stayed in the process until Node exited.
	const program = start();
	t.teardown(() => program.child.kill('SIGKILL'));
	const pid = program.child.pid!;
	t.true(await until(() => running(pid), 10_000));
	const traced = await traceProcess(pid, {functions: 'access', config: {rules: [{act: {function: 'access', do: {return: -1, errno: 'EACCES'}}}]}});
	process.kill(pid, 'SIGSTOP');
	t.true(await until(() => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.startsWith('T'), 5000));
	await t.throwsAsync(traced.detach(), {instanceOf: PdiError, message: /is stopped/});
	process.kill(pid, 'SIGCONT');
	await traced.detach();
	t.is((await traced.done).ended, 'detached');
	// Detached, the act rule is gone: a trace without it sees access succeed.
	const after = await traceProcess(pid, {functions: 'access'});
	const calls: CallEvent[] = [];
	for await (const call of after.calls) {
		calls.push(call);
		if (calls.length === 3) {
			await after.detach();
		}
	}

	t.true(calls.length >= 3 && calls.every(call => call.ret === 0), JSON.stringify(calls));
	program.child.kill('SIGUSR1');
	t.is(await program.exited, 0);
});

test('an abort while traceProcess() attaches rejects it with an AbortError and leaves nothing in the process; NaN is no pid', async t => {
	const program = start();
	t.teardown(() => program.child.kill('SIGKILL'));
	const pid = program.child.pid!;
	t.true(await until(() => running(pid), 10_000));
	const controller = new AbortController();
	setTimeout(() => {
		controller.abort();
	}, 20);
	await t.throwsAsync(traceProcess(pid, {functions: 'strlen', signal: controller.signal}), {name: 'AbortError'});
	const again = await traceProcess(pid, {functions: 'strlen'});
	await again.detach();
	t.is((await again.done).ended, 'detached');
	await t.throwsAsync(traceProcess(Number.NaN), {instanceOf: PdiError, message: 'pid: expected a process id (an integer from 1 to 2147483647), got NaN'});
});
