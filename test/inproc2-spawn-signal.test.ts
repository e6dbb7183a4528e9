import {spawn} from 'node:child_process';
import path from 'node:path';
import test from 'ava';
import {scratchDirectory, temporaryEntries} from './helpers/files.js';

// A Node process that spawn()ed a program with a config (its compiled config lives in pdi-run-XXXXXX in TMPDIR until
// the child exits) is ended by a signal while the child runs: nothing of pdi's may stay in TMPDIR.
const module = path.resolve('dist/ts/index.js');

function source(ownListener: boolean): string {
	return [
		`import {spawn} from ${JSON.stringify(module)};`,
		'const child = spawn({rules: [{act: {object: \'$main\', function: \'open64\', when: {arg: 0, matches: \'/nonexistent\'}, do: {return: -1, errno: \'EACCES\'}}}]}, \'sleep\', [\'30\'], {stdio: \'ignore\'});',
		ownListener ? 'process.on(\'SIGTERM\', () => { console.log(\'own listener\'); child.kill(); process.exit(3); });' : '',
		'child.on(\'spawn\', () => console.log(\'ready \' + child.pid));',
	].join('\n');
}

type Run = {code: number | null; signal: string | null; stdout: string; left: string[]; childPid: number};

async function killedBy(signal: NodeJS.Signals, temporary: string, ownListener = false): Promise<Run> {
	const parent = spawn(process.execPath, ['--input-type=module', '-e', source(ownListener)], {env: {...process.env, TMPDIR: temporary}, stdio: ['ignore', 'pipe', 'inherit']});
	let stdout = '';
	let left: string[] = [];
	let childPid = 0;
	parent.stdout.on('data', (data: Buffer) => {
		stdout += data.toString();
		const ready = /ready (\d+)/.exec(stdout);
		if (ready && childPid === 0) {
			childPid = Number(ready[1]);
			left = temporaryEntries(temporary);
			parent.kill(signal);
		}
	});
	return new Promise(resolve => {
		parent.on('exit', (code, ended) => {
			resolve({code, signal: ended, stdout, left, childPid});
		});
	});
}

function running(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch {
		return false;
	}
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
	test.serial(`a process ended by ${signal} while its spawn()ed child runs leaves nothing in TMPDIR, ends by the signal and leaves the child running`, async t => {
		const temporary = scratchDirectory('pdi-inproc2-spawn-');
		const run = await killedBy(signal, temporary);
		t.teardown(() => {
			if (run.childPid > 0 && running(run.childPid)) {
				process.kill(run.childPid, 'SIGKILL');
			}
		});
		// Before the fix, pdi-run-XXXXXX (the compiled config and the act report's place) stayed.
		t.is(run.left.length, 1, `the launch's directory exists while the child runs: ${run.left.join(' ')}`);
		t.is(run.signal, signal);
		t.deepEqual(temporaryEntries(temporary), []);
		// The child is not signalled by pdi (the signal went to the parent only): it runs on, as Node leaves it.
		t.true(running(run.childPid), 'the child still runs');
	});
}

test.serial('a process with a SIGTERM listener of its own keeps it: pdi neither ends the process nor removes the files before it', async t => {
	const temporary = scratchDirectory('pdi-inproc2-spawn-');
	const run = await killedBy('SIGTERM', temporary, true);
	t.is(run.code, 3);
	t.true(run.stdout.includes('own listener'));
	// process.exit() then runs the 'exit' event, which removes them.
	t.deepEqual(temporaryEntries(temporary), []);
});
