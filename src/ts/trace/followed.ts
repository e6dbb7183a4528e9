import {closeSync, openSync, readdirSync, readFileSync, readSync, statSync} from 'node:fs';
import path from 'node:path';
import {receiveSignals} from '../launch/signals.js';
import {nativeBinding} from '../native/binding.js';
import {processRuns} from '../proc-stat.js';

/** How often the rings' writers are looked at while pdi waits for them. */
const pollMs = 50;
/**
 * How long no writer must have been seen alive before the wait ends: a child that its parent forked just
 * before it exited makes its ring in its fork handler, which may run a little after the parent is gone.
 */
const quietMs = 150;

/** The inode of pdi's own pid namespace, as a ring's header keeps its writer's (32 bits); 0 when unknown. */
const ownPidNamespace = (() => {
	try {
		return statSync('/proc/self/ns/pid').ino % 2 ** 32;
	} catch {
		return 0;
	}
})();

/** TRACE_RING_MAGIC, stored last when the writer has filled in the header. */
const ringMagic = 0x67_6E_69_72;

/**
 * The writer_pid_ns of a ring's header (src/native/backends/trace/ring.h), 0 when unknown; `known` keeps those of
 * complete headers, so that a wait reads each once, not at each look.
 */
function ringPidNamespace(file: string, known: Map<string, number>): number {
	const namespace = known.get(file);
	if (namespace !== undefined) {
		return namespace;
	}

	const header = Buffer.alloc(56);
	try {
		const fd = openSync(file, 'r');
		try {
			if (readSync(fd, header, 0, header.length, 0) !== header.length || header.readUInt32LE(0) !== ringMagic) {
				return 0;
			}
		} finally {
			closeSync(fd);
		}
	} catch {
		return 0;
	}

	const complete = header.readUInt32LE(52);
	known.set(file, complete);
	return complete;
}

/** A process that writes a ring; `foreign`: in another pid namespace than pdi's, where its pid is not pdi's to look at. */
type Writer = {pid: number; foreign: boolean};

/**
 * The processes that write the rings of `directory` (`<pid>-<start ns>.ring`) and still run: by their pids, or for
 * one in another pid namespace (a program that made one: `unshare --pid`, a container) by the lock it holds on its
 * ring file while it runs, as its pid there may be any process's here (1 is pdi's init, which runs for ever).
 */
function runningWriters(directory: string, namespaces = new Map<string, number>()): Writer[] {
	let names: string[];
	try {
		names = readdirSync(directory);
	} catch {
		return [];
	}

	const writers = new Map<string, Writer>();
	for (const name of names) {
		const pid = /^(\d+)-\d+\.ring$/.exec(name)?.[1];
		if (pid === undefined) {
			continue;
		}

		const file = path.join(directory, name);
		const namespace = ringPidNamespace(file, namespaces);
		const foreign = namespace !== 0 && ownPidNamespace !== 0 && namespace !== ownPidNamespace;
		if (foreign ? nativeBinding().lockHeld(file) : processRuns(Number(pid))) {
			writers.set(foreign ? name : pid, {pid: Number(pid), foreign});
		}
	}

	return [...writers.values()];
}

/**
 * The notice for the followed processes that still run when a signal ended the wait for them (a daemon's), or
 * undefined when none does: `pdi trace -f` stops tracing them, and they run on.
 */
export function runningOnNotice(directory: string, signal: NodeJS.Signals): string | undefined {
	const left = runningWriters(directory).map(({pid, foreign}) => {
		if (foreign) {
			return `${pid} (in a pid namespace of its own)`;
		}

		try {
			return `${pid} (${readFileSync(`/proc/${pid}/comm`, 'utf8').trim()})`;
		} catch {
			return String(pid);
		}
	});
	return left.length === 0 ? undefined : `pdi: ${signal} ended the trace; ${left.length === 1 ? 'process' : 'processes'} ${left.join(', ')} ${left.length === 1 ? 'runs' : 'run'} on, untraced from now on`;
}

/**
 * With `-f`, once the started program has exited: waits until no process that writes a ring of `directory`
 * runs any more (a daemon's child lives on after the parent pdi started), as `strace -f` waits for every
 * traced process, so that the summary and the JSON lines cover all of them. With `stopOnSignal` (the CLI),
 * SIGINT, SIGTERM or SIGHUP ends the wait early (the processes run on, their later calls are lost): the
 * signal is returned then. Aborting `abort` (trace()'s `signal`) ends it early the same way, also when it was
 * aborted before the wait began.
 */
export async function waitForFollowed(directory: string, stopOnSignal: boolean, abort?: AbortSignal): Promise<NodeJS.Signals | undefined> {
	let stopped: NodeJS.Signals | undefined;
	const release = stopOnSignal
		? receiveSignals(signal => {
			stopped = signal;
		})
		: () => undefined;
	try {
		const namespaces = new Map<string, number>();
		let quietSince = Date.now();
		while (stopped === undefined && abort?.aborted !== true && Date.now() - quietSince < quietMs) {
			await new Promise(resolve => {
				setTimeout(resolve, pollMs);
			});
			if (runningWriters(directory, namespaces).length > 0) {
				quietSince = Date.now();
			}
		}

		return stopped;
	} finally {
		release();
	}
}
