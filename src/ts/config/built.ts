import {ConfigError} from './config-error.js';
import {optionNames, optionTable, setOptionValue, type OptionName} from './options.js';
import type {ConfigOptions, NormalizedBackend, NormalizedConfig, NormalizedRule, PdiConfigInput} from './types.js';

// This module must not load the schema (zod) or the YAML reader: the commands that build their own
// config (`pdi comux run`, `pdi trace`) start without them (docs/architecture.md, "Start-up").

/** Whether `config` is already normalized (by `loadConfig()`, `normalizeConfig()`, {@link builtConfig}…). */
export function isNormalizedConfig(config: PdiConfigInput | NormalizedConfig): config is NormalizedConfig {
	// Not an object (a file name, null): not normalized; normalizeConfig() then says what is wrong with it.
	return typeof config === 'object' && config !== null && (config as {normalized?: unknown}).normalized === true;
}

/** The default of every option, from the option table (the schema's defaults are the same table). */
export function defaultOptions(): ConfigOptions {
	const options = {};
	for (const name of optionNames) {
		const value: unknown = optionTable[name].default;
		setOptionValue(options, name, Array.isArray(value) ? [...(value as unknown[])] : value);
	}

	return options as ConfigOptions;
}

type Built<T> = T extends unknown ? Omit<T, 'origin'> : never;

/** What {@link builtConfig} puts together: options by name (the rest default), backends and rules without places. */
export type ConfigParts = {
	options?: Partial<Record<OptionName, unknown>>;
	backends: ReadonlyArray<Omit<NormalizedBackend, 'origin'>>;
	rules: ReadonlyArray<Built<NormalizedRule>>;
};

const oneLine = /^[^\n\r]+$/;

/**
 * A normalized config that pdi puts together itself (the comux-accept and trace configs), without
 * the schema: the backends are bundled names and the option values are pdi's own; an object
 * pattern that came from the user (`pdi trace --object`) is checked as the schema checks it. Equal to
 * what `normalizeConfig()` makes of the same config (a test holds them together).
 */
export function builtConfig(parts: ConfigParts): NormalizedConfig {
	const options = defaultOptions();
	const optionOrigins: NormalizedConfig['optionOrigins'] = {};
	for (const [name, value] of Object.entries(parts.options ?? {}) as Array<[OptionName, unknown]>) {
		setOptionValue(options, name, value);
		optionOrigins[name] = undefined;
	}

	for (const [index, rule] of parts.rules.entries()) {
		if (!oneLine.test(rule.object)) {
			throw new ConfigError(`rules[${index}].${rule.kind}.object: expected an object pattern ($main, a soname, a path or a glob) on one line, got ${JSON.stringify(rule.object)}`, {});
		}
	}

	return {
		normalized: true,
		options,
		backends: parts.backends.map(backend => ({...backend, origin: undefined})),
		rules: parts.rules.map(rule => ({...rule, origin: undefined})),
		warnings: [],
		optionOrigins,
	};
}
