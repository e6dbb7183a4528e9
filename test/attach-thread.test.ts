// attach()'s `thread` option: the thread pdi borrows is the one whose tracer counts (docs/attach.md).
import {spawn} from 'node:child_process';
import {readFileSync} from 'node:fs';
import test from 'ava';
import {attach} from '../src/ts/attach/attach.js';
import {PdiError} from '../src/ts/errors.js';
import {delay, startFixture, stopOnTeardown} from './helpers/attach-fixture.js';

function tracerOf(pid: number, thread: number): number {
	return Number(/^TracerPid:\s*(\d+)/m.exec(readFileSync(`/proc/${pid}/task/${thread}/status`, 'utf8'))?.[1] ?? 0);
}

test.serial('attaching with a thread that strace -p traces (that thread alone) names that thread and its tracer', async t => {
	const fixture = await startFixture(t);
	const thread = fixture.threads.get('worker')![0]!;
	const strace = spawn('strace', ['-o', '/dev/null', '-p', String(thread)], {stdio: 'ignore'});
	stopOnTeardown(t, strace);
	while (tracerOf(fixture.pid, thread) === 0) {
		await delay(20);
	}

	t.is(tracerOf(fixture.pid, fixture.pid), 0, 'the main thread is not traced');
	const config = {rules: [{act: {object: '$main', function: 'write', do: {count: true}}}]} as const;
	// Before: 'the kernel does not permit tracing it (a setuid or otherwise non-dumpable program, ...)': the tracer
	// was looked for on the main thread only.
	const error = await t.throwsAsync(attach(fixture.pid, config, {thread}), {instanceOf: PdiError});
	t.is(error?.message, `cannot attach to process ${fixture.pid}: its thread ${thread} is already traced by process ${strace.pid} (strace), and a thread can have only one tracer (a debugger, strace, another pdi attach)`);
	// Another thread of the same process is free to borrow.
	const attached = await attach(fixture.pid, config, {thread: fixture.threads.get('main')![0]!});
	await attached.detach();
	strace.kill('SIGINT');
	t.is((await fixture.finish()).code, 0);
});
