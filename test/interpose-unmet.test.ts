import {execFile} from 'node:child_process';
import path from 'node:path';
import test from 'ava';
import {root} from './helpers/cli.js';

/** Runs `source` (an ES module that has `interpose` in scope) in a Node process of its own: its stdout and stderr. */
async function runModule(source: string): Promise<{code: number; stdout: string; stderr: string}> {
	const module = path.join(root, 'dist/ts/index.js');
	return new Promise(resolve => {
		execFile(process.execPath, ['--input-type=module', '-e', `import {interpose} from ${JSON.stringify(module)};\n${source}`], {timeout: 60_000}, (error, stdout, stderr) => {
			resolve({code: error ? Number(error.code) : 0, stdout, stderr});
		});
	});
}

test('interpose()\'s close warns of an act rule whose function no object imported while the session was open, as pdi run warns at exit; a rule that met its calls is not named', async t => {
	const run = await runModule([
		'const handle = interpose({rules: [{act: {function: \'opne\', do: {count: true}}}, {act: {function: \'getpid\', do: {count: true}}}]});',
		'process.stdout.write(JSON.stringify(handle.close()));',
	].join('\n'));
	t.is(run.code, 0, run.stderr);
	const counts = JSON.parse(run.stdout) as Array<{function: string; seen: number}>;
	t.deepEqual(counts.map(count => [count.function, count.seen]), [['opne', 0], ['getpid', 0]]);
	const lines = run.stderr.split('\n').filter(line => line !== '');
	t.is(lines.length, 1, run.stderr);
	t.regex(lines[0]!, /^pdi: warning: rules\[0\] \(interpose\(\) #1 called at .*\): act opne: no object matching '\*' imported it while the session was open: the rule saw no call$/);
});
