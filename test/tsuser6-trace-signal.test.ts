import {spawn} from 'node:child_process';
import path from 'node:path';
import test from 'ava';
import {scratchDirectory, temporaryEntries} from './helpers/files.js';

// A Node process that is running trace() (its rings live in pdi-trace-XXXXXX in TMPDIR, its config in pdi-run-XXXXXX)
// is ended by a signal while the traced program runs: nothing of pdi's may stay in TMPDIR, as for spawn().
const module = path.resolve('dist/ts/index.js');

const source = [
	`import {trace} from ${JSON.stringify(module)};`,
	'const {child} = trace(\'sleep\', [\'30\'], {functions: \'nanosleep,clock_nanosleep\', stdio: \'ignore\'});',
	'child.on(\'spawn\', () => console.log(\'ready \' + child.pid));',
].join('\n');

type Run = {signal: string | null; left: string[]; childPid: number};

async function killedBy(signal: NodeJS.Signals, temporary: string): Promise<Run> {
	const parent = spawn(process.execPath, ['--input-type=module', '-e', source], {env: {...process.env, TMPDIR: temporary}, stdio: ['ignore', 'pipe', 'inherit']});
	let stdout = '';
	let left: string[] = [];
	let childPid = 0;
	parent.stdout.on('data', (data: Buffer) => {
		stdout += data.toString();
		const ready = /ready (\d+)/.exec(stdout);
		if (ready && childPid === 0) {
			childPid = Number(ready[1]);
			left = temporaryEntries(temporary).sort();
			parent.kill(signal);
		}
	});
	return new Promise(resolve => {
		parent.on('exit', (_code, ended) => {
			resolve({signal: ended, left, childPid});
		});
	});
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
	test.serial(`a process ended by ${signal} while trace() runs a program leaves neither its rings nor its config in TMPDIR`, async t => {
		const temporary = scratchDirectory('pdi-tsuser6-trace-');
		const run = await killedBy(signal, temporary);
		t.teardown(() => {
			try {
				process.kill(run.childPid, 'SIGKILL');
			} catch {}
		});
		t.deepEqual(run.left.map(name => name.replace(/-\d+_.*$/, '')), ['pdi-run', 'pdi-trace'], 'both directories exist while the program runs');
		t.is(run.signal, signal);
		// Before the fix, pdi-trace-XXXXXX (the event rings) stayed: only the launch's directory was removed at the signal.
		t.deepEqual(temporaryEntries(temporary), []);
	});
}
