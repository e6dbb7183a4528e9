import {ConfigError} from './config-error.js';

/**
 * Refuses a config argument that is null or undefined: normalizeConfig() takes it for an empty config, and a call
 * that lost its config would then run or install nothing, silently. Apart from the loader, so that a launch that
 * only checks its argument does not load the schema (pdi comux run starts without it).
 */
export function requireConfig(config: unknown): void {
	if (config === null || config === undefined) {
		throw new ConfigError(`config: expected a config object, got ${String(config)}`, {});
	}
}
