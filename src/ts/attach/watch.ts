import {PdiError} from '../errors.js';
import {receiveSignals} from '../launch/signals.js';
import {coreMapped, processRuns} from '../proc-stat.js';

/** Why an attached session of the CLI ends: SIGINT/SIGTERM/SIGHUP, `--detach-after`, or the process ended. */
export type AttachEnd = 'signal' | 'timeout' | 'exited' | 'replaced';

export type AttachWatch = {
	/** Resolves once, with the first reason to end. */
	readonly ended: Promise<AttachEnd>;
	/** Starts the `--detach-after` clock (none when undefined). */
	arm(seconds: number | undefined): void;
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
	let onSignal = () => {
		finish('signal');
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
