import test from 'ava';
import {trace} from '../src/ts/index.js';

/** `promise`, or `'pending'` when it has not settled within `ms`: a hang fails the test instead of timing it out. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | 'pending'> {
	let timer: NodeJS.Timeout | undefined;
	const late = new Promise<'pending'>(resolve => {
		timer = setTimeout(() => resolve('pending'), ms);
	});
	try {
		return await Promise.race([promise, late]);
	} finally {
		clearTimeout(timer);
	}
}

test('calls of trace() answer next() calls made before the earlier ones settled, each with the next call in order, as an async iterator must', async t => {
	// The program waits before its first traced call, so that every next() waits too.
	const {calls, done} = trace('/bin/sh', ['-c', 'sleep 0.3; cat /etc/hostname /etc/passwd'], {functions: 'open', follow: true, stdio: 'ignore'});
	const iterator = calls[Symbol.asyncIterator]();
	const answered = await within(Promise.all([iterator.next(), iterator.next(), iterator.next()]), 10_000);
	t.not(answered, 'pending', 'a next() made while another waited was never answered');
	if (answered !== 'pending') {
		t.deepEqual(answered.map(result => result.done ? 'end' : result.value.args?.[0]), ['/etc/hostname', '/etc/passwd', 'end']);
	}

	t.is((await done).status, 0);
});

test('a next() waiting on the calls of trace() when the consumer calls return() settles as done, and so does every next() after it, while the program runs on', async t => {
	const {calls, done, child} = trace('/bin/sleep', ['30'], {functions: 'open', stdio: 'ignore'});
	try {
		const iterator = calls[Symbol.asyncIterator]();
		const waiting = iterator.next();
		t.deepEqual(await iterator.return?.(), {value: undefined, done: true});
		t.deepEqual(await within(waiting, 5000), {value: undefined, done: true});
		t.deepEqual(await within(iterator.next(), 5000), {value: undefined, done: true});
		t.is(child.exitCode, null, 'the program still runs');
	} finally {
		child.kill();
	}

	t.is((await done).status, 128 + 15);
});
