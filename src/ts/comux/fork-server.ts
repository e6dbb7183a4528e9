import {closeSync, openSync, readFileSync} from 'node:fs';
import {constants} from 'node:os';
import path from 'node:path';
import type {Readable, Writable} from 'node:stream';
import {fileSystemReason, PdiError} from '../errors.js';
import type {LaunchExit} from '../launch/launch.js';
import {sharedMemoryParent, temporaryDirectory, type TemporaryDirectory} from '../launch/temporary.js';
import {checkComuxInput, checkComuxOptions, checkComuxServer, COMUX_NOT_SERVING, comuxControlFd, comuxResult, readComuxFile, refusedComux, replaysStopping, startComux, startWithOutputPipes, type ComuxRunResult, type PipedComuxProcess, type RunComuxOptions} from './replay.js';

/** How long past a replay's own time limit the fork server may take to answer before it is stopped as stuck. */
const answerGraceMs = 5000;

/** Results of replays whose child ended by itself (answered by the fork server), not by the fork server's end. */
const answeredResults = new WeakSet<ComuxRunResult>();

/** Whether `result` is that of a replay whose child ended by itself, though a signal may be stopping pdi meanwhile. */
export function endedByItself(result: ComuxRunResult): boolean {
	return answeredResults.has(result);
}

const startsCounted = new WeakMap<ComuxRunResult, number>();

/** How long the server's start took when it counted against `result`'s time limit (a file queued before the fork server was ready), else undefined. */
export function serverStartCounted(result: ComuxRunResult): number | undefined {
	return startsCounted.get(result);
}

/** A server started once in fork mode; see {@link startComuxForkServer}. */
export type ComuxForkServer = {
	/**
	 * Replays one input (bytes, or the path of a comux file) in a child forked
	 * from the ready server; the result is what {@link runComux} gives for it.
	 * Replays queue and run one at a time, in order; calling the next before
	 * awaiting the current one lets the fork server start it as soon as the
	 * current one ends (`pdi comux replay --fork` keeps two on their way).
	 */
	replay(input: Uint8Array | string): Promise<ComuxRunResult>;
	/**
	 * Ends the fork server (and everything the server left running) and waits for it. Replays asked for before
	 * `close()` run first, each to its own result, and a later `replay()` rejects with a `PdiError`. Until then the
	 * server keeps Node running: call it in a `finally`. Resolves to how the server ended ({@link LaunchExit}: its `code`
	 * or `signal`, `code` 4 when it never waited for a client, its act rules' counts and warnings).
	 */
	close(): Promise<LaunchExit>;
};

type Pending = {
	input: Uint8Array;
	started: number;
	/** Queued while the server was starting: how long it still took to become ready (ms). */
	startMs?: number;
	/** The time limit its request gave the child (ms, 0 for none), once sent. */
	limitMs?: number;
	files?: ScratchFiles;
	resolve: (result: ComuxRunResult) => void;
};

/** Where one replay's child writes its stdout and stderr: the files, and the descriptors the server inherited them at, as requests name them (`/dev/fd/N`). */
type ScratchFiles = {output: string; errors: string; inheritedOutput: string; inheritedErrors: string};

/**
 * Requests sent ahead of their answer: two, so that the fork server finds the
 * next input waiting when a child ends, while pdi reads the last one's files.
 * Each request on its way has its own pair of files.
 */
const requestsOnTheirWay = 2;

/** The name of each signal number: the first of its names (SIGABRT, not its alias SIGIOT; SIGIO, not SIGPOLL), as Node's child processes name them. */
const signalNames = new Map<number, NodeJS.Signals>(Object.entries(constants.signals).reverse().map(([name, number]) => [number, name as NodeJS.Signals]));

function requestOf(input: Uint8Array, limitMs: number, outputFile: string, errorFile: string): Buffer {
	const outputPath = Buffer.from(outputFile);
	const errorPath = Buffer.from(errorFile);
	const header = Buffer.alloc(16);
	header.writeUInt32LE(input.length, 0);
	header.writeUInt32LE(limitMs, 4);
	header.writeUInt32LE(outputPath.length, 8);
	header.writeUInt32LE(errorPath.length, 12);
	return Buffer.concat([header, outputPath, errorPath, input]);
}

type ProcessEnd = {code: number | null; signal: NodeJS.Signals | null};

/** The pdi side of the control channel: requests sent ahead (up to {@link requestsOnTheirWay}), answers in order. */
class ForkServer implements ComuxForkServer {
	private readonly scratch: TemporaryDirectory;
	private readonly files: ScratchFiles[];
	private filesUsed = 0;
	private sent = 0;
	private readonly run: PipedComuxProcess;
	private readonly control: Readable & Writable;
	private readonly stdout: Buffer[] = [];
	private readonly stderr: Buffer[] = [];
	private readonly queue: Pending[] = [];
	private readonly exited: Promise<LaunchExit>;
	private readonly closed: Promise<void>;
	private readonly limitMs: number;
	private answers = Buffer.alloc(0);
	/** The fork server said it is ready (its first wait for a client): requests are sent from then on. */
	private ready = false;
	private prologue: {stdout: Buffer; stderr: string} | undefined;
	private stderrShown = 0;
	private stuckTimer: NodeJS.Timeout | undefined;
	private stuck = false;
	private end: ProcessEnd | undefined;
	private closing = false;
	private closeDone: Promise<LaunchExit> | undefined;
	/** Set while {@link close} waits for the replays asked for before it. */
	private whenIdle: (() => void) | undefined;
	private readonly once: boolean;

	/**
	 * With `once` (one replay, {@link replayForkedOnce}), `options.timeout` (none when undefined) counts from the
	 * server's start, as a fresh process's does; otherwise each replay gets `options.timeout` (default 30000).
	 */
	constructor(server: readonly string[], options: RunComuxOptions, once = false) {
		checkComuxOptions(options);
		checkComuxServer(server);
		this.once = once;
		this.limitMs = options.timeout ?? (once ? 0 : 30_000);
		// The child may run as another user (nginx's workers become nobody), which could not open a file in a
		// private directory: the files are opened here and the server inherits them, at descriptors 4 to 7, which
		// the requests name as /dev/fd/N. On /dev/shm when it can: a tmpfs file is emptied without a disk's journal.
		this.scratch = temporaryDirectory('pdi-comux-fork-', sharedMemoryParent());
		this.files = Array.from({length: requestsOnTheirWay}, (_, index) => ({
			output: path.join(this.scratch.path, `stdout-${index}`),
			errors: path.join(this.scratch.path, `stderr-${index}`),
			inheritedOutput: `/dev/fd/${comuxControlFd + 1 + 2 * index}`,
			inheritedErrors: `/dev/fd/${comuxControlFd + 2 + 2 * index}`,
		}));
		const descriptors: number[] = [];
		try {
			for (const file of this.files.flatMap(({output, errors}) => [output, errors])) {
				descriptors.push(openSync(file, 'w', 0o600));
			}

			this.run = startWithOutputPipes(pipes => startComux(server, ['ignore', pipes[0].writeFd, pipes[1].writeFd, 'pipe', ...descriptors], {...options, fork: true}, this.scratch.path));
		} catch (error) {
			this.scratch.remove();
			throw error;
		} finally {
			for (const descriptor of descriptors) {
				closeSync(descriptor);
			}
		}

		const {child} = this.run;
		this.control = child.stdio[comuxControlFd] as Readable & Writable;
		this.run.output[0].stream.on('data', (chunk: Buffer) => this.stdout.push(chunk));
		this.run.output[1].stream.on('data', (chunk: Buffer) => this.stderr.push(chunk));
		this.closed = this.run.closed;
		// What is still queued gets the process's end before the children's files go.
		this.exited = Promise.all([this.run.exited, this.closed]).then(([end]) => {
			const idle = this.queue.length === 0;
			this.ended(end);
			return {end, idle};
		}).finally(() => {
			this.scratch.remove();
		}).then(({end, idle}) => {
			if (idle && this.run.received !== undefined) {
				endAsTheSignalWould(this.run.received);
			}

			return end;
		});
		this.control.on('data', (chunk: Buffer) => {
			this.received(chunk);
		});
		this.control.on('error', () => undefined);
		if (once && this.limitMs > 0) {
			// The whole run is stopped at the limit, started or not: a server that never waits for a client
			// is then stopped before it listened (status 4), as in a fresh process, not 5 s later.
			this.stuckTimer = setTimeout(() => {
				this.stuck = true;
				this.run.stop();
			}, this.limitMs);
		}
	}

	async replay(input: Uint8Array | string): Promise<ComuxRunResult> {
		if (this.closing) {
			// Not the fork server's exit status as if it were a replay's (0 looked like a good run).
			throw new PdiError('replay(): the fork server was closed; start another with startComuxForkServer()');
		}

		checkComuxInput(input);
		const bytes = typeof input === 'string' ? readComuxFile(input) : input;
		const refused = refusedComux(bytes);
		if (refused) {
			return refused;
		}

		return new Promise<ComuxRunResult>(resolve => {
			const pending: Pending = {input: bytes, started: performance.now(), resolve};
			if (this.end) {
				this.resolveWithEnd(pending, this.end);
				return;
			}

			this.queue.push(pending);
			this.sendAhead();
			if (this.queue.length === 1) {
				this.startClock(false);
			}
		});
	}

	async close(): Promise<LaunchExit> {
		this.closing = true;
		this.closeDone ??= this.closeWhenIdle();
		return this.closeDone;
	}

	/** The fork server ends at the end of its channel: a replay still queued then would get its exit 0 as if it were its own. */
	private async closeWhenIdle(): Promise<LaunchExit> {
		if (this.queue.length > 0 && this.end === undefined) {
			await new Promise<void>(resolve => {
				this.whenIdle = resolve;
			});
		}

		this.control.end();
		const end = await this.exited;
		await this.closed;
		return end;
	}

	private idleNow(): void {
		if (this.queue.length === 0) {
			this.whenIdle?.();
			this.whenIdle = undefined;
		}
	}

	private sendAhead(): void {
		while (this.ready && this.sent < this.queue.length && this.sent < requestsOnTheirWay) {
			const next = this.queue[this.sent]!;
			const files = this.files[this.filesUsed++ % this.files.length]!;
			next.files = files;
			next.limitMs = this.sent === 0 ? this.leftOf(next) : this.limitMs;
			this.control.write(requestOf(next.input, next.limitMs, files.inheritedOutput, files.inheritedErrors));
			this.sent++;
		}
	}

	/** What is left of `pending`'s time limit (ms, at least 1; 0 for none): the server's start counts against it. */
	private leftOf(pending: Pending): number {
		return this.limitMs === 0 ? 0 : Math.max(1, Math.ceil(this.limitMs - (performance.now() - pending.started)));
	}

	/** The fork server waits for requests: the ones queued meanwhile go, timed by what the start left of their limit. */
	private becameReady(): void {
		this.ready = true;
		for (const pending of this.queue) {
			pending.startMs = performance.now() - pending.started;
		}

		this.sendAhead();
		this.startClock(false);
	}

	/** The replay at the head of the queue is the one the fork server runs now (`justStarted`: its child has just been forked). */
	private startClock(justStarted: boolean): void {
		if (this.once || this.limitMs === 0) {
			return;
		}

		clearTimeout(this.stuckTimer);
		const head = this.queue[0];
		if (head === undefined) {
			return;
		}

		// Until it is ready the server is starting: that counts against the limit, as in a one-process replay, so
		// a server that never waits for a client is stopped at the limit. A ready fork server kills a child at its
		// limit itself; one that answers long after it is stuck.
		if (justStarted) {
			head.started = performance.now();
		}

		const waitMs = this.ready ? head.limitMs! + answerGraceMs : this.leftOf(head);
		this.stuckTimer = setTimeout(() => {
			this.stuck = true;
			this.run.stop();
		}, waitMs);
	}

	private received(chunk: Buffer): void {
		this.answers = Buffer.concat([this.answers, chunk]);
		// Answers are handled after this turn's other I/O, so that what the server printed before them is collected.
		setImmediate(() => {
			while (this.answers.length >= 8) {
				// An answer (the child's wait status, 1 when its limit ended it), or the fork server's ready record (-1, -1).
				const status = this.answers.readInt32LE(0);
				const limited = this.answers.readInt32LE(4);
				this.answers = this.answers.subarray(8);
				if (status === -1 && limited === -1) {
					this.becameReady();
				} else {
					this.answer(status, limited !== 0);
				}
			}
		});
	}

	private answer(status: number, timedOut: boolean): void {
		const pending = this.queue.shift();
		if (pending?.files === undefined) {
			return;
		}

		this.sent--;
		this.startClock(true);
		const {files} = pending;

		if (this.prologue === undefined) {
			this.prologue = {stdout: Buffer.concat(this.stdout), stderr: Buffer.concat(this.stderr).toString('utf8')};
			this.stderrShown = this.stderr.length;
		}

		// What the fork server itself printed since (a child that could not start) belongs to this replay.
		const since = Buffer.concat(this.stderr.slice(this.stderrShown)).toString('utf8');
		this.stderrShown = this.stderr.length;
		const exited = (status & 0x7f) === 0;
		const code = exited && !timedOut ? (status >> 8) & 0xff : null;
		// The fork server kills a child at the limit with SIGKILL; a fresh process stopped at its limit dies of
		// pdi's SIGTERM: the result reads the same either way.
		const signal = timedOut ? 'SIGTERM' : exited ? null : signalNames.get(status & 0x7f) ?? null;
		const errors: string[] = [];
		const read = (file: string): Buffer => {
			try {
				return readFileSync(file);
			} catch (error) {
				errors.push(`pdi: the replay's ${file === files.output ? 'output' : 'errors'}: ${file}: ${fileSystemReason(error)}\n`);
				return Buffer.alloc(0);
			}
		};

		const stdout = Buffer.concat([this.prologue.stdout, read(files.output)]);
		const errorText = this.prologue.stderr + since + read(files.errors).toString('utf8') + errors.join('');
		const result = comuxResult({stdout, stderr: errorText, code, signal, timedOut, durationMs: performance.now() - pending.started});
		answeredResults.add(result);
		if (pending.startMs !== undefined) {
			startsCounted.set(result, Math.round(pending.startMs));
		}

		pending.resolve(result);
		this.sendAhead();
		this.idleNow();
	}

	/** The line {@link forkServerEndNote} for a fork server that ended while it served, else nothing. */
	private endNote(code: number | null, signal: NodeJS.Signals | null): string {
		// Nor when pdi itself is stopping it on a signal (a Ctrl-C): a replay without fork mode says nothing then either.
		return this.stuck || replaysStopping() || code === COMUX_NOT_SERVING || (code === 0 && signal === null) ? '' : forkServerEndNote(code, signal);
	}

	/** The fork server ended without answering (its server never waited for a client, crashed, or was stopped): what is still queued gets the process's own end, as a one-process replay would. */
	private ended(end: ProcessEnd): void {
		clearTimeout(this.stuckTimer);
		this.end = end;
		this.sent = 0;
		for (const [index, pending] of this.queue.splice(0).entries()) {
			// Only the first was being replayed; the others never started (no time of their own).
			this.resolveWithEnd(pending, end, this.once ? pending.files : undefined, index > 0);
		}

		this.idleNow();
	}

	/**
	 * `files`: the one replay of a `once` server, stopped at its limit: what its child wrote by then is its output,
	 * as a fresh process's replies are (the files were made empty for it; with several replays, the files of one
	 * not yet forked still hold an earlier replay's).
	 */
	private resolveWithEnd(pending: Pending, {code, signal}: ProcessEnd, files?: ScratchFiles, neverStarted = false): void {
		const read = (file: string | undefined): Buffer => {
			try {
				return file === undefined ? Buffer.alloc(0) : readFileSync(file);
			} catch {
				return Buffer.alloc(0);
			}
		};

		const note = this.endNote(code, signal);
		const errorText = Buffer.concat(this.stderr).toString('utf8') + read(files?.errors).toString('utf8') + this.run.stoppedBeforeBackend + note;
		pending.resolve(comuxResult({
			stdout: Buffer.concat([...this.stdout, read(files?.output)]), stderr: errorText, code, signal, timedOut: this.stuck, durationMs: neverStarted ? 0 : performance.now() - pending.started, unanswered: note !== '',
		}));
	}
}

/**
 * A signal that stopped an idle fork server ends this process as it would have without pdi (128+N), once the server
 * and its files are gone, unless the program listens to it itself: a replay in flight takes it as its end instead,
 * as runProgram() does, and the program runs on.
 */
function endAsTheSignalWould(signal: NodeJS.Signals): void {
	setImmediate(() => {
		if (process.listenerCount(signal) === 0) {
			process.kill(process.pid, signal);
		}
	});
}

/**
 * What an input that the fork server did not answer for gets when the fork server itself ended while it served (its
 * own timer, a signal from outside, the OOM killer): its status is the fork server's, not the input's, and says so.
 * Nothing when the server never waited for a client, or a time limit stopped it (each says so already).
 */
function forkServerEndNote(code: number | null, signal: NodeJS.Signals | null): string {
	const how = signal === null ? `exited with status ${code}` : `was killed by ${signal}`;
	return `pdi: the fork server ${how} before it answered for this input: that is the fork server's end, not this input's\n`;
}

/**
 * One replay in a child of a fork server (`runComux(..., {fork: true})`, `pdi comux run --fork`), timed as a
 * replay in a fresh process is: `options.timeout` (no limit when undefined) counts from the server's start.
 */
export async function replayForkedOnce(server: readonly string[], input: Uint8Array | string, options: RunComuxOptions): Promise<ComuxRunResult> {
	const forks = new ForkServer(server, options, true);
	try {
		return await forks.replay(input);
	} finally {
		await forks.close();
	}
}

/**
 * Starts `server` once in fork mode (`PDI_COMUX_FORK=1`, DESIGN §6b): it runs
 * its start-up, and at its first wait for a client the comux-accept backend
 * turns it into a fork server. Each {@link ComuxForkServer.replay} then costs
 * one `fork()` of the ready server instead of a whole start, and gives the
 * same output, status and verdict as a one-process replay (what the server
 * printed while starting comes first in every result's stdout and stderr, as
 * it would in its own process).
 *
 * ```ts
 * const forks = startComuxForkServer(['/usr/sbin/nginx', '-c', conf]);
 * for (const file of files) console.log((await forks.replay(file)).status);
 * await forks.close();
 * ```
 */
export function startComuxForkServer(server: readonly string[], options: RunComuxOptions = {}): ComuxForkServer {
	return new ForkServer(server, options);
}
