// Runs in a worker thread (test/worker-threads.test.ts): uses pdi there and posts what it saw.
import {readFileSync} from 'node:fs';
import {parentPort, workerData} from 'node:worker_threads';
import {interpose, observe, type CallEvent} from '../../src/ts/index.js';

const task = (workerData as {task: string}).task;
if (task === 'observe') {
	const seen: CallEvent[] = [];
	const observation = observe({functions: 'open*'}, call => {
		seen.push(call);
	});
	readFileSync('/etc/hostname');
	for (let wait = 0; wait < 200 && !seen.some(call => call.args?.[0] === '/etc/hostname'); wait++) {
		await new Promise(resolve => {
			setTimeout(resolve, 10);
		});
	}

	const summary = observation.close();
	parentPort!.postMessage({opened: seen.map(call => call.args?.[0]), functions: [...new Set(seen.map(call => call.function))], summary});
} else {
	const handle = interpose({rules: [{act: {function: 'open64', when: {arg: 0, matches: '/etc/hostname'}, do: {return: -1, errno: 'ENOENT'}}}]});
	let code: string | undefined;
	try {
		readFileSync('/etc/hostname');
	} catch (error) {
		code = (error as NodeJS.ErrnoException).code;
	}

	parentPort!.postMessage({code, counts: handle.close()});
}
