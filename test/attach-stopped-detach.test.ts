import {spawn, type ChildProcess} from 'node:child_process';
import {writeFileSync} from 'node:fs';
import {constants} from 'node:os';
import path from 'node:path';
import test, {type ExecutionContext} from 'ava';
import {attach} from '../src/ts/attach/attach.js';
import {PdiError} from '../src/ts/errors.js';
import {processStopped} from '../src/ts/proc-stat.js';
import {cliPath, pdi} from './helpers/cli.js';
import {compileC, scratchDirectory} from './helpers/files.js';
import {until} from './helpers/until.js';

const scratch = scratchDirectory('pdi-attach-stopped-');
const looper = compileC(scratch, 'getpid-loop', `
#include <stdio.h>
#include <unistd.h>
int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  for (;;) {
    printf("%d\\n", (int)getpid());
    usleep(20000);
  }
}
`);
const config = path.join(scratch, 'getpid.cfg');
writeFileSync(config, 'act $main getpid return=4242\n');

/** The loop program, with the last number it printed (its pid, or what an act rule made getpid return). */
function startLoop(): {child: ChildProcess; last: () => string} {
	const child = spawn(looper, [], {stdio: ['ignore', 'pipe', 'ignore']});
	let last = '';
	child.stdout.setEncoding('utf8').on('data', (text: string) => {
		last = text.trim().split('\n').at(-1)!;
	});
	return {child, last: () => last};
}

/** `pdi ARGS` in the background: its stderr so far, and its status as a shell gives it (128+N for signal N). */
function startPdi(args: readonly string[]): {child: ChildProcess; stderr: () => string; status: Promise<number | null>} {
	const child = spawn(process.execPath, [cliPath, ...args], {stdio: ['ignore', 'ignore', 'pipe']});
	let stderr = '';
	child.stderr.setEncoding('utf8').on('data', (text: string) => {
		stderr += text;
	});
	const status = new Promise<number | null>(resolve => {
		child.on('close', (code, signal) => {
			resolve(signal === null ? code : 128 + constants.signals[signal]);
		});
	});
	return {child, stderr: () => stderr, status};
}

const waiting = (pid: number) => `pdi: process ${pid} is stopped (by a signal): waiting for it to continue, to detach (kill -CONT ${pid}, or fg in its shell); another Ctrl-C or SIGTERM leaves pdi's session in it\n`;

/**
 * The loop with `pdi attach` and its rule in it (getpid 4242), then stopped by SIGSTOP while pdi gets `signal`: once
 * pdi says it waits for the process to continue.
 */
async function stoppedAtTheDetach(t: ExecutionContext, signal: NodeJS.Signals) {
	const loop = startLoop();
	const pid = loop.child.pid!;
	const attached = startPdi(['attach', String(pid), '-c', config]);
	t.true(await until(() => loop.last() === '4242', 10_000), attached.stderr());
	loop.child.kill('SIGSTOP');
	attached.child.kill(signal);
	t.true(await until(() => attached.stderr().endsWith(waiting(pid)), 5000), attached.stderr());
	return {loop, pid, attached};
}

test('Ctrl-C to pdi attach while its process is stopped waits for the process to continue, then detaches: the rules never stay behind unsaid', async t => {
	// Before: pdi exited 130 without a word, and the process ran on with the rule (getpid 4242) after SIGCONT.
	const {loop, pid, attached} = await stoppedAtTheDetach(t, 'SIGINT');
	try {
		loop.child.kill('SIGCONT');
		t.is(await attached.status, 0, attached.stderr());
		t.regex(attached.stderr(), new RegExp(`pdi: detached from process ${pid}\\n$`));
		t.true(await until(() => loop.last() === String(pid), 5000), loop.last());
	} finally {
		loop.child.kill('SIGKILL');
	}
});

test('a second signal while the stopped process is awaited ends pdi saying that its session stays and how to remove it; the next attach removes it', async t => {
	const {loop, pid, attached} = await stoppedAtTheDetach(t, 'SIGTERM');
	try {
		attached.child.kill('SIGTERM');
		t.is(await attached.status, 143, attached.stderr());
		t.true(attached.stderr().endsWith(`pdi: process ${pid} is stopped: pdi's session stays installed in it, and the next pdi attach or trace -p of it removes it first (to just remove it: pdi attach ${pid} -c CONFIG --detach-after 0.01)\n`), attached.stderr());
		loop.child.kill('SIGCONT');
		t.true(await until(() => loop.last() === '4242', 5000), 'the session stayed, as said');
		const removed = await pdi(['attach', String(pid), '-c', config, '--detach-after', '0.01']);
		t.is(removed.code, 0, removed.stderr);
		t.true(await until(() => loop.last() === String(pid), 5000), loop.last());
	} finally {
		loop.child.kill('SIGKILL');
	}
});

test('pdi trace -p interrupted while its process is stopped waits for it too, then detaches with the trace whole', async t => {
	const loop = startLoop();
	const pid = loop.child.pid!;
	try {
		const traced = startPdi(['trace', '-p', String(pid), '-e', 'getpid']);
		t.true(await until(() => traced.stderr().includes(`loop!getpid() = ${pid}\n`), 10_000), traced.stderr());
		loop.child.kill('SIGSTOP');
		traced.child.kill('SIGINT');
		t.true(await until(() => traced.stderr().includes(waiting(pid)), 5000), traced.stderr());
		loop.child.kill('SIGCONT');
		t.is(await traced.status, 0, traced.stderr());
		t.regex(traced.stderr(), new RegExp(`pdi: detached from process ${pid}\\n$`));
	} finally {
		loop.child.kill('SIGKILL');
	}
});

test('attach()\'s detach() of a process stopped by a signal rejects, changes nothing, and succeeds when called again once the process runs', async t => {
	// Before: the failed detach was kept, so every later detach() gave the same failure without trying, and pdi attach,
	// whose first detach had raced a SIGSTOP, waited for ever once the process ran again.
	const loop = startLoop();
	const pid = loop.child.pid!;
	try {
		const attached = await attach(pid, undefined, {configFiles: [config]});
		t.true(await until(() => loop.last() === '4242', 10_000));
		loop.child.kill('SIGSTOP');
		t.true(await until(() => processStopped(pid), 5000));
		await t.throwsAsync(attached.detach(), {instanceOf: PdiError, message: `process ${pid} is stopped (by SIGSTOP): continue it first (kill -CONT ${pid}, or fg in its shell)`});
		loop.child.kill('SIGCONT');
		t.true(await until(() => loop.last() === '4242', 5000), 'the rule is still there');
		await attached.detach();
		t.true(await until(() => loop.last() === String(pid), 5000), loop.last());
	} finally {
		loop.child.kill('SIGKILL');
	}
});
