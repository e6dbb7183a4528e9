import {execFile} from 'node:child_process';
import path from 'node:path';
import test from 'ava';

// spawn()'s options are Node's, `signal` included: when it is aborted, Node kills the child and emits an 'error'
// event (AbortError) on it, which Node throws when nobody listens. pdi listens to 'error' for its own cleanup; before,
// that listener swallowed every error but a failed start: a caller without a listener of its own never heard of it.
const module = path.resolve('dist/ts/index.js');

async function node(source: string): Promise<{code: number; stdout: string; stderr: string}> {
	return new Promise(resolve => {
		execFile(process.execPath, ['--input-type=module', '-e', source], {timeout: 30_000}, (error, stdout, stderr) => {
			resolve({code: error ? Number(error.code) : 0, stdout, stderr});
		});
	});
}

const start = (spawn: string) => `import {spawn as nodeSpawn} from 'node:child_process';
import {spawn} from ${JSON.stringify(module)};
const controller = new AbortController();
const child = ${spawn}('/bin/sleep', ['10'], {signal: controller.signal, stdio: 'ignore'});
child.on('exit', (code, signal) => console.log('exit', code, signal));
setTimeout(() => controller.abort(), 100);
setTimeout(() => console.log('ran on'), 1000);`;

test('spawn(): the AbortError of an aborted signal, with no error listener of the caller\'s, is thrown as Node\'s spawn throws it', async t => {
	const plain = await node(start('nodeSpawn'));
	const pdi = await node(start('spawn.bind(null, {})'));
	t.is(plain.code, 1);
	t.regex(plain.stderr, /AbortError: The operation was aborted/);
	t.is(pdi.code, plain.code, pdi.stdout);
	t.regex(pdi.stderr, /AbortError: The operation was aborted/);
	t.false(pdi.stdout.includes('ran on'));
});

test('spawn(): a caller that listens to \'error\' gets the AbortError there, the child is killed and child.act settles', async t => {
	const run = await node(`${start('spawn.bind(null, {rules: [{act: {function: \'getpid\', do: {count: true}}}]})')}
child.on('error', error => console.log('heard', error.name));
console.log('act', JSON.stringify(await child.act));`);
	t.is(run.code, 0, run.stderr);
	t.is(run.stdout, 'heard AbortError\nexit null SIGTERM\nact []\nran on\n');
});
