import {spawn, type ChildProcess, type SpawnOptions} from 'node:child_process';
import {chownSync, readdirSync, statSync} from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {fileSystemReason, PdiError, shown} from '../errors.js';
import {pdiPaths} from '../paths.js';
import type {NormalizedConfig} from '../config/types.js';
import {readActReport, type ActCount} from './act-report.js';
import {prepareLaunch, readWarnings, type LaunchVariables} from './environment.js';
import {withInheritedState} from './inherited.js';
import {checkPreloadable, resolveProgram, secureModeReason} from './program.js';
import {forwardSignals, receiveSignals, removeOnSignal, watchSignalSenders} from './signals.js';

/** How to start a program with pdi; see {@link launch}. Node's spawn options (stdio with extra fds, `detached`, `cwd`, …) pass through. */
export type LaunchOptions = Omit<SpawnOptions, 'env'> & {
	/** The environment pdi adds to (default `process.env`). */
	env?: NodeJS.ProcessEnv;
	/** The interpositions, compiled into a private temporary file named by `PDI_CONFIG`; without one only the core is preloaded. */
	config?: NormalizedConfig;
	/** Variables set after pdi's own (`PDI_INSPECT_OUT`, a backend's settings, a transport's fd number); `undefined` removes an inherited one. */
	variables?: LaunchVariables;
	/**
	 * SIGINT, SIGTERM and SIGHUP received by this process while the program
	 * runs: `'forward'` passes them on to it, a function gets them instead (to
	 * stop what was started its own way). Without it they are the caller's.
	 */
	onSignal?: 'forward' | ((signal: NodeJS.Signals) => void);
	/**
	 * Awaited once the program has exited, before its temporary files are removed and `onSignal` ends: what
	 * it left running (`pdi trace -f` waits there for a daemon's child) still needs the config for its execs.
	 */
	afterExit?: () => Promise<unknown>;
	/**
	 * An 'error' event of the child that no listener of the caller's hears is thrown from the event, as Node throws an
	 * 'error' event nobody listens to (a failed start, the exec refused after pdi's checks, as a PdiError naming the
	 * program; any other, such as the AbortError of an aborted `signal`, as it is): for spawn(), whose caller has the
	 * child alone.
	 */
	throwUnheardError?: boolean;
	/**
	 * Refuse a program the loader would run in secure mode (set-user-ID or set-group-ID to someone else), where it
	 * ignores `LD_PRELOAD`: for `inspect`, whose program would otherwise run its `main` without the core to stop it.
	 */
	refuseSecureMode?: boolean;
};

/** How a launched program ended, and what its `act` rules counted (empty without act rules). */
export type LaunchExit = {code: number | null; signal: NodeJS.Signals | null; act: ActCount[]; warnings: string[]};

/** A program started by {@link launch}. */
export type LaunchedProgram = {
	readonly child: ChildProcess;
	/** The file that was executed: the program as resolved, or the shell with `shell`. */
	readonly program: string;
	/**
	 * Settles when the program has exited and the launch is cleaned up; rejects
	 * with Node's error when it could not be started (cleaned up as well).
	 */
	readonly exited: Promise<LaunchExit>;
	/** Removes the launch's temporary files and releases its signals now; done by itself when the program exits. Safe to call twice. */
	cleanup(): void;
};

function directoryOf(cwd: string | URL | undefined): string {
	return path.resolve(cwd instanceof URL ? fileURLToPath(cwd) : cwd ?? '');
}

/** Resolves the file that will be executed as a shell would, and refuses one the core cannot be preloaded into. */
function checkedProgram(command: string, options: LaunchOptions, environment: NodeJS.ProcessEnv, refuseSecureMode = false): string {
	const file = options.shell ? (typeof options.shell === 'string' ? options.shell : '/bin/sh') : command;
	const directory = directoryOf(options.cwd);
	const program = resolveProgram(file, environment, directory);
	checkPreloadable(program, file, directory);
	const secure = refuseSecureMode ? secureModeReason(program) : undefined;
	if (secure !== undefined) {
		throw new PdiError(`${file} is ${secure}: the loader runs it in secure mode, which ignores LD_PRELOAD, so pdi cannot see into it; it was not started`);
	}

	return program;
}

/**
 * Refuses a command that is not a string and arguments that are not an array of strings (from JavaScript, or a
 * call that passed the options where the arguments belong) with a {@link PdiError} naming them, where Node's
 * spawn would throw a `TypeError` or turn a number into text.
 */
export function checkCommandLine(command: unknown, args: unknown): void {
	if (typeof command !== 'string') {
		throw new PdiError(`command: expected a program name, got ${shown(command)}`);
	}

	if (!Array.isArray(args)) {
		throw new PdiError(`args: expected an array of strings, got ${shown(args)}`);
	}

	const entry = args.findIndex(value => typeof value !== 'string');
	if (entry >= 0) {
		throw new PdiError(`args[${entry}]: expected a string, got ${shown(args[entry])}`);
	}
}

/**
 * Refuses what Node's spawn would refuse with a raw error or blame on the program: a working directory that is
 * not one (`spawn /usr/bin/ls ENOENT`), and a NUL byte in the command, an argument or a variable (which no
 * `execve` can pass).
 */
function checkLaunchInput(command: string, args: readonly string[], options: LaunchOptions, environment: NodeJS.ProcessEnv): void {
	checkCommandLine(command, args);
	const {cwd, env} = options as {cwd?: unknown; env?: unknown};
	if (cwd !== undefined && typeof cwd !== 'string' && !(cwd instanceof URL)) {
		throw new PdiError(`cwd: expected a directory name, got ${shown(cwd)}`);
	}

	if (env !== undefined && (typeof env !== 'object' || env === null || Array.isArray(env))) {
		throw new PdiError(`env: expected an object of variables, got ${shown(env)}`);
	}

	if (options.cwd !== undefined) {
		const directory = directoryOf(options.cwd);
		let isDirectory: boolean;
		try {
			isDirectory = statSync(directory).isDirectory();
		} catch (error) {
			throw new PdiError(`cwd: ${directory}: ${fileSystemReason(error)}`, {cause: error});
		}

		if (!isDirectory) {
			throw new PdiError(`cwd: ${directory}: not a directory`);
		}
	}

	const nul = (what: string) => new PdiError(`${what}: contains a NUL byte, which a program cannot be given`);
	if (command.includes('\0')) {
		throw nul('command');
	}

	const argument = args.findIndex(entry => entry.includes('\0'));
	if (argument >= 0) {
		throw nul(`args[${argument}]`);
	}

	for (const [name, value] of Object.entries(environment)) {
		if (name.includes('\0') || (typeof value === 'string' && value.includes('\0'))) {
			throw nul(`env.${name.replaceAll('\0', '\\0')}`);
		}
	}
}

/**
 * The compiled config's directory and what is in it (the config, the act report's place) given to the user and
 * group spawn()'s `uid` and `gid` run the program as: its core reads the config and writes the report as that user
 * (was: `PDI_CONFIG: cannot read ... permission denied`, and the program never ran). Changing the user takes root,
 * which may give files away; without it Node's spawn() refuses the option itself (EPERM).
 */
function handOver(config: string | undefined, uid: number | undefined, gid: number | undefined): void {
	if (config === undefined || (uid === undefined && gid === undefined)) {
		return;
	}

	const directory = path.dirname(config);
	const user = uid ?? process.getuid?.() ?? 0;
	const group = gid ?? process.getgid?.() ?? 0;
	const closed = closedTo(path.dirname(directory), user, group);
	if (closed !== undefined) {
		throw new PdiError(`${closed}: the program would run as uid ${user}, which cannot pass through this directory to its config (mode ${modeOf(closed)}): set TMPDIR to one it can pass through, such as /tmp`);
	}

	const closedCore = closedTo(pdiPaths().nativeDirectory, user, group);
	if (closedCore !== undefined) {
		throw new PdiError(`${closedCore}: the program would run as uid ${user}, which cannot pass through this directory to pdi's core (mode ${modeOf(closedCore)}): install pdi where that user can read it (docs/launching.md)`);
	}

	try {
		for (const file of [directory, ...readdirSync(directory).map(name => path.join(directory, name))]) {
			chownSync(file, uid ?? -1, gid ?? -1);
		}
	} catch {}
}

function modeOf(directory: string): string {
	return (statSync(directory).mode & 0o777).toString(8);
}

/** A directory on the way from / to `directory` (itself included) that user `uid` (of group `gid`) may not search, if any. */
function closedTo(directory: string, uid: number, gid: number): string | undefined {
	for (let current = directory; uid !== 0; current = path.dirname(current)) {
		const {mode, uid: owner, gid: group} = statSync(current);
		const searchable = owner === uid ? (mode & 0o100) !== 0 : group === gid ? (mode & 0o010) !== 0 : (mode & 0o001) !== 0;
		if (!searchable) {
			return current;
		}

		if (current === path.dirname(current)) {
			return undefined;
		}
	}

	return undefined;
}

/**
 * The one way pdi starts a program: resolve it (PATH, the working directory
 * of `options.cwd`), check that the core can be preloaded into it (dynamic,
 * this architecture), compile `config`, build the environment (`LD_PRELOAD`
 * with a loader-safe core path, `PDI_CONFIG`, `variables`), spawn it, and
 * hook up signals. Every temporary file of the launch is removed when the
 * program exits or fails to start. `argv[0]` is `command` as given.
 *
 * Problems found before the start (a missing or static program, a missing
 * `cwd`, a NUL byte in an argument, a config error, an unusable `TMPDIR`)
 * throw, with nothing left behind.
 */
export function launch(command: string, args: readonly string[] = [], options: LaunchOptions = {}): LaunchedProgram {
	const {env = process.env, config, variables, onSignal, afterExit, throwUnheardError, refuseSecureMode, ...spawnOptions} = options;
	checkLaunchInput(command, args, options, env);
	const program = checkedProgram(command, options, env, refuseSecureMode);
	const inherited = withInheritedState(spawnOptions.stdio, variables);
	const prepared = prepareLaunch(env, config, inherited.variables);
	try {
		handOver(prepared.environment['PDI_CONFIG'], spawnOptions.uid, spawnOptions.gid);
	} catch (error) {
		prepared.remove();
		throw error;
	}

	let child: ChildProcess;
	if (onSignal === 'forward') watchSignalSenders();

	try {
		// A path with a slash is executed as given (in `cwd`, the same file that was checked), so that a script's
		// interpreter gets it as the kernel passes it on ($0 `./tool.sh`, as from a shell); a bare name as PATH found it.
		const file = spawnOptions.shell || command.includes('/') ? command : program;
		child = spawn(file, args, {...(spawnOptions.shell ? {} : {argv0: command}), ...spawnOptions, stdio: inherited.stdio, env: prepared.environment});
	} catch (error) {
		prepared.remove();
		// Node throws at once for what the kernel refuses before the exec (an argument list too long, E2BIG), and for
		// a spawn option of the wrong type (ERR_INVALID_ARG_TYPE: its message names the option, not the program).
		const {code, message} = error as {code?: unknown; message?: unknown};
		if (typeof code === 'string' && code.startsWith('ERR_') && typeof message === 'string') {
			throw new PdiError(message, {cause: error});
		}

		throw typeof code === 'string' ? new PdiError(`${command}: could not be started: ${fileSystemReason(error)}`, {cause: error}) : error;
	}

	const releaseSignals = onSignal === undefined ? () => undefined : onSignal === 'forward' ? forwardSignals(child) : receiveSignals(onSignal);
	// Without onSignal, a signal that ends this process would leave the files in TMPDIR (no 'exit' event): they are
	// removed then, and the child, not signalled, runs on without them (as Node leaves a child of a process that dies).
	const forget = removeOnSignal(() => {
		prepared.remove();
	});
	const cleanup = (): void => {
		forget();
		releaseSignals();
		prepared.remove();
	};

	const exited = new Promise<LaunchExit>((resolve, reject) => {
		child.once('exit', (code, signal) => {
			prepared.reportRulesLeft();
			const act = prepared.actReport === undefined ? [] : readActReport(prepared.actReport.file, prepared.actReport.config);
			const end = () => {
				const exit = {code, signal, act, warnings: readWarnings(prepared.warningsFile)};
				cleanup();
				resolve(exit);
			};

			if (afterExit) {
				afterExit().then(end, end);
			} else {
				end();
			}
		});
		child.on('error', error => {
			const started = child.pid !== undefined;
			if (!started) {
				cleanup();
				reject(error);
			}

			// Only this listener: without it Node would have thrown the error. A failed start is thrown naming the
			// program; any other (the AbortError of an aborted `signal`, a failed kill()) as Node gives it.
			if (throwUnheardError && child.listenerCount('error') === 1) {
				throw started ? error : new PdiError(`${command}: could not be started: ${fileSystemReason(error)}`, {cause: error});
			}
		});
	});
	// A caller that only wants the child (spawn()) sees a failed start as the child's 'error' event.
	exited.catch(() => undefined);
	return {child, program, exited, cleanup};
}

/** A time limit on a launched program; see {@link deadline}. */
export type Deadline = {
	/** Whether the time ran out (and `stop` was called). */
	readonly expired: boolean;
	cancel(): void;
};

/** Calls `stop` when `ms` milliseconds have passed, unless cancelled first; no limit when `ms` is undefined. */
export function deadline(ms: number | undefined, stop: () => void): Deadline {
	let expired = false;
	const timer = ms === undefined ? undefined : setTimeout(() => {
		expired = true;
		stop();
	}, ms);
	return {
		get expired() {
			return expired;
		},
		cancel() {
			clearTimeout(timer);
		},
	};
}

/** Node's own AbortError is not exported: this one has its name, code, message and constructor name. */
class AbortError extends Error {
	override name = 'AbortError';
	readonly code = 'ABORT_ERR';

	constructor(reason: unknown) {
		super('The operation was aborted', {cause: reason});
	}
}

/** The error of an operation `signal` aborted, as Node's own aborted operations reject (`AbortError`, `ABORT_ERR`). */
export function abortError(signal: AbortSignal | undefined): Error {
	return new AbortError(signal?.reason);
}

/**
 * The `AbortError` that Node gives `child` when the `signal` option of its spawn is aborted (it then kills the
 * child), once it has come: runProgram() and trace() reject with it after the program has exited. Given `signal`,
 * an abort after the child's exit (while trace() waits for the processes it followed), for which Node gives none,
 * makes one as Node's.
 */
export function abortOf(child: ChildProcess, signal?: AbortSignal): {readonly error: Error | undefined} {
	let given: Error | undefined;
	child.on('error', error => {
		if (error.name === 'AbortError') {
			given = error;
		}
	});
	return {
		get error() {
			if (given === undefined && signal?.aborted) {
				given = abortError(signal);
			}

			return given;
		},
	};
}
