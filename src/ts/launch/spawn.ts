import {spawn as spawnChild, type ChildProcess, type SpawnOptions} from 'node:child_process';
import type {NormalizedConfig, PdiConfig} from '../config/index.js';
import {preloadEnvironment} from './environment.js';
import {prepareConfig} from './prepared-config.js';

/**
 * Starts `command` with the interpositions of `config`: the preload core in
 * `LD_PRELOAD` and the compiled config in `PDI_CONFIG`, both set only in the
 * child's environment. The compiled config lives in a private temporary
 * file that is removed when the child exits.
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
	const prepared = prepareConfig(config);
	try {
		const child = spawnChild(command, args, {...options, env: preloadEnvironment(options.env ?? process.env, prepared.file)});
		child.once('exit', () => prepared.remove());
		child.once('error', () => prepared.remove());
		return child;
	} catch (error) {
		prepared.remove();
		throw error;
	}
}
