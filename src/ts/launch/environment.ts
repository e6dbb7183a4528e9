import type {NormalizedConfig, PdiConfig} from '../config/index.js';
import {prepareConfig} from './prepared-config.js';
import {loaderSafePreload} from './preload.js';

/** `LD_PRELOAD` with the core first, keeping what the caller already preloads. */
export function withPreload(preload: string, existing: string | undefined): string {
	return existing ? `${preload}:${existing}` : preload;
}

let processPreload: string | undefined;

/**
 * The environment of a program started with pdi: `environment` plus the
 * preloaded core and, when given, the compiled config in `PDI_CONFIG`.
 *
 * `preload` is the core's path from {@link loaderSafePreload}, which the
 * caller removes when the program has exited. Without it, one loader-safe
 * path serves the whole Node process (a link, if one is needed, is removed
 * when the process exits).
 */
export function preloadEnvironment(environment: NodeJS.ProcessEnv, configFile?: string, preload?: string): NodeJS.ProcessEnv {
	const core = preload ?? (processPreload ??= loaderSafePreload().preload);
	const result: NodeJS.ProcessEnv = {...environment, LD_PRELOAD: withPreload(core, environment['LD_PRELOAD'])};
	if (configFile !== undefined) {
		result['PDI_CONFIG'] = configFile;
	}

	return result;
}

/** What one launched program needs from pdi: its environment and the temporary files behind it. */
export type Launch = {
	/** The program's environment: the caller's plus `LD_PRELOAD` and, with a config, `PDI_CONFIG`. */
	readonly environment: NodeJS.ProcessEnv;
	/** Removes the compiled config and the core's link, if any; call it when the program has exited. Safe to call twice. */
	remove(): void;
};

/**
 * Compiles `config` (when given) into a private temporary file and makes the
 * core's path safe for the loader: everything a program started with pdi
 * needs, undone by `remove()`.
 */
export function prepareLaunch(environment: NodeJS.ProcessEnv, config?: PdiConfig | NormalizedConfig): Launch {
	const prepared = config === undefined ? undefined : prepareConfig(config);
	let preload;
	try {
		preload = loaderSafePreload();
	} catch (error) {
		prepared?.remove();
		throw error;
	}

	return {
		environment: preloadEnvironment(environment, prepared?.file, preload.preload),
		remove() {
			prepared?.remove();
			preload.remove();
		},
	};
}
