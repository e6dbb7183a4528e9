import {spawn} from 'node:child_process';
import {readdirSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {scratchDirectory} from './helpers/files.js';

// A Node process that observes itself and holds an interpose() with act rules (both keep a private directory in
// TMPDIR until close()) is ended by a signal before it closes them: nothing of pdi's may stay in TMPDIR.
const module = path.resolve('dist/ts/index.js');

function source(ownListener: boolean): string {
	return [
		`import {interpose, observe} from ${JSON.stringify(module)};`,
		'import {readFileSync} from \'node:fs\';',
		'interpose({rules: [{act: {object: \'$main\', function: \'open64\', when: {arg: 0, matches: \'/nonexistent\'}, do: {return: -1, errno: \'EACCES\'}}}]});',
		'observe({functions: \'read\'}, () => {});',
		ownListener ? 'process.on(\'SIGINT\', () => { console.log(\'own listener\'); process.exit(3); });' : '',
		'setInterval(() => readFileSync(\'/etc/hostname\'), 10);',
		'console.log(\'ready\');',
	].join('\n');
}

async function killedBy(signal: NodeJS.Signals, temporary: string, ownListener = false): Promise<{code: number | null; signal: string | null; stdout: string; left: string[]}> {
	const child = spawn(process.execPath, ['--input-type=module', '-e', source(ownListener)], {env: {...process.env, TMPDIR: temporary}, stdio: ['ignore', 'pipe', 'inherit']});
	let stdout = '';
	let left: string[] = [];
	child.stdout.on('data', (data: Buffer) => {
		stdout += data.toString();
		if (stdout.includes('ready')) {
			left = readdirSync(temporary);
			child.kill(signal);
		}
	});
	return new Promise(resolve => {
		child.on('exit', (code, ended) => {
			resolve({code, signal: ended, stdout, left});
		});
	});
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
	test.serial(`a process with an observation and an act interpose() open, ended by ${signal}, leaves nothing in TMPDIR and still ends by the signal`, async t => {
		const temporary = scratchDirectory('pdi-inproc-signal-');
		const run = await killedBy(signal, temporary);
		// Before the fix, pdi-observe-XXXXXX (with its 4 MiB ring) and pdi-run-XXXXXX (the act report's) stayed.
		t.is(run.left.length, 2, `both directories exist while the sessions are open: ${run.left.join(' ')}`);
		t.is(run.signal, signal);
		t.deepEqual(readdirSync(temporary), []);
	});
}

test.serial('a process with a SIGINT listener of its own keeps it: pdi neither ends the process nor removes its files before the listener', async t => {
	const temporary = scratchDirectory('pdi-inproc-signal-');
	const run = await killedBy('SIGINT', temporary, true);
	t.is(run.code, 3);
	t.true(run.stdout.includes('own listener'));
	// process.exit() then runs the 'exit' event, which removes them.
	t.deepEqual(readdirSync(temporary), []);
});
