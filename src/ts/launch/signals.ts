import type {ChildProcess} from 'node:child_process';
import {constants} from 'node:os';

/** The signals pdi passes on to the programs it runs. */
export const forwardedSignals: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

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
	if (receivers.size === 0) {
		for (const signal of forwardedSignals) {
			process.on(signal, forward);
		}
	}

	receivers.add(receive);
	return () => {
		if (receivers.delete(receive) && receivers.size === 0) {
			for (const signal of forwardedSignals) {
				process.off(signal, forward);
			}
		}
	};
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
