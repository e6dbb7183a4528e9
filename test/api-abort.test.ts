import path from 'node:path';
import test from 'ava';
import {runProgram, trace} from '../src/ts/index.js';
import {fixtures} from './helpers/preload.js';

test.serial('runProgram() with an aborted signal ends the program and rejects with an AbortError once it has exited', async t => {
	const controller = new AbortController();
	const started = Date.now();
	setTimeout(() => {
		controller.abort();
	}, 300);
	const error = await t.throwsAsync(runProgram('sleep', ['30'], {signal: controller.signal}));
	t.is(error?.name, 'AbortError');
	t.true(Date.now() - started < 20_000, 'sleep 30 did not run to its end');
	const already = new AbortController();
	already.abort();
	t.is((await t.throwsAsync(runProgram('true', [], {signal: already.signal})))?.name, 'AbortError');
});

test.serial('trace() with an aborted signal: the loop over calls throws an AbortError after the calls made until then, and done rejects with it', async t => {
	const controller = new AbortController();
	// attachprog calls on until its stdin ends, which a pipe nobody closes never does.
	const {calls, done, child} = trace(path.join(fixtures, 'attach', 'attachprog'), [], {signal: controller.signal, stdio: 'pipe'});
	let seen = 0;
	const loop = (async () => {
		for await (const call of calls) {
			if (++seen === 20 && call.pid === child.pid) {
				controller.abort();
			}
		}
	})();
	t.is((await t.throwsAsync(loop))?.name, 'AbortError');
	t.true(seen >= 20);
	t.is((await t.throwsAsync(done))?.name, 'AbortError');
	t.is(child.signalCode, 'SIGTERM');
});

test('a signal that is not an AbortSignal is a PdiError naming the option', async t => {
	await t.throwsAsync(runProgram('true', [], {signal: 5 as unknown as AbortSignal}), {message: 'signal: expected an AbortSignal, got 5'});
	t.throws(() => trace('true', [], {signal: 'stop' as unknown as AbortSignal}), {message: 'signal: expected an AbortSignal, got \'stop\''});
});
