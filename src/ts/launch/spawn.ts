import {spawn as spawnChild, type ChildProcess, type SpawnOptions} from 'node:child_process';
import type {NormalizedConfig, PdiConfig} from '../config/index.js';
import {prepareLaunch} from './environment.js';

/**
 * Starts `command` with the interpositions of `config`: the preload core in
 * `LD_PRELOAD` and the compiled config in `PDI_CONFIG`, both set only in the
 * child's environment. The compiled config (and the link to the core that an
 * install path with spaces needs) lives in a private temporary directory that
 * is removed when the child exits, or at the latest when this process exits.
 *
 * ```ts
 * const child = spawn(defineConfig({
 * 	backends: [{name: 'count', library: 'count'}],
 * 	rules: [{relink: {object: '$main', function: 'malloc', backend: 'count', wrapper: 'count_malloc'}}],
 * }), './server', ['--port', '8080'], {stdio: 'inherit'});
 * ```
 *
 * The config is validated and its backends and wrappers are checked before
 * anything starts; a problem throws a `ConfigError` naming the place.
 * Files are loaded with `loadConfig()` first.
 */
export function spawn(config: PdiConfig | NormalizedConfig, command: string, args: readonly string[] = [], options: SpawnOptions = {}): ChildProcess {
	const launch = prepareLaunch(options.env ?? process.env, config);
	try {
		const child = spawnChild(command, args, {...options, env: launch.environment});
		child.once('exit', () => launch.remove());
		child.once('error', () => {
			if (child.pid === undefined) {
				launch.remove();
			}
		});
		return child;
	} catch (error) {
		launch.remove();
		throw error;
	}
}
