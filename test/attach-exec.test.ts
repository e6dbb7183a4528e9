import {spawn} from 'node:child_process';
import {writeFileSync} from 'node:fs';
import path from 'node:path';
import {setTimeout as delay} from 'node:timers/promises';
import test from 'ava';
import {attach} from '../src/ts/index.js';
import {cliPath, pdi} from './helpers/cli.js';
import {scratchDirectory} from './helpers/files.js';

const directory = scratchDirectory('pdi-attach-exec-');
const config = path.join(directory, 'count.cfg');
writeFileSync(config, 'act * open count\n');
const ended = (pid: number | undefined) => `pdi: process ${pid} ran another program (exec): the session ended with the one it was attached to\n`;

/** A shell that runs another program (exec) after `seconds`. */
function execLater(seconds: number) {
	return spawn('sh', ['-c', `sleep ${seconds}; exec sleep 5`], {stdio: 'ignore'});
}

test('pdi attach of a process that runs another program (exec) says the session ended with the program it was attached to, and exits 0 at once', async t => {
	// Before: at the detach, 'pdi: pdi is not attached to process N (its core is not loaded there)' and status 2.
	const child = execLater(1.5);
	t.teardown(() => child.kill('SIGKILL'));
	await delay(300);
	const started = Date.now();
	const run = await pdi(['attach', String(child.pid), '-c', config, '--detach-after', '20']);
	t.is(run.code, 0, run.stderr);
	t.true(run.stderr.endsWith(ended(child.pid)), run.stderr);
	t.true(Date.now() - started < 10_000);
});

test('pdi trace -p of a process that runs another program ends the same way', async t => {
	// Before: the trace went on until Ctrl-C, then ended with status 130 and no word.
	const child = execLater(1.5);
	t.teardown(() => child.kill('SIGKILL'));
	await delay(300);
	const trace = spawn(process.execPath, [cliPath, 'trace', '-p', String(child.pid), '-o', '/dev/null'], {stdio: ['ignore', 'ignore', 'pipe']});
	let stderr = '';
	trace.stderr.on('data', (chunk: Buffer) => {
		stderr += chunk.toString();
	});
	const timer = setTimeout(() => trace.kill('SIGINT'), 15_000);
	const code = await new Promise<number | null>(resolve => trace.once('exit', resolve));
	clearTimeout(timer);
	t.is(code, 0, stderr);
	t.true(stderr.endsWith(ended(child.pid)), stderr);
});

test('attach().detach() of a process that ran another program since resolves instead of rejecting', async t => {
	const child = execLater(1);
	t.teardown(() => child.kill('SIGKILL'));
	await delay(300);
	const attached = await attach(child.pid!, undefined, {configFiles: [config]});
	await delay(1500);
	await t.notThrowsAsync(attached.detach());
});
