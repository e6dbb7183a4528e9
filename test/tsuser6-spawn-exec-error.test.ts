import {execFile} from 'node:child_process';
import {chmodSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {scratchDirectory} from './helpers/files.js';

// spawn() of a program that passes pdi's checks but whose exec fails (a `#!` naming a script whose own interpreter is
// missing: pdi checks the first interpreter only): Node's ChildProcess emits 'error', and an 'error' event that nobody
// listens to is thrown. pdi listens to it for its own cleanup; before, that listener swallowed it: the caller without
// a listener of its own saw no error, no 'exit', and child.act resolved to [], as if the program had run.
const module = path.resolve('dist/ts/index.js');
const directory = scratchDirectory('pdi-tsuser6-spawn-');
const script = path.join(directory, 'run.sh');
const interpreter = path.join(directory, 'interpreter');
writeFileSync(interpreter, '#!/no/such/interpreter\n');
chmodSync(interpreter, 0o755);
writeFileSync(script, `#!${interpreter}\necho hi\n`);
chmodSync(script, 0o755);

async function node(source: string): Promise<{code: number; stdout: string; stderr: string}> {
	return new Promise(resolve => {
		execFile(process.execPath, ['--input-type=module', '-e', source], {cwd: directory, timeout: 30_000}, (error, stdout, stderr) => {
			resolve({code: error ? Number(error.code) : 0, stdout, stderr});
		});
	});
}

const start = `import {spawn} from ${JSON.stringify(module)};
const child = spawn({rules: [{act: {function: 'write', do: {count: true}}}]}, ${JSON.stringify(script)}, [], {stdio: 'ignore'});`;

test('spawn(): an exec that fails with no error listener of the caller\'s is thrown, naming the program, as Node throws it', async t => {
	const run = await node(`${start}\nconsole.log('act', JSON.stringify(await child.act));\nsetTimeout(() => console.log('ran on'), 500);`);
	t.is(run.code, 1);
	t.regex(run.stderr, new RegExp(`PdiError: ${script.replaceAll('/', '\\/')}: could not be started: no such file or directory`));
	t.false(run.stdout.includes('ran on'));
});

test('spawn(): a caller that listens to \'error\' gets Node\'s error there, and child.act resolves to no counts', async t => {
	const run = await node(`${start}\nchild.on('error', error => console.log('heard', error.code));\nconsole.log('act', JSON.stringify(await child.act));`);
	t.is(run.code, 0, run.stderr);
	t.is(run.stdout, 'heard ENOENT\nact []\n');
});
