import {execFileSync} from 'node:child_process';
import {existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {setTimeout as delay} from 'node:timers/promises';
import test from 'ava';
import {comux} from '../src/ts/comux/builder.js';
import {startPdi} from './helpers/cli.js';

const scratch = mkdtempSync(path.join(tmpdir(), 'pdi-comux-fork-killed-'));
test.after.always(() => {
	rmSync(scratch, {recursive: true, force: true});
});

/** The pids whose parent is `pid`. */
function childrenOf(pid: number): number[] {
	try {
		return execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], {encoding: 'utf8'}).trim().split(/\s+/).filter(Boolean).map(Number);
	} catch {
		return [];
	}
}

/** Whether process `pid` runs (a zombie that init has not reaped yet does not). */
function running(pid: number): boolean {
	try {
		return !/^\d+ \(.*\) Z/s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
	} catch {
		return false;
	}
}

/** The pdi-comux-fork-* directory whose files process `pid` holds open, if any. */
function forkDirectory(pid: number): string | undefined {
	for (const fd of readdirSync(`/proc/${pid}/fd`)) {
		try {
			const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
			if (path.basename(path.dirname(target)).startsWith('pdi-comux-fork-')) {
				return path.dirname(target);
			}
		} catch {}
	}

	return undefined;
}

test('pdi comux run --fork killed with SIGKILL: the guardian removes the fork server\'s output files and their directory with the server', async t => {
	const input = path.join(scratch, 'one.comux');
	writeFileSync(input, comux().conn(0, 'x', {awaitResponse: true}).bytes());
	// A server that never listens: the guardian waits for it until pdi is gone.
	const run = startPdi(['comux', 'run', '--fork', input, '--', 'sleep', '60']);
	const pdiPid = run.child.pid!;
	let server: number | undefined;
	for (let tries = 0; tries < 300 && server === undefined; tries++) {
		await delay(50);
		server = childrenOf(pdiPid).flatMap(guardian => childrenOf(guardian))[0];
	}

	// pdi closes its copies of the files once the server has them (at descriptors 4 to 7).
	const directory = server === undefined ? undefined : forkDirectory(server);

	t.truthy(directory, 'pdi opened no fork output files');
	t.truthy(server, 'the guardian started no server');
	t.true(existsSync(directory!));
	run.child.kill('SIGKILL');
	await run.exited;
	for (let tries = 0; tries < 100 && (existsSync(directory!) || running(server!)); tries++) {
		await delay(50);
	}

	t.false(running(server!), 'the server runs on');
	t.false(existsSync(directory!), `${directory} is left behind`);
});
