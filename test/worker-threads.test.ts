import {Worker} from 'node:worker_threads';
import test from 'ava';
import type {ActCount, TraceSummary} from '../src/ts/index.js';

// process.env of a worker thread is a copy that never reaches getenv(): what pdi hands its backends through
// the environment (the trace ring, the -e list, the act report) must reach them from a worker too, where
// ava's default configuration runs tests.

async function inWorker<Result>(name: string): Promise<{result: Result; stderr: string}> {
	// A worker does not inherit the tsx loader of ava's process: it registers it, then loads the task.
	const task = new URL('helpers/worker-task.ts', import.meta.url).href;
	const tsx = import.meta.resolve('tsx/esm/api');
	const code = `import {register} from ${JSON.stringify(tsx)}; register(); await import(${JSON.stringify(task)});`;
	const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(code)}`), {workerData: {task: name}, stderr: true});
	let stderr = '';
	worker.stderr.on('data', (chunk: Buffer) => {
		stderr += chunk.toString();
	});
	const result = await new Promise<Result>((resolve, reject) => {
		worker.once('message', resolve);
		worker.once('error', reject);
	});
	await new Promise(resolve => worker.once('exit', resolve));
	return {result, stderr};
}

test.serial('observe() in a worker thread delivers the calls its functions select, and nothing is printed', async t => {
	const {result, stderr} = await inWorker<{opened: unknown[]; functions: string[]; summary: TraceSummary}>('observe');
	t.true(result.opened.includes('/etc/hostname'), JSON.stringify(result.opened));
	t.true(result.functions.every(name => name.startsWith('open')), result.functions.join(' '));
	t.is(result.summary.processes.find(entry => entry.pid === process.pid)?.calls, result.opened.length);
	t.is(stderr, '');
});

test.serial('an act rule installed by interpose() in a worker thread fires, and close() returns its counts', async t => {
	const {result} = await inWorker<{code?: string; counts: ActCount[]}>('act');
	t.is(result.code, 'ENOENT');
	t.is(result.counts.length, 1);
	t.is(result.counts[0]?.fired, 1);
	t.is(result.counts[0]?.function, 'open64');
});
