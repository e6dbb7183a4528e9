import {readFileSync} from 'node:fs';

/** What decides whether this process may ptrace process `pid` (read when the kernel said no). */
export type PermissionFacts = {
	pid: number;
	/** The thread pdi was told to borrow (`attach()`'s `thread`), whose tracer is the one that counts. */
	thread?: number;
	/** The process already tracing it, or that thread (TracerPid in /proc/PID/status, /proc/PID/task/T/status), 0 when none. */
	tracerPid: number;
	/** That tracer's command name, when it could be read. */
	tracerName?: string;
	/** The target's effective uid, when it could be read. */
	targetUid?: number;
	/** This process's effective uid. */
	ownUid: number;
	/** kernel.yama.ptrace_scope, when Yama is there. */
	ptraceScope?: number;
};

function readText(file: string): string | undefined {
	try {
		return readFileSync(file, 'utf8');
	} catch {
		return undefined;
	}
}

/** The facts of {@link PermissionFacts} for `pid` (and the `thread` to borrow, when given) on this machine. */
export function permissionFacts(pid: number, thread?: number): PermissionFacts {
	const status = readText(`/proc/${pid}/status`) ?? '';
	// Each thread has its own tracer: `strace -p TID` traces that thread alone.
	const threadStatus = thread === undefined ? status : readText(`/proc/${pid}/task/${thread}/status`) ?? status;
	const tracerPid = Number(/^TracerPid:\s*(\d+)/m.exec(threadStatus)?.[1] ?? 0);
	const uids = /^Uid:\s*(\d+)\s+(\d+)/m.exec(status);
	const scope = readText('/proc/sys/kernel/yama/ptrace_scope')?.trim();
	return {
		pid,
		thread,
		tracerPid,
		tracerName: tracerPid > 0 ? readText(`/proc/${tracerPid}/comm`)?.trim() : undefined,
		targetUid: uids ? Number(uids[2]) : undefined,
		ownUid: process.geteuid?.() ?? -1,
		ptraceScope: scope === undefined || scope === '' ? undefined : Number(scope),
	};
}

/** The one line saying why the kernel refused to let pdi trace a process, from the facts that decide it. */
export function notPermittedMessage(facts: PermissionFacts): string {
	const start = `cannot attach to process ${facts.pid}`;
	if (facts.tracerPid > 0) {
		const name = facts.tracerName ? ` (${facts.tracerName})` : '';
		if (facts.thread !== undefined && facts.thread !== facts.pid) {
			return `${start}: its thread ${facts.thread} is already traced by process ${facts.tracerPid}${name}, and a thread can have only one tracer (a debugger, strace, another pdi attach)`;
		}

		return `${start}: it is already traced by process ${facts.tracerPid}${name}, and a process can have only one tracer (a debugger, strace, another pdi attach)`;
	}

	const root = facts.ownUid === 0;
	if (!root && facts.targetUid !== undefined && facts.targetUid !== facts.ownUid) {
		return `${start}: it runs as another user (uid ${facts.targetUid}); attach as that user or as root`;
	}

	switch (root ? undefined : facts.ptraceScope) {
		case 1: {
			return `${start}: kernel.yama.ptrace_scope is 1, so a process may trace only its own descendants; run pdi as root, or allow attaching with \`sysctl kernel.yama.ptrace_scope=0\``;
		}

		case 2: {
			return `${start}: kernel.yama.ptrace_scope is 2, so only root (CAP_SYS_PTRACE) may attach`;
		}

		case 3: {
			return `${start}: kernel.yama.ptrace_scope is 3, so no process may attach to another until the machine restarts`;
		}

		default: {
			return `${start}: the kernel does not permit tracing it (a setuid or otherwise non-dumpable program, or a security module's policy)`;
		}
	}
}
