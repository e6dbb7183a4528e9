// The short versions of the torture scenarios (test/torture/, docs: `npm run torture` runs the long ones).
import test, {type ExecutionContext} from 'ava';
import {interpose} from '../src/ts/index.js';
import {type Expectation, tortureAddon, tortureBackend, tortureConfig} from './torture/addon.js';
import {dlopenExpectations, runDlopen} from './torture/dlopen.js';
import {patchingExpectations, runPatching} from './torture/patching.js';

function holds(t: ExecutionContext, expectations: readonly Expectation[], summary: unknown): void {
	for (const {what, actual, expected} of expectations) {
		t.is(actual, expected, `${what}: ${JSON.stringify(summary)}`);
	}
}

test.serial('64 threads calling relinked, redefined and callback-instrumented functions while the rules are installed and removed 300 times: every call counted once on one path, every slot restored', t => {
	const result = runPatching({threads: 64, iterations: 30_000, rounds: 300, signalIntervalUs: 0});
	holds(t, patchingExpectations(result), {...result, before: undefined, after: undefined});
});

test.serial('the same with signals arriving throughout, whose handler calls the instrumented functions too: no crash, every call of the handler counted', t => {
	const result = runPatching({threads: 64, iterations: 30_000, rounds: 300, signalIntervalUs: 100});
	holds(t, patchingExpectations(result), {...result, before: undefined, after: undefined});
});

test.serial('libraries dlopened and dlclosed 300 times while 8 threads call into them: every call made while loaded reaches the wrappers and hooks', async t => {
	const result = await runDlopen({loads: 300, callers: 8});
	holds(t, dlopenExpectations(result), result);
});

test.serial('a callback-instrumented call in flight on another thread when close() runs gets its post hook when it returns, not before', t => {
	const addon = tortureAddon();
	addon.backendCounts(tortureBackend, true);
	const handle = interpose(tortureConfig());
	addon.blockingStart();
	handle.close();
	const afterClose = addon.backendCounts(tortureBackend, false);
	t.is(addon.blockingFinish(), 1015, 'pre made the argument 10 (10 + 5), post added 1000');
	const counts = addon.backendCounts(tortureBackend, false);
	t.deepEqual([afterClose.pre, afterClose.post, afterClose.abandoned], [1, 0, 0]);
	t.deepEqual([counts.pre, counts.post, counts.abandoned, counts.unknownSite], [1, 1, 0, 0]);
});
