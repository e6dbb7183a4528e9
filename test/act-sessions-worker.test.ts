import {spawnSync} from 'node:child_process';
import {writeFileSync} from 'node:fs';
import path from 'node:path';
import {pathToFileURL} from 'node:url';
import test from 'ava';
import {root} from './helpers/cli.js';
import {scratchDirectory} from './helpers/files.js';

// A worker thread opens /etc/hostname without a pause while the main thread opens and closes interpose() sessions
// whose act rule matches that path: a close lands while the worker's hook is matching a call.
const script = (api: string) => `
import {Worker, isMainThread, parentPort} from 'node:worker_threads';
import fs from 'node:fs';
import {interpose} from ${JSON.stringify(api)};
if (isMainThread) {
	const worker = new Worker(new URL(import.meta.url));
	await new Promise(resolve => worker.once('message', resolve));
	let fired = 0;
	for (let session = 0; session < 60; session++) {
		const handle = interpose({rules: [{act: {function: 'open64', when: {arg: 0, matches: '/etc/host*'}, do: {count: true}}}]});
		await new Promise(resolve => setTimeout(resolve, 2));
		fired += handle.close()[0].fired;
		await new Promise(resolve => setTimeout(resolve, 2));
	}
	worker.postMessage('stop');
	await new Promise(resolve => worker.on('exit', resolve));
	console.log(fired > 0 ? 'fired' : 'never fired');
} else {
	let stop = false;
	parentPort.on('message', () => {
		stop = true;
		parentPort.close();
	});
	parentPort.postMessage('go');
	const read = () => {
		for (let i = 0; i < 20; i++) fs.readFileSync('/etc/hostname');
		if (!stop) setImmediate(read);
	};
	read();
}
`;

test('interpose() sessions with a matches condition opened and closed while a worker thread calls the function end cleanly: the rule\'s glob outlives its session', t => {
	// Before: the worker's hook read the glob of a session the main thread had just closed, and Node died of SIGSEGV.
	const file = path.join(scratchDirectory('pdi-act-sessions-'), 'sessions.mjs');
	writeFileSync(file, script(pathToFileURL(path.join(root, 'dist/ts/index.js')).href));
	for (let run = 0; run < 3; run++) {
		const result = spawnSync(process.execPath, [file], {encoding: 'utf8', timeout: 60_000});
		t.deepEqual([result.status, result.signal, result.stdout, result.stderr], [0, null, 'fired\n', ''], `run ${run}`);
	}
});
