import {PdiError} from '../errors.js';
import {receiveSignals} from '../launch/signals.js';
import {coreMapped, processRuns, processStopped} from '../proc-stat.js';
import {refusedAsStopped, sessionLeftInStopped} from './inject.js';

/** Why an attached session of the CLI ends: SIGINT/SIGTERM/SIGHUP, `--detach-after`, or the process ended. */
export type AttachEnd = 'signal' | 'timeout' | 'exited' | 'replaced';

export type AttachWatch = {
	/** Resolves once, with the first reason to end. */
	readonly ended: Promise<AttachEnd>;
	/** Starts the `--detach-after` clock (none when undefined). */
	arm(seconds: number | undefined): void;
	/** Resolves at the next SIGINT, SIGTERM or SIGHUP pdi receives (before {@link stop}). */
	nextSignal(): Promise<'signal'>;
	/**
	 * Stops watching. SIGINT, SIGTERM and SIGHUP stay received, and do nothing from then on: pdi is about to exit, and
	 * a second Ctrl-C just after the first must neither turn a clean detach into status 130 nor leave pdi's
	 * temporary files behind.
	 */
	stop(): void;
};

const pollMs = 200;

/**
 * Watches for the end of an attached session of the CLI. Started before the
 * injector runs: a Ctrl-C meanwhile must not end pdi with the process half
 * attached, it ends the session as soon as the attach has finished.
 */
export function watchAttached(pid: number): AttachWatch {
	let finish: (end: AttachEnd) => void = () => undefined;
	const ended = new Promise<AttachEnd>(resolve => {
		finish = resolve;
	});
	let waiting: Array<() => void> = [];
	let onSignal = () => {
		finish('signal');
		const waiters = waiting;
		waiting = [];
		for (const wake of waiters) {
			wake();
		}
	};

	receiveSignals(() => {
		onSignal();
	});
	const poll = setInterval(() => {
		if (!processRuns(pid)) {
			finish('exited');
		} else if (armed && !coreMapped(pid)) {
			finish('replaced');
		}
	}, pollMs);
	let timer: NodeJS.Timeout | undefined;
	// Until the attach has finished, the core is not there yet.
	let armed = false;
	return {
		ended,
		arm(seconds) {
			armed = true;
			if (seconds !== undefined) {
				timer = setTimeout(() => finish('timeout'), seconds * 1000);
			}
		},
		async nextSignal() {
			return new Promise(resolve => {
				waiting.push(() => {
					resolve('signal');
				});
			});
		},
		stop() {
			clearInterval(poll);
			clearTimeout(timer);
			onSignal = () => undefined;
		},
	};
}

/** The seconds of `--detach-after`, checked. */
export function detachAfterSeconds(text: string | undefined): number | undefined {
	if (text === undefined) {
		return undefined;
	}

	const seconds = Number(text);
	if (text.trim() === '' || !Number.isFinite(seconds) || seconds <= 0 || seconds > 2_147_483) {
		throw new PdiError(`--detach-after: '${text}' is not a number of seconds (more than 0, at most 2147483: about 24 days)`);
	}

	return seconds;
}

/**
 * Runs `detach` once process `pid` can run it: a process stopped by a signal (SIGSTOP, Ctrl-Z) runs no code, so pdi
 * says so and waits for it to continue, or to end ('exited': its end ended the session). A signal meanwhile gives up
 * with a PdiError that says the session stays in the process and how to remove it: pdi never ends silently with
 * its rules installed.
 */
export async function detachWhenRunning(pid: number, watch: AttachWatch, detach: () => Promise<void>): Promise<'exited' | undefined> {
	// Until `done` holds (looked at every 50 ms); a signal meanwhile gives up, the session left as it is.
	const waitUnlessSignalled = async (done: () => boolean) => {
		let poll: NodeJS.Timeout | undefined;
		const looked = new Promise<'done'>(resolve => {
			poll = setInterval(() => {
				if (done()) {
					resolve('done');
				}
			}, 50);
		});
		const woken = await Promise.race([looked, watch.nextSignal()]);
		clearInterval(poll);
		if (woken === 'signal') {
			// Said by the detach that pdi's end runs (detachNow): this error ends pdi, by the signal.
			throw new PdiError(sessionLeftInStopped(pid));
		}
	};

	let said = false;
	for (;;) {
		if (processStopped(pid)) {
			if (!said) {
				said = true;
				process.stderr.write(`pdi: process ${pid} is stopped (by a signal): waiting for it to continue, to detach (kill -CONT ${pid}, or fg in its shell); another Ctrl-C or SIGTERM leaves pdi's session in it\n`);
			}

			await waitUnlessSignalled(() => !processStopped(pid));
			continue;
		}

		if (!processRuns(pid)) {
			// Its end is the session's (what the detach does then is pdi's side of it).
			await detach();
			return 'exited';
		}

		try {
			await detach();
			return undefined;
		} catch (error) {
			// Stopped between the look and the detach, or still in its stop as a SIGCONT arrives: the injector refused
			// it, and changed nothing. Again after the next look.
			if (!refusedAsStopped(error)) {
				throw error;
			}

			await waitUnlessSignalled(() => true);
		}
	}
}
