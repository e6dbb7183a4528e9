import {execFile} from 'node:child_process';
import {readdirSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {scratchDirectory} from './helpers/files.js';

// Each script runs in a Node process of its own: observe() instruments the whole process, and these tests
// look at what is left in it (stubs, the claim, threads) or at its memory.
const module = path.resolve('dist/ts/index.js');

type Run = {code: number | null; signal: string | null; stdout: string; stderr: string};

async function node(source: string, temporary: string, timeout = 60_000): Promise<Run> {
	return new Promise(resolve => {
		execFile(process.execPath, ['--input-type=module', '-e', source], {timeout, env: {...process.env, TMPDIR: temporary}}, (error, stdout, stderr) => {
			resolve({code: error ? (typeof error.code === 'number' ? error.code : null) : 0, signal: error?.signal ?? null, stdout, stderr});
		});
	});
}

function printed<Result>(run: Run): Result {
	if (run.code !== 0) {
		throw new Error(`the script ended with ${run.code ?? run.signal}: ${run.stderr}`);
	}

	return JSON.parse(run.stdout.trim()) as Result;
}

test('the calls observe()\'s onCall makes are not observed: a file it opens is never seen, the file the program opens is', async t => {
	const temporary = scratchDirectory('pdi-observe-life-');
	const source = [
		`import {observe} from ${JSON.stringify(module)};`,
		'import {readFileSync} from \'node:fs\';',
		'const seen = [];',
		'const observation = observe({functions: \'open*\'}, call => {',
		'\tseen.push(call.args?.[0]);',
		// Before the fix, this open was observed in turn, and delivered, and opened again: without end.
		'\tif (call.args?.[0] === \'/etc/hostname\') readFileSync(\'/etc/passwd\');',
		'});',
		'readFileSync(\'/etc/hostname\');',
		'await new Promise(resolve => setTimeout(resolve, 300));',
		'const summary = observation.close();',
		'console.log(JSON.stringify({seen, lost: summary.lost}));',
	].join('\n');
	const result = printed<{seen: string[]; lost: number}>(await node(source, temporary));
	t.true(result.seen.includes('/etc/hostname'), JSON.stringify(result.seen));
	t.false(result.seen.includes('/etc/passwd'), JSON.stringify(result.seen));
	t.is(result.lost, 0);
	t.deepEqual(readdirSync(temporary), []);
});

test('observe() of every function of node with an onCall that does nothing keeps its memory bounded and ends', async t => {
	// Before the fix the delivery's own calls were recorded and delivered in turn: gigabytes within seconds, and
	// the main thread stuck waiting for room in its own ring.
	const temporary = scratchDirectory('pdi-observe-life-');
	const source = [
		`import {observe} from ${JSON.stringify(module)};`,
		'let calls = 0;',
		'const observation = observe({}, () => { calls++; });',
		'const rss = [];',
		'for (let i = 0; i < 12; i++) {',
		'\tawait new Promise(resolve => setTimeout(resolve, 500));',
		'\trss.push(process.memoryUsage().rss);',
		'}',
		'const summary = observation.close();',
		'console.log(JSON.stringify({rss, calls, lost: summary.lost}));',
	].join('\n');
	const result = printed<{rss: number[]; calls: number; lost: number}>(await node(source, temporary));
	t.true(result.calls > 0);
	const mebibytes = result.rss.map(bytes => Math.round(bytes / 1024 / 1024));
	// The reader keeps at most 64 MiB of events waiting for JavaScript; node itself needs a few hundred.
	t.true(Math.max(...mebibytes) < 1024, mebibytes.join(' '));
	const firstHalf = Math.max(...mebibytes.slice(0, 6));
	const secondHalf = Math.max(...mebibytes.slice(6));
	t.true(secondHalf - firstHalf < 200, mebibytes.join(' '));
	t.deepEqual(readdirSync(temporary), []);
});

for (const ending of ['returns', 'is terminated'] as const) {
	test(`a worker thread that observes and ${ending} without close() leaves no stub, no directory and no claim behind`, async t => {
		const temporary = scratchDirectory('pdi-observe-life-');
		// Either way, the worker lives until the main thread has seen what it installed.
		const body = ending === 'returns' ? 'parentPort.once(\'message\', () => parentPort.close());' : 'setInterval(() => {}, 1000);';
		const source = [
			`import {imports, observe} from ${JSON.stringify(module)};`,
			'import {readdirSync, readFileSync} from \'node:fs\';',
			'import {tmpdir} from \'node:os\';',
			'import {Worker} from \'node:worker_threads\';',
			'const stubbed = () => imports(\'$main\').filter(slot => slot.stub !== null).map(slot => slot.symbol);',
			'const worker = new Worker(`import {observe} from ${JSON.stringify(\'' + module + '\')}; import {parentPort} from \'node:worker_threads\';',
			'observe({functions: \'open*\'}, () => undefined); parentPort.postMessage(\'observing\'); ' + body + '`, {eval: true});',
			'await new Promise(resolve => worker.once(\'message\', resolve));',
			'const during = {stubbed: stubbed().length, directories: readdirSync(tmpdir())};',
			ending === 'returns' ? 'worker.postMessage(\'end\'); await new Promise(resolve => worker.once(\'exit\', resolve));' : 'await worker.terminate();',
			'const after = {stubbed: stubbed(), directories: readdirSync(tmpdir())};',
			'const seen = [];',
			'const again = observe({functions: \'open*\'}, call => seen.push(call.args?.[0]));',
			'readFileSync(\'/etc/hostname\');',
			'again.close();',
			'console.log(JSON.stringify({during, after, seen: seen.includes(\'/etc/hostname\')}));',
		].join('\n');
		const result = printed<{during: {stubbed: number; directories: string[]}; after: {stubbed: string[]; directories: string[]}; seen: boolean}>(
			await node(source, temporary));
		t.true(result.during.stubbed > 0);
		t.is(result.during.directories.filter(name => name.startsWith('pdi-observe-')).length, 1, result.during.directories.join(' '));
		t.deepEqual(result.after, {stubbed: [], directories: []});
		t.true(result.seen);
		t.deepEqual(readdirSync(temporary), []);
	});
}

test('a worker terminated while events are being delivered to its onCall ends, and the process goes on', async t => {
	// Before the fix, a native call that the terminating worker made failed, and the error thrown for it could not
	// be thrown into JavaScript: `terminate called after throwing an instance of 'Napi::Error'`, the process aborted.
	const temporary = scratchDirectory('pdi-observe-life-');
	const source = [
		`import {observe} from ${JSON.stringify(module)};`,
		'import {readFileSync} from \'node:fs\';',
		'import {Worker} from \'node:worker_threads\';',
		'let ended = 0;',
		'for (let round = 0; round < 20; round++) {',
		'\tconst worker = new Worker(`import {observe} from ${JSON.stringify(\'' + module + '\')}; import {parentPort} from \'node:worker_threads\';',
		'observe({functions: \'open*\'}, () => undefined); parentPort.postMessage(\'observing\'); setInterval(() => {}, 1000);`, {eval: true});',
		'\tawait new Promise(resolve => worker.once(\'message\', resolve));',
		'\tconst opening = setInterval(() => { for (let i = 0; i < 50; i++) readFileSync(\'/etc/hostname\'); }, 0);',
		'\tawait new Promise(resolve => setTimeout(resolve, Math.random() * 20));',
		'\tawait worker.terminate();',
		'\tclearInterval(opening);',
		'\tended++;',
		'}',
		'const seen = [];',
		'const again = observe({functions: \'open*\'}, call => seen.push(call.args?.[0]));',
		'readFileSync(\'/etc/hostname\');',
		'again.close();',
		'console.log(JSON.stringify({ended, seen: seen.includes(\'/etc/hostname\')}));',
	].join('\n');
	const result = printed<{ended: number; seen: boolean}>(await node(source, temporary, 120_000));
	t.deepEqual(result, {ended: 20, seen: true});
	t.deepEqual(readdirSync(temporary), []);
});
