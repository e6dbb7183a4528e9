import {readdirSync, readFileSync} from 'node:fs';
import {receiveSignals} from '../launch/signals.js';
import {processRuns} from '../proc-stat.js';

/** How often the rings' writers are looked at while pdi waits for them. */
const pollMs = 50;
/**
 * How long no writer must have been seen alive before the wait ends: a child that its parent forked just
 * before it exited makes its ring in its fork handler, which may run a little after the parent is gone.
 */
const quietMs = 150;

/** The pids that write the rings of `directory` (`<pid>-<start ns>.ring`) and still run. */
function runningWriters(directory: string): number[] {
	let names: string[];
	try {
		names = readdirSync(directory);
	} catch {
		return [];
	}

	const pids = new Set(names.map(name => /^(\d+)-\d+\.ring$/.exec(name)?.[1]).filter(pid => pid !== undefined).map(Number));
	return [...pids].filter(pid => processRuns(pid));
}

/**
 * The notice for the followed processes that still run when a signal ended the wait for them (a daemon's), or
 * undefined when none does: `pdi trace -f` stops tracing them, and they run on.
 */
export function runningOnNotice(directory: string, signal: NodeJS.Signals): string | undefined {
	const left = runningWriters(directory).map(pid => {
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
 * signal is returned then.
 */
export async function waitForFollowed(directory: string, stopOnSignal: boolean): Promise<NodeJS.Signals | undefined> {
	let stopped: NodeJS.Signals | undefined;
	const release = stopOnSignal
		? receiveSignals(signal => {
			stopped = signal;
		})
		: () => undefined;
	try {
		let quietSince = Date.now();
		while (stopped === undefined && Date.now() - quietSince < quietMs) {
			await new Promise(resolve => {
				setTimeout(resolve, pollMs);
			});
			if (runningWriters(directory).length > 0) {
				quietSince = Date.now();
			}
		}

		return stopped;
	} finally {
		release();
	}
}
