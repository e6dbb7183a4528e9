import {pdiPaths} from '../paths.js';

/** `LD_PRELOAD` with the core first, keeping what the caller already preloads. */
export function withPreload(preload: string, existing: string | undefined): string {
	return existing ? `${preload}:${existing}` : preload;
}

/**
 * The environment of a program started with pdi: `environment` plus the
 * preloaded core and, when given, the compiled config in `PDI_CONFIG`.
 */
export function preloadEnvironment(environment: NodeJS.ProcessEnv, configFile?: string): NodeJS.ProcessEnv {
	const result: NodeJS.ProcessEnv = {...environment, LD_PRELOAD: withPreload(pdiPaths().preload, environment['LD_PRELOAD'])};
	if (configFile !== undefined) {
		result['PDI_CONFIG'] = configFile;
	}

	return result;
}
