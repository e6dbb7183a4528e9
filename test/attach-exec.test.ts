import {spawn} from 'node:child_process';
import {readlinkSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {setTimeout as delay} from 'node:timers/promises';
import test from 'ava';
import {attach} from '../src/ts/index.js';
import {cliPath} from './helpers/cli.js';
import {scratchDirectory} from './helpers/files.js';

const directory = scratchDirectory('pdi-attach-exec-');
const config = path.join(directory, 'count.cfg');
writeFileSync(config, 'act * open count\n');
const ended = (pid: number | undefined) => `pdi: process ${pid} ran another program (exec): the session ended with the one it was attached to\n`;

/** A shell that runs another program (exec) once `go` exists; `go()` makes it. */
function execOnCue(name: string) {
	const cue = path.join(directory, name);
	const child = spawn('sh', ['-c', `while [ ! -e '${cue}' ]; do sleep 0.05; done; exec sleep 30`], {stdio: 'ignore'});
	return {child, go: () => writeFileSync(cue, '')};
}

/** Runs pdi with `args`, makes the cue once pdi says `ready`, and resolves to its status and stderr. */
async function runUntilCue(args: string[], ready: string, go: () => void): Promise<{code: number | null; stderr: string}> {
	const pdi = spawn(process.execPath, [cliPath, ...args], {stdio: ['ignore', 'ignore', 'pipe']});
	let stderr = '';
	pdi.stderr.on('data', (chunk: Buffer) => {
		stderr += chunk.toString();
		if (stderr.includes(ready)) {
			go();
		}
	});
	const timer = setTimeout(() => pdi.kill('SIGINT'), 60_000);
	const code = await new Promise<number | null>(resolve => pdi.once('exit', resolve));
	clearTimeout(timer);
	return {code, stderr};
}

test('pdi attach of a process that runs another program (exec) says the session ended with the program it was attached to, and exits 0', async t => {
	// Before: at the detach, 'pdi: pdi is not attached to process N (its core is not loaded there)' and status 2.
	const {child, go} = execOnCue('attach-go');
	t.teardown(() => child.kill('SIGKILL'));
	await delay(200);
	const run = await runUntilCue(['attach', String(child.pid), '-c', config, '--detach-after', '50'], 'pdi: attached to process', go);
	t.is(run.code, 0, run.stderr);
	t.true(run.stderr.endsWith(ended(child.pid)), run.stderr);
});

test('pdi trace -p of a process that runs another program ends the same way', async t => {
	// Before: the trace went on until Ctrl-C, then ended with status 130 and no word.
	const {child, go} = execOnCue('trace-go');
	t.teardown(() => child.kill('SIGKILL'));
	await delay(200);
	const run = await runUntilCue(['trace', '-p', String(child.pid), '-o', '/dev/null'], 'pdi: tracing process', go);
	t.is(run.code, 0, run.stderr);
	t.true(run.stderr.endsWith(ended(child.pid)), run.stderr);
});

test('attach().detach() of a process that ran another program since resolves instead of rejecting', async t => {
	const {child, go} = execOnCue('api-go');
	t.teardown(() => child.kill('SIGKILL'));
	await delay(200);
	const attached = await attach(child.pid!, undefined, {configFiles: [config]});
	go();
	for (let waited = 0; !readlinkSync(`/proc/${child.pid}/exe`).endsWith('/sleep') && waited < 20_000; waited += 50) {
		await delay(50);
	}

	t.true(readlinkSync(`/proc/${child.pid}/exe`).endsWith('/sleep'), 'the shell ran sleep');
	await t.notThrowsAsync(attached.detach());
});
