import {PdiError} from '../errors.js';
import {abortError} from '../launch/launch.js';
import {refusedAsStopped} from '../attach/inject.js';
import type {NormalizedConfig, PdiConfigInput} from '../config/types.js';
import {pidInOwnNamespace, processRuns} from '../proc-stat.js';
import type {CallEvent} from './events.js';
import {checkOptionNames, traceConfig, tracedObjects, traceVariables, type TraceOptions} from './options.js';
import {lossMessages} from './reader.js';
import type {TraceSummary} from './summary.js';
import {failTrace, startReading, type TraceReading} from './trace.js';
import {traceMarks, unmatchedWarning} from './trace-marks.js';
import {demangledNameWarnings} from './unseen.js';
import {withUserConfig} from './user-config.js';

/** How {@link traceProcess} attaches, besides what it traces. */
export type TraceProcessOptions = {
	/**
	 * A config installed with the trace (as `attach()`'s): its `act` rules change calls, and the events show the calls
	 * as they changed them; removed with the trace at the detach.
	 */
	config?: PdiConfigInput | NormalizedConfig | undefined;
	/** Aborting it detaches: `done` then rejects with an `AbortError`, after the calls made until then. */
	signal?: AbortSignal | undefined;
};

/** How a trace of a running process ended. */
export type ProcessTraceResult = {
	/** `detached` by {@link ProcessTrace.detach}, or the process `exited` first (its calls until then are all there). */
	ended: 'detached' | 'exited';
	/** Calls, errors and time per function, as `pdi trace -c` counts them, and the events lost. */
	summary: TraceSummary;
	/** What `pdi trace -p` would print on stderr besides the trace, one line each (as {@link TraceResult}'s). */
	warnings: string[];
};

/** A running process traced by {@link traceProcess}. */
export type ProcessTrace = {
	/** The process traced. */
	readonly pid: number;
	/** Every call, in the order each thread's calls returned (a caller after its callees); iterate once. */
	calls: AsyncIterable<CallEvent>;
	/** Settles once the trace has ended (a detach, or the process's end) and its events are all read. */
	done: Promise<ProcessTraceResult>;
	/** Ends the trace: the process's slots get their old values back, and it runs on untraced. Idempotent. */
	detach(): Promise<void>;
};

/** How often the process is looked at for its end. */
const endPollMs = 200;

/**
 * Traces a running process, as `pdi trace -p PID --json` does, until {@link ProcessTrace.detach} (or the process's
 * end), and delivers each call as a typed {@link CallEvent}. Resolves once the trace is installed.
 *
 * ```ts
 * const traced = await traceProcess(pid, {functions: 'accept4,read,write'});
 * for await (const call of traced.calls) {
 * 	console.log(call.function, call.args, call.ret);
 * 	if (call.function === 'write') {
 * 		await traced.detach();
 * 	}
 * }
 * const {ended, summary} = await traced.done;
 * ```
 *
 * The process must be one pdi may attach to (docs/attach.md); it takes one trace at a time. Calls not iterated yet
 * wait in memory: while a loop over `calls` runs, past 100,000 waiting the process's calls wait for it; with no loop
 * (only `done` awaited, for the summary) they all stay in memory, about 400 bytes each. Rejects with a `PdiError` of one
 * line for bad options and when the process cannot be attached to, and with an `AbortError` when `signal` was
 * aborted while it attached (the trace then removed); `follow` is refused (an attached process is traced alone). A
 * `detach()` that the process refused, stopped by a signal, rejects and leaves the trace on: call it again once the
 * process runs.
 */
export async function traceProcess(pid: number, options: TraceOptions & TraceProcessOptions = {}): Promise<ProcessTrace> {
	checkOptionNames(options, ['config', 'signal']);
	if (options.follow === true) {
		throw new PdiError('follow: an attached process is traced alone, not its children (pdi trace -p takes no -f either); trace() a program with {follow: true} to follow its children');
	}

	const {attachNormalized, checkPid, shareWithProcess} = await import('../attach/attach.js');
	const target = checkPid(pid);
	if (options.signal?.aborted) {
		throw abortError(options.signal);
	}

	// Without follow the backend traces only the process whose pid this is, as its own getpid() gives it.
	const variables = {...traceVariables(options), PDI_TRACE_ROOT: String(pidInOwnNamespace(target))};
	const traced = traceConfig(tracedObjects(options), 'objects');
	const config = withUserConfig(traced, options.config);
	const reading = startReading();
	let marks;
	let attached;
	try {
		marks = traceMarks(reading.scratch, traced);
		shareWithProcess(target, [reading.scratch]);
		attached = await attachNormalized(target, config, {...variables, ...reading.rings.variables, ...marks.variables, PDI_TRACE_NOTICES: 'ring'});
	} catch (error) {
		reading.abandon();
		throw error;
	}

	// Aborted while the attach ran: undone at once, and this call rejects as an aborted one does.
	if (options.signal?.aborted) {
		await attached.detach().catch(() => undefined);
		reading.abandon();
		throw abortError(options.signal);
	}

	return followAttached(target, {attached, reading, marks, options});
}

type Attached = {
	attached: {detach(): Promise<void>};
	reading: TraceReading;
	marks: ReturnType<typeof traceMarks>;
	options: TraceOptions & TraceProcessOptions;
};

/** The {@link ProcessTrace} of an installed trace: its end by a detach, an abort or the process's exit. */
function followAttached(pid: number, {attached, reading, marks, options}: Attached): ProcessTrace {
	const {reader, queue, counter, notices} = reading;
	let ending: Promise<ProcessTraceResult> | undefined;
	let resolveDone: (result: ProcessTraceResult) => void = () => undefined;
	let rejectDone: (error: unknown) => void = () => undefined;
	const done = new Promise<ProcessTraceResult>((resolve, reject) => {
		resolveDone = resolve;
		rejectDone = reject;
	});
	const end = async (how: 'detached' | 'exited' | 'aborted'): Promise<ProcessTraceResult> => {
		let failure: unknown;
		try {
			await attached.detach();
		} catch (error) {
			if (refusedAsStopped(error)) {
				// Nothing changed in the stopped process: the trace goes on, and a later detach() tries again.
				ending = undefined;
				throw error;
			}

			failure = error;
		}

		clearInterval(poll);
		options.signal?.removeEventListener('abort', onAbort);
		const ended = reader.finish();
		const lines = [...notices.take(), ...marks.unmatchedObjects().map(pattern => unmatchedWarning(pattern, ` in process ${pid} while it was traced`))];
		reading.removeScratch();
		if (failure !== undefined || how === 'aborted') {
			failTrace(queue, done, failure instanceof Error ? failure : abortError(options.signal));
		}

		queue.end();
		return {ended: how === 'exited' ? 'exited' : 'detached', summary: counter.result(ended), warnings: [...demangledNameWarnings(options.functions, options.demangle, 'functions', 'demangle: true'), ...lossMessages(ended), ...lines]};
	};

	/** Ends the trace once; a detach refused by a stopped process rejects and leaves it to be ended again. */
	const finish = async (how: 'detached' | 'exited' | 'aborted'): Promise<void> => {
		if (ending === undefined) {
			const current = end(how);
			ending = current;
			current.then(resolveDone, (error: unknown) => {
				if (!refusedAsStopped(error)) {
					rejectDone(error);
				}
			});
		}

		await ending;
	};

	const onAbort = () => {
		finish('aborted').catch(() => undefined);
	};

	options.signal?.addEventListener('abort', onAbort, {once: true});
	const poll = setInterval(() => {
		if (!processRuns(pid)) {
			finish('exited').catch(() => undefined);
		}
	}, endPollMs);
	return {pid, calls: queue, done, detach: async () => detachOnce(finish, done)};
}

/** {@link ProcessTrace.detach}: refused by a stopped process, it rejects (and may be called again). */
async function detachOnce(finish: (how: 'detached') => Promise<void>, done: Promise<ProcessTraceResult>): Promise<void> {
	try {
		await finish('detached');
	} catch (error) {
		if (refusedAsStopped(error)) {
			throw error;
		}
	}

	// A detach that failed otherwise is the caller's to hear; an abort's is done's.
	await done.then(() => undefined, (error: unknown) => {
		if (!(error instanceof Error && error.name === 'AbortError')) {
			throw error;
		}
	});
}
