import {mkdirSync} from 'node:fs';
import path from 'node:path';
import {getSystemErrorMap} from 'node:util';
import {errnoReason} from '../errors.js';
import {nativeBinding} from '../native/binding.js';
import {ownIdentity} from '../proc-stat.js';

/**
 * What one process's ring lost: `lost` events counted by the ring, and `damagedAt`, when the ring held something
 * that cannot be a record (the traced program wrote into its mapping): the byte of its stream where reading stopped.
 */
export type RingLoss = {pid: number; lost: number; damagedAt?: number};

/** Calls counted at one call site by a summary reader. */
export type SiteCount = {pid: number; function: string; calls: number; errors: number; totalNs: number};

/** The program of one ring (one process image): its writer's `/proc/self/exe` ('' when unknown), `openedNs` ordering one pid's images. */
export type RingProgram = {pid: number; openedNs: number; program: string};

/** How a {@link TraceReader} ended: what the rings lost, a failed write to the output (its reason, its errno or 0), the counts of a summary reader, the rings' programs. */
export type TraceReaderEnd = {losses: RingLoss[]; writeError: string | null; writeErrno: number; counts: SiteCount[]; programs: RingProgram[]};

/**
 * Makes the directory of a run's rings under `scratch` (mode 0700) and
 * returns it with the variables that point the trace backend at it, this
 * process being the reader.
 */
export function ringDirectory(scratch: string): {directory: string; variables: Record<string, string>} {
	const directory = path.join(scratch, 'rings');
	mkdirSync(directory, {mode: 0o700});
	// PDI_SESSION_OWNER: a trace serves its reader only; once that has ended, an attach may replace it (docs/attach.md).
	return {directory, variables: {PDI_TRACE_RING: directory, PDI_TRACE_RING_READER: String(process.pid), PDI_SESSION_OWNER: ownIdentity()}};
}

/** Bytes of events waiting for JavaScript before the reader stops reading (and the traced program waits). */
const defaultQueueLimit = 64 * 1024 * 1024;
/** Bytes handed over per turn of the event loop (about 20 ms of parsing), so that a flood of events delays the program's own timers and I/O by that much, not by the whole queue. */
const bytesPerTurn = 1024 * 1024;

/**
 * The event rings of a directory (one per traced process and exec,
 * src/native/backends/trace/ring.h), read by a native thread of the addon
 * (src/native/addon/trace-drain.c) while the programs run, so that a
 * writer never waits on the event loop. Its output goes straight to a file
 * descriptor as `--json` lines or text lines, or comes here in buffers on the
 * event loop, or is counted there per call site for `-c`.
 */
export class TraceReader {
	private timer: NodeJS.Timeout | undefined;
	private paused = false;
	private ended: TraceReaderEnd | undefined;

	private constructor(private readonly handle: unknown, private readonly onData?: (data: Buffer) => void, private readonly quiet = false) {
		if (onData) {
			this.schedule();
		}
	}

	/**
	 * JSON lines (docs/trace.md, "JSON events") written to `fd` by the reader thread, and the notices of the
	 * processes' ends to `noticeFd`, outside the lines (between them when it is `fd`).
	 */
	static toDescriptor(directory: string, fd: number, noticeFd: number, held = false): TraceReader {
		return new TraceReader(nativeBinding().traceDrainStart(directory, 'json', fd, 0, false, {noticeFd, held}));
	}

	/**
	 * Text lines (docs/trace.md, "The line format"), with the durations (`-T`) and start times (`-t`) asked for, and
	 * the notices of the processes' ends, written to `fd` by the reader thread. A `held` reader ({@link toDescriptor}'s
	 * too) reads nothing until {@link release}.
	 */
	static toText(directory: string, fd: number, text: {time: boolean; timestamp: boolean}, held = false): TraceReader {
		return new TraceReader(nativeBinding().traceDrainStart(directory, 'text', fd, 0, false, {...text, held}));
	}

	/** Calls, errors and time counted per call site; the counts come with {@link finish}. */
	static toSummary(directory: string): TraceReader {
		return new TraceReader(nativeBinding().traceDrainStart(directory, 'summary', -1, 0));
	}

	/**
	 * Buffers of whole JSON lines to `onData` on the event loop. With
	 * `queueLimit` (bytes; 0: none) the reader stops reading while that much
	 * waits, and the traced programs wait for it. The notices of the processes' ends (`PDI_TRACE_NOTICES=ring`) are
	 * written to `noticeFd` when it is given.
	 */
	static toCallback(directory: string, onData: (data: Buffer) => void, queueLimit = defaultQueueLimit, noticeFd = -1): TraceReader {
		return new TraceReader(nativeBinding().traceDrainStart(directory, 'json', -1, queueLimit, false, {noticeFd}), onData);
	}

	/**
	 * {@link toCallback} for rings written by this process (observe()). The
	 * calls this thread makes while it hands the events over, `onData`
	 * included, are not recorded: each delivery would otherwise record more
	 * calls than it delivered, without end. And the writers are never held
	 * back, as they may be threads the event loop waits for (V8's garbage
	 * collector): past `queueLimit` bytes waiting, calls are dropped and
	 * counted as lost. The notices of the end (`PDI_TRACE_NOTICES=ring`) are written to `noticeFd` when it is given.
	 */
	static ofThisProcess(directory: string, onData: (data: Buffer) => void, noticeFd = -1, queueLimit = defaultQueueLimit): TraceReader {
		return new TraceReader(nativeBinding().traceDrainStart(directory, 'json', -1, queueLimit, true, {noticeFd}), onData, true);
	}

	/** Starts the reading of a held reader. */
	release(): void {
		if (!this.ended) {
			nativeBinding().traceDrainRelease(this.handle);
		}
	}

	/** Stops handing buffers over (they wait in the queue, up to its limit) until {@link resume}. */
	pause(): void {
		this.paused = true;
	}

	resume(): void {
		this.paused = false;
	}

	/** While the reader runs: the errno of its output's first failed write (EPIPE: the output's reader has gone), or 0. */
	writeErrno(): number {
		return this.ended ? this.ended.writeErrno : nativeBinding().traceDrainWriteErrno(this.handle);
	}

	/** While the reader runs: why its output's first write failed, in the words {@link lossMessages} uses at the end, or null. */
	writeFailure(): string | null {
		const errno = this.writeErrno();
		return errno === 0 ? null : errnoReason(errno, getSystemErrorMap().get(-errno)?.[1] ?? `errno ${errno}`);
	}

	/**
	 * Has the reader thread read and written what the rings still hold (call it once their writers are gone, then
	 * {@link finish}), waiting for it without blocking the event loop. Once `giveUp` settles, what is not written yet
	 * is dropped (`writeErrno` then is ECANCELED), a write that waits for a reader that reads no more included.
	 */
	async drain(giveUp: Promise<unknown>): Promise<void> {
		if (this.ended) {
			return;
		}

		const binding = nativeBinding();
		binding.traceDrainStop(this.handle);
		let abandoned = false;
		void giveUp.then(() => {
			abandoned = true;
		});
		while (!binding.traceDrainStopped(this.handle)) {
			if (abandoned) {
				// Again until it has stopped: the interruption may land just before the write it was for.
				binding.traceDrainAbandon(this.handle);
			}

			await new Promise(resolve => {
				setTimeout(resolve, 10);
			});
		}
	}

	/**
	 * Drops whatever the rings still hold, and the output takes nothing more: for a trace that never began (an attach
	 * refused), whose process may still have written a line or a notice. Call {@link finish} after it.
	 */
	discard(): void {
		if (!this.ended) {
			nativeBinding().traceDrainAbandon(this.handle);
		}
	}

	/**
	 * {@link finish} without blocking the event loop: the reader thread reads what the rings still hold while the loop
	 * runs, and what waits is handed over a turn at a time (a slow consumer's 64 MiB queue took seconds in one piece).
	 */
	async finishInTurns(): Promise<TraceReaderEnd> {
		await this.drain(new Promise(() => undefined));
		while (!this.ended && this.deliver(bytesPerTurn)) {
			await new Promise(resolve => {
				setImmediate(resolve);
			});
		}

		return this.finish();
	}

	/** Reads what the rings still hold (call it once their writers are gone), hands it over, and stops. Idempotent. */
	finish(): TraceReaderEnd {
		if (this.ended) {
			return this.ended;
		}

		clearTimeout(this.timer);
		const binding = nativeBinding();
		const ended = binding.traceDrainFinish(this.handle);
		// The C library's words ('No space left on device'), in pdi's.
		this.ended = {...ended, writeError: ended.writeError === null ? null : errnoReason(ended.writeErrno, ended.writeError)};
		this.deliver();
		binding.traceDrainFree(this.handle);
		return this.ended;
	}

	private schedule(): void {
		this.timer = setTimeout(() => {
			this.setQuiet(true);
			try {
				if (!this.paused) {
					this.deliver(bytesPerTurn);
				}

				// onData may have finished the reader (observe()'s close() from onCall): its handle is freed.
				if (!this.ended) {
					this.schedule();
				}
			} finally {
				this.setQuiet(false);
			}
		}, 1);
		this.timer.unref();
	}

	private setQuiet(quiet: boolean): void {
		if (this.quiet && !this.ended) {
			nativeBinding().traceDrainQuiet(this.handle, quiet);
		}
	}

	/** Hands over what waits, up to `limit` bytes (0: all); whether there was any. */
	private deliver(limit = 0): boolean {
		const data = nativeBinding().traceDrainTake(this.handle, limit);
		if (data !== null) {
			this.onData?.(data);
		}

		return data !== null;
	}
}

/** The call events of a buffer of whole JSON lines. */
export function parseEventLines<Event>(data: Buffer): Event[] {
	const events: Event[] = [];
	let start = 0;
	for (let end = data.indexOf(10); end !== -1; end = data.indexOf(10, start)) {
		events.push(JSON.parse(data.toString('utf8', start, end)) as Event);
		start = end + 1;
	}

	return events;
}

/** One stderr line per ring that lost events, and one for a write that failed, naming `output` (a file, or `the trace to stderr`). */
export function lossMessages(end: TraceReaderEnd, output = 'the trace'): string[] {
	const lines = end.losses.flatMap(({pid, lost, damagedAt}) => [
		...lost > 0 ? [`pdi: trace: ${lost} event(s) of process ${pid} were lost (its reader had gone, an event was larger than half the ring, or a signal handler jumped out of a hook while it wrote one)`] : [],
		...damagedAt === undefined ? [] : [`pdi: trace: the event ring of process ${pid} was overwritten at byte ${damagedAt} of its stream (the program wrote into pdi's memory?): its events from there on were not read`],
	]);
	if (end.writeError !== null) {
		lines.push(`pdi: trace: writing ${output} failed: ${end.writeError}`);
	}

	return lines;
}
