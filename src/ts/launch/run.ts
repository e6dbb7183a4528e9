import type {StdioOptions} from 'node:child_process';
import type {NormalizedConfig, PdiConfigInput} from '../config/types.js';
import {requireConfig} from '../config/require-config.js';
import {fileSystemReason, PdiError} from '../errors.js';
import type {ActCount} from './act-report.js';
import {abortOf, launch} from './launch.js';
import {checkOptions, isObject, stdioOption, type OptionType} from './options.js';
import {launchConfig} from './prepared-config.js';
import {exitStatus} from './signals.js';

/** Options of {@link runProgram}. */
export type RunOptions = {
	/** Config files (JSON, YAML or text dialect), merged in order. */
	configs?: readonly string[] | undefined;
	/** A config given in memory, merged after the files. */
	config?: PdiConfigInput | NormalizedConfig | undefined;
	/** Raise the core's log level this many steps above the config's (warning → info → debug). */
	verbosity?: number | undefined;
	/** The program's environment, to which pdi adds its own (default `process.env`). */
	env?: NodeJS.ProcessEnv | undefined;
	/** The program's working directory; PROGRAM is found relative to it. */
	cwd?: string | undefined;
	/** The program's stdio (default `'inherit'`); to read its output, use {@link spawn} instead. */
	stdio?: StdioOptions | undefined;
	/** Aborting it ends the program (SIGTERM); the promise then rejects with an `AbortError` once it has exited. */
	signal?: AbortSignal | undefined;
};

/** How a program run by {@link runProgram} ended. */
export type RunResult = {
	/** Its exit status (128+N when signal N ended it). */
	status: number;
	/** The signal that ended it, when one did (`status` is then 128+N). */
	signal?: NodeJS.Signals;
	/** What the config's `act` rules counted, per rule and process (empty without act rules). */
	act: ActCount[];
	/**
	 * pdi's warnings and errors from the program's processes (`pdi: warning: rules[0]: act opne: ... the rule saw no
	 * call`), in the order they were written: they also go to the program's stderr, which `stdio` may drop.
	 */
	warnings: string[];
};

/** What each option of {@link runProgram} must be, and how a message says so. */
const runOptionTypes: Record<keyof RunOptions, OptionType> = {
	configs: [value => Array.isArray(value) && value.every(entry => typeof entry === 'string'), 'an array of config file names'],
	config: [isObject, 'a config object'],
	verbosity: [value => Number.isInteger(value) && (value as number) >= 0, 'a whole number of steps, 0 or more (each raises the log level one step, as a -v of pdi run, up to debug)'],
	env: [isObject, 'an object of variables'],
	cwd: [value => typeof value === 'string', 'a directory name'],
	stdio: stdioOption,
	signal: [value => value instanceof AbortSignal, 'an AbortSignal'],
};

const logLevels = ['error', 'warning', 'info', 'debug'] as const;

function raiseLogLevel(config: NormalizedConfig, steps: number): NormalizedConfig {
	if (steps <= 0) {
		return config;
	}

	const current = logLevels.indexOf(config.options.log.level);
	const level = logLevels[Math.min(logLevels.length - 1, current + steps)]!;
	return {...config, options: {...config.options, log: {...config.options.log, level}}};
}

/**
 * What `pdi run` does: load and merge the configs, check them (syntax,
 * backends, wrappers) before anything starts, run PROGRAM with the
 * interpositions and stdio inherited, and resolve to its exit status
 * (128+N when signal N ended it) and the counts of its `act` rules.
 * SIGINT, SIGTERM and SIGHUP are passed on. The temporary files of the
 * launch are removed when PROGRAM has exited.
 */
export async function runProgram(command: string, args: readonly string[] = [], options: RunOptions = {}): Promise<RunResult> {
	if (isObject(options) && (options).config === null) {
		// A lost config is a ConfigError, as spawn() and interpose() say it.
		requireConfig(null);
	}

	checkOptions(options, runOptionTypes);
	const config = await launchConfig(options.configs, options.config);
	const {exited, child} = launch(command, args, {
		env: options.env,
		cwd: options.cwd,
		stdio: options.stdio ?? 'inherit',
		signal: options.signal,
		config: config && raiseLogLevel(config, options.verbosity ?? 0),
		onSignal: 'forward',
	});
	const aborted = abortOf(child);
	// Nobody can read a pipe runProgram() makes ('pipe' in stdio): drain it, or a program that writes more
	// than the pipe holds would wait for ever.
	child.stdin?.end();
	for (const stream of child.stdio.slice(1)) {
		if (stream && 'resume' in stream) {
			stream.resume();
		}
	}

	let exit;
	try {
		exit = await exited;
	} catch (error) {
		// The checks passed, but the exec failed (a script whose interpreter is missing): a PdiError naming
		// the program, as trace() and spawn() give it, not Node's `spawn PATH ENOENT`.
		throw new PdiError(`${command}: could not be started: ${fileSystemReason(error)}`, {cause: error});
	}

	if (aborted.error) {
		throw aborted.error;
	}

	return {status: exitStatus(exit.code, exit.signal), ...(exit.signal ? {signal: exit.signal} : {}), act: exit.act, warnings: exit.warnings};
}
