import type {ChildProcess, StdioOptions} from 'node:child_process';
import {closeSync, fstatSync, openSync, readFileSync} from 'node:fs';
import {constants} from 'node:os';
import {builtConfig} from '../config/built.js';
import type {NormalizedConfig} from '../config/types.js';
import {deadline, launch, type LaunchExit} from '../launch/launch.js';
import {exitStatus} from '../launch/signals.js';
import {fileFailure, PdiError, shown} from '../errors.js';
import {replayForkedOnce} from './fork-server.js';
import {checkOptions, isObject, milliseconds, type OptionType} from '../launch/options.js';
import {ComuxError} from './comux-error.js';
import {parseComux} from './format.js';
import {outputPipes, type OutputPipe} from '../launch/output-pipe.js';

/**
 * The exit status of a replay whose server ended, crashed or was stopped
 * before it waited for a client: the backend then prints one line
 * `pdi-comux: the server ... before it listened` (or `... before it waited for a client`).
 */
export const COMUX_NOT_SERVING = 4;

const notServingLine = /^pdi-comux: (?:the server|process \d+, which the server forked,) .* before it (?:listened|waited for a client)$/m;

/**
 * The exit status of a replay whose server sent nothing (or read nothing more) within the reply timeout
 * (`replyTimeoutMs`, `PDI_COMUX_TIMEOUT_MS`) and was still running then, or was still running that long after the
 * last reply: it hangs. The backend prints one line that ends `it hangs`
 * (`pdi-comux: the server sent nothing for chunk N within M ms and is still running: it hangs`).
 */
export const COMUX_HANG = 5;

/** The longest time the backend takes in `PDI_COMUX_IDLE_MS` and `PDI_COMUX_TIMEOUT_MS` (a day). */
export const comuxBackendMaxMs = 86_400_000;

const hangLine = /^pdi-comux: the server (?:sent nothing for|read nothing more of) chunk \d+ within \d+ ms and is still running: it hangs$|^pdi-comux: the server was still running \d+ ms after the replay's last reply, instead of waiting for a client again or ending: it hangs$|^pdi-comux: a process the server forked was still running \d+ ms after the replay's last reply, instead of waiting or ending: it hangs$/m;

/** The functions the comux-accept backend redefines: a server's listening socket and every way it waits for a client. */
export const comuxFunctions = ['listen', 'accept', 'accept4', 'epoll_ctl', 'epoll_wait', 'epoll_pwait', 'poll', 'ppoll', 'select', 'pselect', '_exit', '_Exit'] as const;

/**
 * The bundled config that installs the comux-accept backend: one `redefine`
 * rule per function of {@link comuxFunctions}, so the server is reached
 * whichever library it calls them from. `pdi comux config` writes it compiled,
 * for `PDI_CONFIG` (AFL++: with `AFL_PRELOAD`).
 */
export function comuxConfig(): NormalizedConfig {
	return builtConfig({
		backends: [{name: 'comux', library: 'comux-accept'}],
		rules: comuxFunctions.map(name => ({kind: 'redefine', object: '*', function: name, backend: 'comux', wrapper: `comux_${name}`})),
	});
}

/** Options of {@link runComux}. */
export type RunComuxOptions = {
	/** Environment of the server (default `process.env`). */
	env?: NodeJS.ProcessEnv | undefined;
	cwd?: string | undefined;
	/** Stop the server when the replay takes longer than this (ms, default 30000); the result says `timedOut`. With `fork`, the server's start counts against the first input's limit. */
	timeout?: number | undefined;
	/** `PDI_COMUX_IDLE_MS`: a reply ends when no byte came for this long after the last one (ms, 0 to 86400000, default 50). */
	idleMs?: number | undefined;
	/** `PDI_COMUX_TIMEOUT_MS`: a reply ends after this long at most (ms, 0 to 86400000, default 2000). */
	replyTimeoutMs?: number | undefined;
	/** `PDI_COMUX_NO_WAIT`: send every chunk without waiting for replies in between. */
	noWait?: boolean | undefined;
	/** `PDI_COMUX_EXIT_IMMEDIATE`: end with `_exit` instead of `exit` (no atexit handlers). */
	exitImmediate?: boolean | undefined;
	/** `PDI_COMUX_LOG`: `stderr` or a file for the backend's log. */
	log?: string | undefined;
	/**
	 * Fork mode (`PDI_COMUX_FORK=1`): the server starts once and the input is replayed in a child forked at its
	 * first wait for a client; the result is the same. Worth it for many inputs: see `startComuxForkServer`.
	 */
	fork?: boolean | undefined;
};

/** How one replay ended. */
export type ComuxRunResult = {
	/** The server's replies, in schedule order (what the backend wrote to stdout). */
	stdout: Buffer;
	stderr: string;
	/** Exit status (128+N when signal N ended it), or null when the replay was stopped for taking too long. */
	status: number | null;
	exitCode: number | null;
	signal: NodeJS.Signals | null;
	timedOut: boolean;
	/**
	 * The server ended, crashed or was stopped before it waited for a client, so nothing was
	 * replayed (exit status {@link COMUX_NOT_SERVING} and the backend's line on stderr).
	 */
	notServing: boolean;
	/** The server hung: it sent nothing within the reply timeout and was still running (exit status {@link COMUX_HANG}). */
	hung: boolean;
	/**
	 * Fork mode: the fork server ended (exited or was killed) before it answered for this input, which was never
	 * replayed; the status is the fork server's.
	 */
	unanswered: boolean;
	/** Wall time of the replay in milliseconds. */
	durationMs: number;
};

/** The descriptor of fork mode's control channel in the server (`PDI_COMUX_CONTROL`). */
export const comuxControlFd = 3;

/** What a replay's end says: the status as a shell gives it, and whether the stderr reports a server that never served or hung. */
export function comuxResult(end: {stdout: Buffer; stderr: string; code: number | null; signal: NodeJS.Signals | null; timedOut: boolean; durationMs: number; unanswered?: boolean}): ComuxRunResult {
	const {stdout, stderr, code, signal, timedOut, durationMs, unanswered = false} = end;
	return {
		stdout,
		stderr,
		status: timedOut ? null : exitStatus(code, signal),
		exitCode: code,
		signal,
		timedOut,
		notServing: isNotServing(code, stderr),
		hung: isHang(code, stderr),
		unanswered,
		durationMs,
	};
}

/**
 * What the backend would answer for `bytes` if it refuses them (status 3 and its `pdi-comux:` line, judged here with
 * the same reader and the same words), so that an invalid input starts no server and stays `invalid` however short
 * the time limit; undefined for a valid input.
 */
export function refusedComux(bytes: Uint8Array): ComuxRunResult | undefined {
	try {
		parseComux(bytes);
		return undefined;
	} catch (error) {
		if (error instanceof ComuxError) {
			return comuxResult({stdout: Buffer.alloc(0), stderr: `pdi-comux: ${error.message}\n`, code: 3, signal: null, timedOut: false, durationMs: 0});
		}

		throw error;
	}
}

/** The `PDI_COMUX_*` variables that carry `options` to the backend. */
export function comuxVariables(options: RunComuxOptions): Record<string, string> {
	const variables: Record<string, string> = {};
	for (const [name, value] of [
		['PDI_COMUX_IDLE_MS', options.idleMs],
		['PDI_COMUX_TIMEOUT_MS', options.replyTimeoutMs],
		['PDI_COMUX_NO_WAIT', options.noWait ? '1' : undefined],
		['PDI_COMUX_EXIT_IMMEDIATE', options.exitImmediate ? '1' : undefined],
		['PDI_COMUX_LOG', options.log],
		['PDI_COMUX_FORK', options.fork ? '1' : undefined],
		['PDI_COMUX_CONTROL', options.fork ? String(comuxControlFd) : undefined],
	] as const) {
		if (value !== undefined) {
			variables[name] = String(value);
		}
	}

	return variables;
}

/** Whether a replay's exit status and stderr say that its server hung. */
export function isHang(exitCode: number | null, stderr: string): boolean {
	return exitCode === COMUX_HANG && hangLine.test(stderr);
}

/** Whether a replay's exit status and stderr say that its server never waited for a client. */
export function isNotServing(exitCode: number | null, stderr: string): boolean {
	return exitCode === COMUX_NOT_SERVING && notServingLine.test(stderr);
}

/**
 * An open file descriptor on a comux file for a server's stdin; a missing,
 * unreadable or non-regular path is a {@link PdiError} naming it.
 */
export function openComuxFile(file: string): number {
	let fd: number;
	try {
		fd = openSync(file, 'r');
	} catch (error) {
		throw fileFailure(file, error);
	}

	if (fstatSync(fd).isDirectory()) {
		closeSync(fd);
		throw new PdiError(`${file}: is a directory`);
	}

	return fd;
}

/** The bytes of a comux file; a missing, unreadable or non-regular path is a {@link PdiError} naming it. */
export function readComuxFile(file: string): Buffer {
	const fd = openComuxFile(file);
	try {
		return readFileSync(fd);
	} finally {
		closeSync(fd);
	}
}

/** A server started with the comux-accept backend. */
export type ComuxProcess = {
	readonly child: ChildProcess;
	/** Settles once the started process (the backend's guardian) has exited and the config is removed. */
	readonly exited: Promise<LaunchExit>;
	/**
	 * Asks the guardian to end the whole server (with `signal`, SIGTERM unless pdi passes on the one it got, so that
	 * the guardian's line names Ctrl-C's SIGINT); its process group gets SIGKILL 2 s later.
	 */
	stop(signal?: NodeJS.Signals): void;
	/**
	 * The line the guardian says of a server stopped before it waited for a client, when pdi's stop came before the
	 * started process was the backend's guardian (a time limit of a few ms: the backend was loading, or not loaded
	 * yet), which then died of the signal without a word; `exited` gives status 4 for it, as the guardian would.
	 * Empty otherwise.
	 */
	readonly stoppedBeforeBackend: string;
	/** The signal this process received and passed on to stop the server (SIGINT, SIGTERM, SIGHUP), if any. */
	readonly received: NodeJS.Signals | undefined;
};

/**
 * Whether the started process `pid` is the backend's guardian yet, which answers pdi's stop itself: it is once the
 * server runs in its child (before, the backend is loading, or checking the input).
 */
function guardianStarted(pid: number): boolean {
	try {
		return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim() !== '';
	} catch {
		return true; // gone already: its end says how
	}
}

const signalDescriptions: Partial<Record<NodeJS.Signals, string>> = {SIGTERM: 'Terminated', SIGINT: 'Interrupt', SIGHUP: 'Hangup', SIGQUIT: 'Quit'};

const running = new Set<ComuxProcess>();
/** Set once a signal stops the replays: a server started from then on is stopped at once. */
let stopping: NodeJS.Signals | undefined;

/** Stops every run and waits for it, the ones started meanwhile too. */
async function stopEveryRun(signal: NodeJS.Signals): Promise<void> {
	while (running.size > 0) {
		const runs = [...running];
		for (const run of runs) {
			run.stop(signal);
		}

		await Promise.allSettled(runs.map(async run => run.exited));
	}
}

/**
 * For the CLI's loop over replays: whether a signal is stopping them. The loop then waits for the
 * signal's handler to end the process instead of starting the next server.
 */
export function replaysStopping(): boolean {
	return stopping !== undefined;
}
const stopGraceMs = 2000;

function killGroup(pid: number | undefined): void {
	if (pid === undefined) {
		return;
	}

	try {
		process.kill(-pid, 'SIGKILL');
	} catch {
		// the group is empty
	}
}

/** What each option of runComux() and startComuxForkServer() must be, and how a message says so. */
const comuxOptionTypes: Record<keyof RunComuxOptions, OptionType> = {
	env: [isObject, 'an object of variables'],
	cwd: [value => typeof value === 'string', 'a directory name'],
	timeout: milliseconds(1),
	idleMs: milliseconds(0, comuxBackendMaxMs),
	replyTimeoutMs: milliseconds(0, comuxBackendMaxMs),
	noWait: [value => typeof value === 'boolean', 'true or false'],
	exitImmediate: [value => typeof value === 'boolean', 'true or false'],
	log: [value => typeof value === 'string', '\'stderr\' or a file name'],
	fork: [value => typeof value === 'boolean', 'true or false'],
};

/**
 * Refuses an option runComux() and startComuxForkServer() do not know (a misspelled `timout`) and a value of the
 * wrong type (`timeout: 'x'`, `idleMs: 1.5`, which the backend would ignore), as runProgram() and trace() do.
 */
export function checkComuxOptions(options: RunComuxOptions): void {
	checkOptions(options, comuxOptionTypes);
}

/** Refuses a server that is not a non-empty array of strings, the program and its arguments. */
export function checkComuxServer(server: readonly string[]): void {
	const given: unknown = server;
	if (!Array.isArray(given) || !given.every(entry => typeof entry === 'string')) {
		// A string would be split into its letters ('./server' ran '.').
		throw new PdiError(`server: expected an array of strings, the program and its arguments (['./server', '-p', '80']), got ${shown(given)}`);
	}

	if (server[0] === undefined || server[0] === '') {
		throw new PdiError(`server: the program is missing, got ${shown(given)}`);
	}
}

/** Refuses an input that is neither bytes nor the name of a comux file. */
export function checkComuxInput(input: Uint8Array | string): void {
	const given: unknown = input;
	if (!(given instanceof Uint8Array) && typeof given !== 'string') {
		throw new PdiError(`input: expected the bytes of a comux file (a Uint8Array, as comux().bytes() gives) or its file name, got ${shown(given)}`);
	}
}

/**
 * Starts `server` with the comux-accept backend, in a session of its own.
 * The started process is the backend's guardian: it ends after the replay
 * with the replay's status, having killed every process of the server
 * (daemons included). The compiled config lives in a private temporary
 * directory that the backend removes as soon as it has been read (and this
 * side when the process ends), so nothing is left in the temporary directory.
 */
export function startComux(server: readonly string[], stdio: StdioOptions, options: RunComuxOptions = {}, forkFiles?: string): ComuxProcess {
	checkComuxOptions(options);
	checkComuxServer(server);
	const [command = '', ...args] = server;

	const environment = options.env ?? process.env;
	// Fork mode: every symbol bound once in the fork server, not again in each child (AFL++'s afl-fuzz does the same).
	const bindNow = options.fork && environment.LD_BIND_NOW === undefined && environment.LD_BIND_LAZY === undefined;
	const launched = launch(command, args, {
		env: options.env,
		cwd: options.cwd,
		stdio,
		detached: true,
		config: comuxConfig(),
		variables: {
			PDI_COMUX_FORK: undefined, PDI_COMUX_CONTROL: undefined, ...comuxVariables(options), PDI_COMUX_TEMPORARY_CONFIG: '1', PDI_COMUX_ACTIVE: undefined, PDI_COMUX_SHARED: undefined,
			// The guardian ends the server if this process ends first (killed, or exited mid-replay).
			PDI_COMUX_LAUNCHER: String(process.pid),
			// The fork server's output files, which the guardian removes when this process is gone (SIGKILL).
			PDI_COMUX_FORK_FILES: forkFiles,
			...(bindNow ? {LD_BIND_NOW: '1'} : {}),
		},
		// A signal stops the whole server through its guardian (not the guardian alone).
		onSignal(signal) {
			received = signal;
			started.stop(signal);
		},
	});
	const {child} = launched;
	let graceTimer: NodeJS.Timeout | undefined;
	let stoppedBeforeBackend = '';
	let stopSignal: NodeJS.Signals | undefined;
	let received: NodeJS.Signals | undefined;
	const started: ComuxProcess = {
		child,
		exited: launched.exited.then(end => {
			if (stoppedBeforeBackend !== '' && end.code === null && end.signal === stopSignal) {
				return {...end, code: COMUX_NOT_SERVING, signal: null};
			}

			stoppedBeforeBackend = ''; // the backend loaded meanwhile, and its guardian's end says how it went
			return end;
		}).finally(() => {
			clearTimeout(graceTimer);
			killGroup(child.pid);
			running.delete(started);
		}),
		get stoppedBeforeBackend() {
			return stoppedBeforeBackend;
		},
		get received() {
			return received;
		},
		stop(signal = 'SIGTERM') {
			if (child.exitCode !== null || child.signalCode !== null || graceTimer !== undefined) {
				return;
			}

			if (child.pid !== undefined && !guardianStarted(child.pid)) {
				stopSignal = signal;
				stoppedBeforeBackend = `pdi-comux: the server was stopped by signal ${constants.signals[signal]} (${signalDescriptions[signal] ?? signal}) before it listened\n`;
			}

			child.kill(signal);
			graceTimer = setTimeout(() => {
				killGroup(child.pid);
			}, stopGraceMs);
		},
	};
	running.add(started);
	// Started while a signal stops the replays (the loop of pdi comux replay went on to its next file).
	if (stopping) {
		started.stop(stopping);
	}

	return started;
}

/** A {@link ComuxProcess} whose stdout and stderr are the read ends of `output`; `closed` settles once both pipes and the started process's own stdio are closed. */
export type PipedComuxProcess = ComuxProcess & {output: [OutputPipe, OutputPipe]; closed: Promise<void>};

/**
 * Starts a server whose stdout and stderr are real pipes (launch/output-pipe.ts), so that it may open them by name;
 * `start` gets their write ends for its stdio, which are closed here once the server has them.
 */
export function startWithOutputPipes(start: (pipes: [OutputPipe, OutputPipe]) => ComuxProcess): PipedComuxProcess {
	const output = outputPipes();
	try {
		const run = start(output);
		const closed = Promise.all([...output.map(async pipe => pipe.closed), new Promise<void>(resolve => {
			run.child.once('close', () => {
				resolve();
			});
		})]).then(() => undefined);
		return Object.assign(run, {output, closed});
	} catch (error) {
		for (const pipe of output) {
			pipe.stream.destroy();
		}

		throw error;
	} finally {
		for (const pipe of output) {
			pipe.closeWriteEnd();
		}
	}
}

/**
 * Stops `run` when it takes longer than `ms` (no limit when undefined) and
 * waits for it; `timedOut` says whether it was stopped for that.
 */
export async function waitComux(run: ComuxProcess, ms: number | undefined): Promise<LaunchExit & {timedOut: boolean}> {
	const limit = deadline(ms, () => {
		run.stop();
	});
	try {
		return {...await run.exited, timedOut: limit.expired};
	} finally {
		limit.cancel();
	}
}

let signalsHandled = false;
let beforeExit: ((signal: NodeJS.Signals) => Promise<unknown>) | undefined;

/**
 * For the CLI: on SIGINT, SIGTERM, SIGHUP or SIGQUIT (which the guardian handles alike), stop every running replay, wait
 * for it (its temporary config is removed then), then for `finish` (what the
 * command still has to print, as `pdi comux run --fork` prints the stopped
 * server's messages) and exit with 128+N.
 */
export function stopReplaysOnSignals(finish?: (signal: NodeJS.Signals) => Promise<unknown>): void {
	beforeExit = finish ?? beforeExit;
	if (signalsHandled) {
		return;
	}

	signalsHandled = true;
	for (const name of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'] as const) {
		process.once(name, () => {
			stopping = name;
			void stopEveryRun(name)
				.then(async () => beforeExit?.(name))
				.catch(() => undefined)
				.then(() => {
					process.exit(128 + constants.signals[name]);
				});
		});
	}
}

/**
 * Replays one comux conversation against a fresh `server` process: the
 * server runs with the comux-accept backend, reads `input` (bytes, or the
 * path of a comux file) instead of real clients, and exits by itself when
 * the conversation is over. Nothing of the server keeps running after the
 * promise settles.
 *
 * ```ts
 * const {stdout, status} = await runComux(['/usr/sbin/nginx', '-c', conf], comux().conn(0, 'GET / HTTP/1.0\r\n\r\n', {awaitResponse: true}).bytes());
 * ```
 */
export async function runComux(server: readonly string[], input: Uint8Array | string, options: RunComuxOptions = {}): Promise<ComuxRunResult> {
	checkComuxServer(server);
	checkComuxInput(input);
	checkComuxOptions(options);
	// PDI_COMUX_INPUT names the file the backend reads instead: it judges that one itself.
	const refused = (options.env ?? process.env)['PDI_COMUX_INPUT'] ? undefined : refusedComux(typeof input === 'string' ? readComuxFile(input) : input);
	if (refused) {
		return refused;
	}

	if (options.fork) {
		return replayForkedOnce(server, input, {...options, timeout: options.timeout ?? 30_000});
	}

	const inputFd = typeof input === 'string' ? openComuxFile(input) : undefined;
	const started = performance.now();
	try {
		const run = startWithOutputPipes(pipes => startComux(server, [inputFd ?? 'pipe', pipes[0].writeFd, pipes[1].writeFd], options));
		const {child} = run;
		const stdout: Buffer[] = [];
		const stderr: Buffer[] = [];
		run.output[0].stream.on('data', (chunk: Buffer) => stdout.push(chunk));
		run.output[1].stream.on('data', (chunk: Buffer) => stderr.push(chunk));
		if (typeof input !== 'string') {
			child.stdin?.on('error', () => undefined);
			child.stdin?.end(input);
		}

		const {code, signal, timedOut} = await waitComux(run, options.timeout ?? 30_000);
		await run.closed;
		return comuxResult({
			stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr).toString('utf8') + run.stoppedBeforeBackend, code, signal, timedOut, durationMs: performance.now() - started,
		});
	} finally {
		if (inputFd !== undefined) {
			closeSync(inputFd);
		}
	}
}
