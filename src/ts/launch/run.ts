import {spawn as spawnChild} from 'node:child_process';
import {loadConfig, mergeConfigs, normalizeConfig, type NormalizedConfig, type PdiConfig} from '../config/index.js';
import {checkPreloadable, resolveProgram} from '../inspect/program.js';
import {prepareLaunch} from './environment.js';
import {exitStatus, forwardSignals} from './signals.js';

export {exitStatus} from './signals.js';

/** Options of {@link runProgram}. */
export type RunOptions = {
	/** Config files (JSON, YAML or text dialect), merged in order. */
	configs?: readonly string[];
	/** A config given in memory, merged after the files. */
	config?: PdiConfig | NormalizedConfig;
	/** Raise the core's log level this many steps above the config's (warning → info → debug). */
	verbosity?: number;
	env?: NodeJS.ProcessEnv;
	cwd?: string;
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
 * (128+N when signal N ended it). SIGINT, SIGTERM and SIGHUP are passed on.
 * The temporary files of the launch are removed when PROGRAM has exited.
 */
export async function runProgram(command: string, args: readonly string[], options: RunOptions = {}): Promise<number> {
	const environment = options.env ?? process.env;
	const configs = await Promise.all((options.configs ?? []).map(async file => loadConfig(file)));
	if (options.config) {
		configs.push((options.config as {normalized?: boolean}).normalized ? options.config as NormalizedConfig : normalizeConfig(options.config as PdiConfig));
	}

	const program = resolveProgram(command, environment);
	checkPreloadable(program, command);
	const launch = prepareLaunch(environment, configs.length > 0 ? raiseLogLevel(mergeConfigs(configs), options.verbosity ?? 0) : undefined);
	try {
		return await new Promise<number>((resolve, reject) => {
			const child = spawnChild(program, args, {argv0: command, cwd: options.cwd, env: launch.environment, stdio: 'inherit'});
			const stop = forwardSignals(child);
			child.once('error', error => {
				stop();
				reject(error);
			});
			child.once('exit', (code, signal) => {
				stop();
				resolve(exitStatus(code, signal));
			});
		});
	} finally {
		launch.remove();
	}
}
