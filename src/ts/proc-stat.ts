import {readdirSync, readFileSync, statSync} from 'node:fs';

/**
 * The fields of `/proc/PID/stat` after the command name: state, ppid, pgrp, session, tty_nr, tpgid, ... (proc(5));
 * undefined when the process is gone. The name, in parentheses, may itself hold `) `.
 */
export function processStat(pid: number | 'self'): string[] | undefined {
	let stat;
	try {
		stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
	} catch {
		return undefined;
	}

	return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

const ended = (state: string | undefined): boolean => state === undefined || state === 'Z' || state === 'X';

/**
 * Whether process `pid` runs: it exists and is not a zombie (the process that started it has not reaped it yet). A
 * process whose main thread ended (`pthread_exit`) shows that thread as a zombie while its other threads run on: it
 * runs.
 */
export function processRuns(pid: number): boolean {
	const state = processStat(pid)?.[0];
	if (state !== 'Z') {
		return !ended(state);
	}

	let tasks: string[];
	try {
		tasks = readdirSync(`/proc/${pid}/task`);
	} catch {
		return false;
	}

	return tasks.some(task => Number(task) !== pid && !ended(processStat(Number(task))?.[0]));
}

/** Whether process `pid` is stopped by a signal (SIGSTOP, Ctrl-Z's SIGTSTP: state T; not a debugger's stop, t). */
export function processStopped(pid: number): boolean {
	return processStat(pid)?.[0] === 'T';
}

/**
 * Whether process `pid` has pdi's core mapped (a session attached there lives in it): false once the process ran
 * another program (exec), which drops every object of the image it attached to. Read through each thread, as a
 * process whose main thread ended shows no maps through it; true when no thread's maps can be read.
 */
export function coreMapped(pid: number): boolean {
	let tasks: string[];
	try {
		tasks = readdirSync(`/proc/${pid}/task`);
	} catch {
		return true;
	}

	for (const task of tasks) {
		try {
			const maps = readFileSync(`/proc/${pid}/task/${task}/maps`, 'latin1');
			if (maps !== '') {
				return maps.includes('/pdi-preload.so\n');
			}
		} catch {}
	}

	return true;
}

/**
 * The pid that process `pid` has in its own pid namespace, as its `getpid()` returns it (the last of `NSpid` in
 * `/proc/PID/status`): `pid` itself outside a container, another number in one (`unshare --pid`, docker).
 */
export function pidInOwnNamespace(pid: number): number {
	try {
		const line = /^NSpid:\s*(.*)$/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'))?.[1];
		const last = line?.trim().split(/\s+/).at(-1);
		return last !== undefined && /^\d+$/.test(last) ? Number(last) : pid;
	} catch {
		return pid;
	}
}

/**
 * `PID START PIDNS` of this process, as the core reads PDI_SESSION_OWNER: the process whose launch a session serves
 * only while it runs (its start time in clock ticks tells it from a later process of the same pid).
 */
export function ownIdentity(): string {
	return `${process.pid} ${processStat('self')?.[19] ?? 0} ${statSync('/proc/self/ns/pid').ino}`;
}
