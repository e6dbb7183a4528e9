import type {ChildProcess} from 'node:child_process';
import {constants} from 'node:os';
import {isMainThread} from 'node:worker_threads';

/** The signals pdi passes on to the programs it runs. */
export const forwardedSignals: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** Adds `member` to `members`; `listener` is on the forwarded signals while `members` is not empty. */
function addWhileListening<T>(members: Set<T>, member: T, listener: (signal: NodeJS.Signals) => void): () => void {
	if (members.size === 0) {
		for (const signal of forwardedSignals) {
			process.on(signal, listener);
		}
	}

	members.add(member);
	return () => {
		if (members.delete(member) && members.size === 0) {
			for (const signal of forwardedSignals) {
				process.off(signal, listener);
			}
		}
	};
}

const receivers = new Set<(signal: NodeJS.Signals) => void>();
let lastForwarded: NodeJS.Signals | undefined;

function forward(signal: NodeJS.Signals): void {
	lastForwarded = signal;
	for (const receive of receivers) {
		receive(signal);
	}
}

/**
 * Hands SIGINT, SIGTERM and SIGHUP received by this process to `receive`
 * (which stops what pdi started) until the returned function is called;
 * meanwhile they do not end pdi at once.
 */
export function receiveSignals(receive: (signal: NodeJS.Signals) => void): () => void {
	return addWhileListening(receivers, receive, forward);
}

/**
 * Passes SIGINT, SIGTERM and SIGHUP received by this process on to `child`
 * until the returned function is called (when the child has exited).
 */
export function forwardSignals(child: ChildProcess): () => void {
	return receiveSignals(signal => child.kill(signal));
}

/** Whether a program started by pdi is running and receives the signals this process gets. */
export function forwardingSignals(): boolean {
	return receivers.size > 0;
}

/** The last signal passed on to a program started by pdi, if any. */
export function forwardedSignal(): NodeJS.Signals | undefined {
	return lastForwarded;
}

/** Exit status of a child, shell style: its status, or 128+N when signal N ended it. */
export function exitStatus(code: number | null, signal: NodeJS.Signals | null): number {
	if (signal) {
		return 128 + (constants.signals[signal] ?? 0);
	}

	return code ?? 1;
}

const removedOnSignal = new Set<() => void>();

/**
 * A SIGINT, SIGTERM or SIGHUP that nothing else in the process listens to ends it without its 'exit' event: the
 * temporary files given to {@link removeOnSignal} (of the interpose() and observe() sessions still open, of the
 * programs spawn() started that still run) are removed first, then the signal is raised again with its default
 * action, so that the process still ends by it (status 128+N). A process with a listener of its own (runProgram()'s
 * forwarding is one) is left to it.
 */
function removeThenRaise(signal: NodeJS.Signals): void {
	if (process.listenerCount(signal) > 1) {
		return;
	}

	for (const remove of removedOnSignal) {
		remove();
	}

	removedOnSignal.clear();
	for (const fatal of forwardedSignals) {
		process.off(fatal, removeThenRaise);
	}

	process.kill(process.pid, signal);
}

/**
 * Runs `remove` should the process be ended by a signal before the returned function is called. Signals reach only
 * the main thread; a worker's files are removed by the addon when the worker ends.
 */
export function removeOnSignal(remove: () => void): () => void {
	if (!isMainThread) {
		return () => undefined;
	}

	return addWhileListening(removedOnSignal, remove, removeThenRaise);
}
