import {once} from 'node:events';
import test, {type ExecutionContext} from 'ava';
import {trace} from '../src/ts/index.js';
import {scratchDirectory, temporaryEntries} from './helpers/files.js';

/** What `promise` rejected with (the error's name, and the milliseconds since `since`) within 5 s. */
async function rejection(promise: Promise<unknown>, since: () => number): Promise<{error: string; ms: number} | string> {
	let timer: NodeJS.Timeout | undefined;
	const pending = new Promise<'pending'>(resolve => {
		timer = setTimeout(resolve, 5000, 'pending');
	});
	try {
		return await Promise.race([
			promise.then(value => `resolved ${JSON.stringify((value as {status?: unknown}).status)}`, (error: unknown) => ({error: (error as Error).name, ms: Date.now() - since()})),
			pending,
		]);
	} finally {
		clearTimeout(timer);
	}
}

function runs(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch {
		return false;
	}
}

/**
 * Traces `sh -c script` with follow, in a TMPDIR of its own; the script prints the pid of the sleep it leaves in the
 * background first. Aborts once that pid is read and `ready` (if given) has settled, and returns how `done` and a loop over `calls`
 * ended, whether the background sleep still ran then, and what was left in TMPDIR.
 */
async function abortFollowed(script: string, ready?: (child: ReturnType<typeof trace>['child']) => Promise<unknown>) {
	const temporary = scratchDirectory('pdi-trace-follow-abort-');
	const former = process.env['TMPDIR'];
	process.env['TMPDIR'] = temporary;
	const controller = new AbortController();
	let background = 0;
	const seenFrom = new Set<number>();
	try {
		const {calls, done, child} = trace('sh', ['-c', script], {follow: true, signal: controller.signal, stdio: ['ignore', 'pipe', 'inherit']});
		const loop = (async () => {
			for await (const call of calls) {
				seenFrom.add(call.pid);
			}
		})();
		const [line] = await once(child.stdout, 'data') as [Buffer];
		background = Number(line.toString().trim());
		await ready?.(child);
		controller.abort();
		const abortedAt = Date.now();
		const since = () => abortedAt;
		const [ofDone, ofLoop] = await Promise.all([rejection(done, since), rejection(loop, since)]);
		return {ofDone, ofLoop, shellSeen: seenFrom.has(child.pid!), backgroundRuns: background > 0 && runs(background), left: temporaryEntries(temporary)};
	} finally {
		if (former === undefined) {
			delete process.env['TMPDIR'];
		} else {
			process.env['TMPDIR'] = former;
		}

		if (background > 0) {
			try {
				process.kill(background, 'SIGKILL');
			} catch {}
		}
	}
}

function checkAbortEnded(t: ExecutionContext, run: Awaited<ReturnType<typeof abortFollowed>>): void {
	for (const [what, outcome] of [['done', run.ofDone], ['the loop over calls', run.ofLoop]] as const) {
		t.like(outcome, {error: 'AbortError'}, `${what}: ${JSON.stringify(outcome)}`);
		t.true(typeof outcome === 'object' && outcome.ms < 2000, `${what}: ${JSON.stringify(outcome)}`);
	}

	t.true(run.shellSeen, 'the loop had the calls made before the abort');
	t.true(run.backgroundRuns, 'the followed process runs on, untraced, after the abort');
	t.deepEqual(run.left, [], 'neither the rings nor the config stay in TMPDIR');
}

test.serial('aborting trace() with follow while the program waits ends the wait for a background process it left: done and the loop over calls reject with an AbortError at once', async t => {
	// Before: the program was ended, but done and the loop stayed pending until the background sleep ended (30 s).
	const run = await abortFollowed('sleep 30 </dev/null >/dev/null 2>&1 & echo $!; wait');
	checkAbortEnded(t, run);
});

test.serial('aborting trace() with follow after the program has exited, while done waits for the process it left, rejects with an AbortError, not status 0', async t => {
	// Before: the abort was ignored, and done resolved {status: 0} once the background sleep ended.
	const run = await abortFollowed('sleep 30 </dev/null >/dev/null 2>&1 & echo $!', async child => {
		if (child.exitCode === null) {
			await once(child, 'exit');
		}
	});
	checkAbortEnded(t, run);
});
