import type {ChildProcess, ChildProcessByStdio, ChildProcessWithoutNullStreams, StdioNull, StdioOptions, StdioPipe} from 'node:child_process';
import {closeSync, existsSync, openSync, readFileSync} from 'node:fs';
import path from 'node:path';
import type {Readable, Writable} from 'node:stream';
import {fileSystemReason, PdiError} from '../errors.js';
import {abortOf, checkCommandLine, launch} from '../launch/launch.js';
import {exitStatus, removeOnSignal} from '../launch/signals.js';
import type {Piped} from '../launch/spawn.js';
import {temporaryDirectory} from '../launch/temporary.js';
import {traceMarks, unmatchedWarning, type TraceMarks} from './trace-marks.js';
import {EventQueue} from './event-queue.js';
import type {CallEvent} from './events.js';
import {checkOptionNames, traceConfig, tracedObjects, traceVariables, type TraceOptions} from './options.js';
import {withUserConfig} from './user-config.js';
import type {NormalizedConfig, PdiConfigInput} from '../config/types.js';
import {waitForFollowed} from './followed.js';
import {lossMessages, parseEventLines, ringDirectory, TraceReader} from './reader.js';
import {SummaryCounter, type TraceSummary} from './summary.js';
import {demangledNameWarnings, plainNames, unseenNotice} from './unseen.js';

/** How {@link trace} starts the program. */
export type TraceLaunchOptions = {
	/** The environment pdi adds to (default `process.env`). */
	env?: NodeJS.ProcessEnv | undefined;
	/** The program's working directory; a relative program name is found from it. */
	cwd?: string | undefined;
	/** The program's stdio (default `'inherit'`): the trace never mixes into it. */
	stdio?: StdioOptions | undefined;
	/**
	 * Aborting it ends the program (SIGTERM): once it has exited, `done` rejects with an `AbortError`, and so does
	 * a loop over `calls` after the calls made until then. With `follow` it also ends the wait for the processes the
	 * program left running (they run on, untraced), also after the program's own exit.
	 */
	signal?: AbortSignal | undefined;
	/**
	 * A config the program also runs with (as `runProgram()`'s `config`, or one from `loadConfig()`): its `act` rules
	 * change calls, and the events show the calls as they changed them (a faked `ret` and `errno`); docs/trace.md.
	 */
	config?: PdiConfigInput | NormalizedConfig | undefined;
};

/** How a traced program ended. */
export type TraceResult = {
	/** Its exit status; 128 + N when signal N ended it. */
	status: number;
	/** Calls, errors and time per function and process, as `pdi trace -c` counts them, and the events lost. */
	summary: TraceSummary;
	/**
	 * What `pdi trace` would print on stderr besides the trace, one line each: an `objects` pattern that matched no
	 * object loaded (`pdi: warning: no object matching 'libnothing.so.9' (objects) was loaded ...`), a ring that lost
	 * events, a function `functions` names plainly that a process had no call site of (`pdi: trace: malloc: process
	 * 4242 has no call site of it ...`), and a `functions` name that only `demangle: true` would match.
	 */
	warnings: string[];
};

/**
 * A program running under {@link trace}. Its `child` is typed by the `stdio` option as Node's own `spawn` types it:
 * no streams with the default `'inherit'` (or `'ignore'`), all three with `'pipe'`, by entry for a three-entry list.
 */
export type Trace<Child extends ChildProcess = ChildProcess> = {
	/** Every call, in the order each thread's calls returned (a caller after its callees); iterate once. */
	calls: AsyncIterable<CallEvent>;
	/** Settles when the program has exited and its events are all read; rejects if it could not start. */
	done: Promise<TraceResult>;
	child: Child;
};

type EndNotices = {fd: number; take: () => string[]};

/**
 * The notices the trace backend makes at a process's end (a function `functions` names plainly that the process had
 * no call site of), which the reader writes to `fd`, a file of the trace's directory; `take()` (once the reader has
 * finished) closes it and returns them, one line each, for `warnings`.
 */
function endNotices(directory: string): EndNotices {
	const file = path.join(directory, 'notices');
	const fd = openSync(file, 'w', 0o600);
	return {
		fd,
		take() {
			closeSync(fd);
			return readFileSync(file, 'utf8').split('\n').filter(line => line !== '');
		},
	};
}

/** Ends `calls` with `error` and throws it, for `done` to reject with. */
export function failTrace(queue: EventQueue<CallEvent>, done: Promise<unknown>, error: Error): never {
	if (queue.delivering) {
		// The loop over `calls` throws it: a caller that handles it there need not handle `done` too.
		done.catch(() => undefined);
	}

	queue.fail(error);
	throw error;
}

/** Events waiting in `calls` before the program is held back (once something iterates). */
const highWater = 100_000;

/** A trace's reading, as {@link trace} and `traceProcess()` make it: its directory, rings, reader, events and counts. */
export type TraceReading = {
	/** The directory of its rings and notices, removed by {@link TraceReading.removeScratch}. */
	scratch: string;
	rings: ReturnType<typeof ringDirectory>;
	reader: TraceReader;
	notices: EndNotices;
	counter: SummaryCounter;
	/** The events, for `calls`; a consumer that falls behind holds the traced program back. */
	queue: EventQueue<CallEvent>;
	removeScratch: () => void;
	/** Stops it all, for a trace that never began. */
	abandon: () => void;
};

/** Starts the reading of a trace that has yet to begin: every call counted, and queued for `calls`. */
export function startReading(): TraceReading {
	const scratch = temporaryDirectory('pdi-trace-');
	// A signal that ends this process (no 'exit' event) removes the rings too, as it removes the launch's config.
	const forget = removeOnSignal(scratch.remove);
	const removeScratch = () => {
		forget();
		scratch.remove();
	};
	const counter = new SummaryCounter();
	let reader: TraceReader | undefined;
	const queue = new EventQueue<CallEvent>(highWater, hold => {
		if (hold) {
			reader?.pause();
		} else {
			reader?.resume();
		}
	});
	let notices: EndNotices | undefined;
	try {
		const rings = ringDirectory(scratch.path);
		notices = endNotices(scratch.path);
		reader = TraceReader.toCallback(rings.directory, data => {
			const events = parseEventLines<CallEvent>(data);
			for (const event of events) {
				counter.add(event);
			}

			queue.push(events);
		}, undefined, notices.fd);
		const started = {reader, notices};
		const abandon = () => {
			started.reader.finish();
			started.notices.take();
			removeScratch();
		};
		return {scratch: scratch.path, rings, reader, notices, counter, queue, removeScratch, abandon};
	} catch (error) {
		reader?.finish();
		notices?.take();
		removeScratch();
		throw error;
	}
}

/**
 * Runs `command` with its calls traced, as `pdi trace --json` does, and
 * delivers each call as a typed {@link CallEvent}.
 *
 * ```ts
 * const {calls, done} = trace('cat', ['/etc/hostname'], {functions: 'open*,read,close'});
 * for await (const call of calls) {
 * 	console.log(call.function, call.args, call.ret);
 * }
 * const {status, summary} = await done;
 * ```
 *
 * Nothing is lost while `calls` is iterated: when the consumer falls behind,
 * the program waits for it. Calls not iterated yet wait in memory. Bad
 * options and a program that cannot be traced throw before anything starts.
 */
export function trace(command: string, args?: readonly string[], options?: TraceOptions & Omit<TraceLaunchOptions, 'stdio'> & {stdio?: 'inherit' | 'ignore' | undefined}): Trace<ChildProcessByStdio<null, null, null>>;
export function trace(command: string, args: readonly string[], options: TraceOptions & TraceLaunchOptions & {stdio: 'pipe'}): Trace<ChildProcessWithoutNullStreams>;
export function trace<I extends StdioPipe | StdioNull, O extends StdioPipe | StdioNull, E extends StdioPipe | StdioNull>(
	command: string, args: readonly string[], options: TraceOptions & TraceLaunchOptions & {stdio: [I, O, E]},
): Trace<ChildProcessByStdio<Piped<I, Writable>, Piped<O, Readable>, Piped<E, Readable>>>;
export function trace(command: string, args?: readonly string[], options?: TraceOptions & TraceLaunchOptions): Trace;
export function trace(command: string, args: readonly string[] = [], options: TraceOptions & TraceLaunchOptions = {}): Trace {
	checkCommandLine(command, args);
	checkOptionNames(options, ['env', 'cwd', 'stdio', 'signal', 'config']);
	const variables = traceVariables(options);
	const traced = traceConfig(tracedObjects(options), 'objects');
	const reading = startReading();
	const {counter, queue, reader, notices, rings} = reading;
	let launched;
	let marks: TraceMarks;
	try {
		marks = traceMarks(reading.scratch, traced);
		launched = launch(command, args, {
			env: options.env,
			cwd: options.cwd,
			stdio: options.stdio ?? 'inherit',
			signal: options.signal,
			config: withUserConfig(traced, options.config),
			variables: {...variables, ...rings.variables, ...marks.variables, PDI_TRACE_NOTICES: 'ring'},
			// With follow, done waits for every followed process (a daemon's child too), or until the signal is aborted, as SIGINT ends pdi trace -f's wait.
			afterExit: options.follow ? async () => waitForFollowed(rings.directory, false, options.signal) : undefined,
		});
	} catch (error) {
		reading.abandon();
		throw error;
	}

	const end = async () => {
		const ending = await reader.finishInTurns();
		// With follow no process says them at its end: each marks what it had a call site of, and the names none marked are said here, as pdi trace -f says them.
		const unseen = options.follow ? plainNames(options.functions, options.demangle).filter(name => !existsSync(path.join(marks.seen, name))).map(name => unseenNotice(name, 'sites')) : [];
		const lines = [...notices.take(), ...unseen, ...marks.unmatchedObjects().map(pattern => unmatchedWarning(pattern, ' at start or later'))];
		reading.removeScratch();
		return {ending, notices: lines};
	};

	const aborted = abortOf(launched.child, options.signal);
	const done = launched.exited.then(async ({code, signal, warnings}) => {
		const ended = await end();
		if (aborted.error) {
			failTrace(queue, done, aborted.error);
		}

		queue.end();
		return {status: exitStatus(code, signal), summary: counter.result(ended.ending), warnings: [...demangledNameWarnings(options.functions, options.demangle, 'functions', 'demangle: true'), ...lossMessages(ended.ending), ...ended.notices, ...warnings]};
	}, async (cause: unknown) => {
		await end();
		// The checks passed, but the exec failed (a script whose interpreter is missing, say): a PdiError
		// naming the program, not Node's `spawn PATH ENOENT`.
		failTrace(queue, done, new PdiError(`${command}: could not be started: ${fileSystemReason(cause)}`, {cause}));
	});

	return {calls: queue, done, child: launched.child};
}
