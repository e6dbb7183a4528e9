import {spawn} from 'node:child_process';
import {setTimeout as delay} from 'node:timers/promises';
import type {ExecutionContext} from 'ava';
import {processesMentioning} from './servers.js';
import {temporaryEntries} from './files.js';

/** What a `pdi comux run` killed with SIGKILL while its server was starting left: in `temporary` while it ran, and after. */
export type KilledRun = {serverWhileRunning: number; whileRunning: string[]; serverLeft: number[]; left: string[]};

/**
 * Runs `cli comux run INPUT -- /bin/sleep N` (a server that never listens: without pdi's timer it would run its whole
 * time) with `temporary` as TMPDIR, kills pdi with SIGKILL once the guardian and the server it forked run, and waits
 * up to 3 s for the guardian to see pdi gone and end the server.
 */
export async function comuxRunKilledWhileStarting(t: ExecutionContext, cli: string, input: string, temporary: string, marker: number): Promise<KilledRun> {
	const seconds = String(marker + (process.pid % 1000));
	const started = spawn(process.execPath, [cli, 'comux', 'run', input, '--', '/bin/sleep', seconds], {stdio: 'ignore', env: {...process.env, TMPDIR: temporary}});
	const server = () => processesMentioning(`/bin/sleep ${seconds}`).filter(pid => pid !== started.pid);
	t.teardown(() => {
		for (const pid of server()) {
			process.kill(pid, 'SIGKILL');
		}
	});
	for (let tries = 0; tries < 500 && server().length < 2; tries++) {
		await delay(10); // the guardian and the server it forked
	}

	const serverWhileRunning = server().length;
	const whileRunning = temporaryEntries(temporary);
	started.kill('SIGKILL');
	for (let tries = 0; tries < 300 && server().length > 0; tries++) {
		await delay(10);
	}

	return {serverWhileRunning, whileRunning, serverLeft: server(), left: temporaryEntries(temporary)};
}
