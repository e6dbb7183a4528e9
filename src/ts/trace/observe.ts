import {closeSync, openSync, readFileSync} from 'node:fs';
import path from 'node:path';
import {PdiError, shown} from '../errors.js';
import {interposeWith, sessionLabel} from '../launch/interpose.js';
import {removeOnSignal} from '../launch/signals.js';
import {nativeBinding} from '../native/binding.js';
import {temporaryDirectory} from '../launch/temporary.js';
import type {CallEvent} from './events.js';
import {checkOptionNames, traceConfig, tracedObjects, traceVariables, type TraceOptions} from './options.js';
import {parseEventLines, ringDirectory, TraceReader} from './reader.js';
import {SummaryCounter, type TraceSummary} from './summary.js';
import {traceMarks, unmatchedWarning, type TraceMarks} from './trace-marks.js';

/** Calls being observed in this process; see {@link observe}. */
export type Observation = {
	/**
	 * Uninstalls the callbacks (every slot gets its old value back), delivers
	 * the calls still in flight to `onCall`, and returns what was counted.
	 * Idempotent: later calls return the same summary.
	 */
	close(): TraceSummary;
	/** Whether close() has been called (as `Interposition.closed`). */
	readonly closed: boolean;
};

/**
 * Hands the events of each buffer to `onCall`, in order, counting each. Every event is counted and handed over even
 * when onCall throws for another one; its error is thrown again on the event loop (an uncaught exception), never into
 * the native reader or close(). A buffer that arrives while onCall runs (close() called from it finishes the reader)
 * waits in the queue for the loop already running, or for `drain()`.
 */
function eventDelivery(counter: SummaryCounter, onCall: (call: CallEvent) => void): {deliver: (data: Buffer) => void; drain: () => void} {
	let queue: CallEvent[] = [];
	let next = 0;
	let draining = false;
	// A drain inside onCall (close()) empties the queue, and the loop that called onCall then finds it empty.
	const drain = () => {
		const outer = draining;
		draining = true;
		try {
			while (next < queue.length) {
				const event = queue[next++]!;
				counter.add(event);
				try {
					onCall(event);
				} catch (error) {
					setImmediate(() => {
						throw error;
					});
				}
			}
		} finally {
			draining = outer;
		}

		queue = [];
		next = 0;
	};

	return {
		deliver(data: Buffer) {
			queue = queue.length === next ? parseEventLines<CallEvent>(data) : [...queue.slice(next), ...parseEventLines<CallEvent>(data)];
			next = 0;
			if (!draining) {
				drain();
			}
		},
		drain,
	};
}

/**
 * The notices the trace backend makes at the end of an observation (a function `functions` names plainly that this
 * process has no call site of), which its reader writes to `fd`, a file of the observation's directory: `take()` hands
 * them and `more` (pdi's own), once the reader has finished, to `onNotice` (one line each, without its newline; its error is thrown again on
 * the event loop, as onCall's) or, without it, to stderr, as `pdi trace` prints them.
 */
function endNotices(directory: string, onNotice: ((message: string) => void) | undefined): {fd: number; take: (more: string[]) => void; discard: () => void} {
	const file = path.join(directory, 'notices');
	const fd = openSync(file, 'w', 0o600);
	const discard = () => {
		closeSync(fd);
	};

	return {
		fd,
		discard,
		take(more) {
			discard();
			const text = readFileSync(file, 'utf8');
			for (const line of [...text.split('\n').filter(line => line !== ''), ...more]) {
				if (onNotice === undefined) {
					process.stderr.write(`${line}\n`);
					continue;
				}

				try {
					onNotice(line);
				} catch (error) {
					setImmediate(() => {
						throw error;
					});
				}
			}
		},
	};
}

/** observe()'s options and callbacks, refused before anything is installed. */
function checkObserveArguments(options: TraceOptions, onCall: unknown, onNotice: unknown): void {
	checkOptionNames(options);
	if (options.follow === true) {
		// Not silently ignored: the children of this process are not observed, whatever the option says.
		throw new PdiError('follow: observe() traces this process only, not its children; trace() a program with {follow: true} to follow its children');
	}

	if (typeof onCall !== 'function') {
		throw new PdiError(`onCall: expected a function, got ${typeof onCall}`);
	}

	if (onNotice !== undefined && typeof onNotice !== 'function') {
		throw new PdiError(`onNotice: expected a function, got ${shown(onNotice)}`);
	}
}

/**
 * Traces the calls the running Node process makes through the imports of
 * `options.objects` (default `'$main'`: the node executable itself, whose
 * imports include libc's file, socket and process functions) and hands
 * each completed call to `onCall`, asynchronously on the event loop.
 *
 * ```ts
 * const observation = observe({functions: 'open64'}, call => {
 * 	console.log(call.args?.[0]); // args is null when they could not be decoded
 * });
 * readFileSync('/etc/hostname');
 * // later
 * observation.close();
 * ```
 *
 * Calls are recorded by a callback stub in each import slot and read by a
 * native thread, so no call waits for JavaScript. What `onCall` itself does
 * may be traced too (it runs in this process): choose `functions` to suit.
 * One observation at a time; the process's children are not traced.
 */
export function observe(options: TraceOptions, onCall: (call: CallEvent) => void, onNotice?: (message: string) => void): Observation {
	const label = sessionLabel('observe()', observe);
	checkObserveArguments(options, onCall, onNotice);
	const variables = traceVariables({...options, follow: false});
	const config = traceConfig(tracedObjects(options), 'objects');
	// One per process, not per thread: a worker's observation and the main thread's would share the trace backend.
	if (!nativeBinding().claimObservation(true)) {
		throw new PdiError('observe(): an observation is already active in this process (in this thread or another); close() it first');
	}

	let scratch;
	try {
		scratch = temporaryDirectory('pdi-observe-');
	} catch (error) {
		nativeBinding().claimObservation(false);
		throw error;
	}

	// A worker thread that ends without close(): the addon removes it then, closes the session, stops the reader and frees the claim.
	nativeBinding().ownDirectory(scratch.path, true);
	const forget = removeOnSignal(scratch.remove);
	const removeScratch = () => {
		nativeBinding().ownDirectory(scratch.path, false);
		forget();
		scratch.remove();
	};

	const counter = new SummaryCounter();
	const delivery = eventDelivery(counter, onCall);
	let reader: TraceReader | undefined;
	let notices: ReturnType<typeof endNotices> | undefined;
	let installed;
	let marks: TraceMarks | undefined;
	try {
		const rings = ringDirectory(scratch.path);
		notices = endNotices(scratch.path, onNotice);
		reader = TraceReader.ofThisProcess(rings.directory, delivery.deliver, notices.fd);
		marks = traceMarks(scratch.path, config);
		// PDI_TRACE_ROOT: this process is the traced one (the backend would otherwise set it with setenv).
		const settings = {...variables, ...rings.variables, ...marks.variables, PDI_TRACE_ROOT: String(process.pid), PDI_TRACE_NOTICES: 'ring'};
		installed = interposeWith(config, settings, label);
	} catch (error) {
		reader?.finish();
		notices?.discard();
		removeScratch();
		nativeBinding().claimObservation(false);
		throw error;
	}

	let summary: TraceSummary | undefined;
	let ending: ReturnType<TraceReader['finish']> | undefined;
	return {
		close() {
			if (ending === undefined) {
				installed.close();
				ending = reader.finish();
				// Called from onCall: the calls after that one in its buffer, and those finish() read, are delivered
				// now, not after close() has returned. A close() from one of these onCalls returns the counts so far.
				delivery.drain();
				notices.take(marks.unmatchedObjects().map(pattern => unmatchedWarning(pattern, ' while observed')));
				removeScratch();
				nativeBinding().claimObservation(false);
				summary = counter.result(ending);
			}

			return summary ?? counter.result(ending);
		},
		get closed() {
			return ending !== undefined;
		},
	};
}
