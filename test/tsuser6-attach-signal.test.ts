import {spawn} from 'node:child_process';
import {readdirSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {scratchDirectory} from './helpers/files.js';

// A Node process that attach()ed a config to a running program (the compiled config and the act report's place live
// in pdi-run-XXXXXX in TMPDIR until the detach) is ended by a signal before it detaches: nothing of pdi's may stay
// in TMPDIR, as for spawn(), observe() and interpose().
const module = path.resolve('dist/ts/index.js');

function source(target: number): string {
	return [
		`import {attach} from ${JSON.stringify(module)};`,
		`await attach(${target}, {rules: [{act: {function: 'nanosleep', do: {count: true}}}]});`,
		'console.log(\'attached\');',
		'setInterval(() => undefined, 1000);',
	].join('\n');
}

async function killedBy(signal: NodeJS.Signals, temporary: string, target: number): Promise<{signal: string | null; left: string[]}> {
	const parent = spawn(process.execPath, ['--input-type=module', '-e', source(target)], {env: {...process.env, TMPDIR: temporary}, stdio: ['ignore', 'pipe', 'inherit']});
	let stdout = '';
	let left: string[] = [];
	parent.stdout.on('data', (data: Buffer) => {
		stdout += data.toString();
		if (stdout.includes('attached') && left.length === 0) {
			left = readdirSync(temporary);
			parent.kill(signal);
		}
	});
	return new Promise(resolve => {
		parent.on('exit', (_code, ended) => {
			resolve({signal: ended, left});
		});
	});
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
	test.serial(`a process ended by ${signal} while attach()ed to a program leaves nothing in TMPDIR, and the program runs on`, async t => {
		const temporary = scratchDirectory('pdi-tsuser6-attach-');
		const target = spawn('sleep', ['30'], {stdio: 'ignore'});
		t.teardown(() => target.kill('SIGKILL'));
		await new Promise(resolve => target.once('spawn', resolve));
		const run = await killedBy(signal, temporary, target.pid!);
		t.is(run.left.length, 1, `the attach's directory exists while attached: ${run.left.join(' ')}`);
		t.is(run.signal, signal);
		// Before the fix, pdi-run-XXXXXX stayed until another pdi process swept it.
		t.deepEqual(readdirSync(temporary), []);
		t.is(target.exitCode, null, 'the attached program still runs');
	});
}
