// What `pdi attach` says of a process that ends while it attaches, after pdi found it running (docs/attach.md).
import {spawn, spawnSync} from 'node:child_process';
import {writeFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {startPdi} from './helpers/cli.js';
import {scratchDirectory} from './helpers/files.js';

test('a process that ends and is reaped between pdi\'s check of it and the attach has ended while pdi attached: not "no such process", nor a /proc path', async t => {
	const directory = scratchDirectory();
	const config = path.join(directory, 'count.yaml');
	const source = path.join(directory, 'source.yaml');
	writeFileSync(source, 'rules:\n  - act: {object: $main, function: getenv, do: {count: true}}\n');
	t.is(spawnSync('mkfifo', [config]).status, 0);
	// The config is a named pipe: pdi reads it after it has found the process running, and this shell opens the pipe
	// only then (opening a pipe waits for its reader); it ends and reaps the process before it writes the config.
	const script = 'sleep 600 & echo $!; exec 3>"$1"; kill $!; wait $!; cat "$2" >&3; exec 3>&-';
	const shell = spawn('sh', ['-c', script, 'sh', config, source], {stdio: ['ignore', 'pipe', 'ignore']});
	const pid = await new Promise<number>(resolve => {
		shell.stdout.once('data', (chunk: Buffer) => {
			resolve(Number(chunk.toString().trim()));
		});
	});
	const run = startPdi(['attach', String(pid), '-c', config]);
	t.is(await run.exited, 2);
	// Before (pdi run as root, which hands its files to the process's owner): 'pdi: /proc/PID: no such file or directory'.
	// And then 'pdi: no such process', as if it had never existed.
	t.is(run.stderr(), `pdi: process ${pid} has ended while pdi was attaching\n`);
});
