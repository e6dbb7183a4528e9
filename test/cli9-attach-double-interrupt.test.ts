import {spawn} from 'node:child_process';
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {constants, tmpdir} from 'node:os';
import path from 'node:path';
import {setTimeout as delay} from 'node:timers/promises';
import test from 'ava';
import {cliPath, pdi} from './helpers/cli.js';

/** Runs `pdi ARGS` in a process group of its own and sends the group SIGINT twice, `gapMs` apart, once it has attached. */
async function interruptTwice(args: readonly string[], gapMs: number): Promise<{status: number | null; stderr: string}> {
	const child = spawn(process.execPath, [cliPath, ...args], {detached: true, stdio: ['ignore', 'ignore', 'pipe']});
	let stderr = '';
	const attached = new Promise<void>(resolve => {
		child.stderr.setEncoding('utf8').on('data', (text: string) => {
			stderr += text;
			if (/Ctrl-C or SIGTERM detaches/.test(stderr)) {
				resolve();
			}
		});
	});
	// The status as a shell gives it: 128+N for death by signal N.
	const ended = new Promise<number | null>(resolve => {
		child.on('close', (code, signal) => {
			resolve(signal === null ? code : 128 + constants.signals[signal]);
		});
	});
	await Promise.race([attached, ended]);
	const interrupt = () => {
		try {
			process.kill(-child.pid!, 'SIGINT');
		} catch {}
	};

	interrupt();
	await delay(gapMs);
	interrupt();
	return {status: await ended, stderr};
}

test.serial('a second Ctrl-C to pdi attach and pdi trace -p right after the first never leaves the session installed: each detaches, and the next attach succeeds', async t => {
	// Before: the second SIGINT reached pdi-inject (in pdi's process group) before it ignored SIGINT; killed there, it
	// left the session in the process, pdi exited 130 without a word, and every later attach was refused.
	const directory = mkdtempSync(path.join(tmpdir(), 'pdi-cli9-'));
	const config = path.join(directory, 'count.cfg');
	writeFileSync(config, 'act $main nanosleep count\n');
	const sleeper = spawn('sleep', ['120'], {stdio: 'ignore'});
	try {
		const pid = String(sleeper.pid);
		const runs = [
			...[1, 1, 1, 3, 10].map(gap => [['attach', pid, '-c', config], gap] as const),
			...[1, 1, 5].map(gap => [['trace', '-p', pid, '-c', '-o', path.join(directory, 'trace.out')], gap] as const),
		];
		for (const [args, gap] of runs) {
			const run = await interruptTwice(args, gap);
			// 130 only when the second signal came as Node was already tearing itself down, after the detach (it then
			// dies of it).
			t.true(run.status === 0 || run.status === 130, `${args[0]} (${gap} ms): ${run.status} ${run.stderr}`);
			t.regex(run.stderr, new RegExp(`pdi: detached from process ${pid}\\n`), `${args[0]} (${gap} ms)`);
		}

		const after = await pdi(['attach', pid, '-c', config, '--detach-after', '.2']);
		t.is(after.code, 0, after.stderr);
	} finally {
		sleeper.kill();
		rmSync(directory, {recursive: true, force: true});
	}
});
