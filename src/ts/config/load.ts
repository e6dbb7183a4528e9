import path from 'node:path';
import {fileSystemReason} from '../errors.js';
import {resolveKeepingSlash} from '../resolve-path.js';
import {ConfigError, formatPlace, type Origin} from './config-error.js';
import {
	checkConfig,
	defaultOptions,
	jsonLabel,
	jsonShow,
} from './schema.js';
import type {ConfigWarning, NormalizedBackend, NormalizedConfig, NormalizedRule, PdiConfigInput} from './types.js';
import {compileNormalizedConfig} from './compile.js';
import {isNormalizedConfig} from './built.js';
import {listOptionNames, optionValue, setOptionValue, type OptionName} from './options.js';
import {parseTextDialect, type ReadOptions} from './text-dialect.js';
import {configDirectory, NotUtf8Error, readConfigText} from './config-file.js';
import {entryName} from './field-origins.js';
import {readBack} from './read-back.js';
import {wholeConfigIssues} from './whole-checks.js';
import {requireConfig} from './require-config.js';

/** The text to read on after readConfigText() failed (a text-dialect file whose NUL byte comes first), or the error. */
function textAfterReadError(error: unknown, absolute: string): string {
	if (error instanceof NotUtf8Error && error.textBeforeNul !== undefined && spellingOf(absolute, error.textBeforeNul) === 'text') {
		return error.textBeforeNul;
	}

	if (error instanceof NotUtf8Error) {
		throw new ConfigError(error.message, {file: absolute, line: error.line, column: error.column}, {cause: error});
	}

	throw new ConfigError(fileSystemReason(error), {file: absolute}, {cause: error});
}

/**
 * Reads and checks a config file: `.json`, `.yaml` or `.yml` by extension, the text dialect
 * otherwise (`.cfg`, `.cmd`, …); a name without an extension by its first line ({@link spellingOf}). Resolves to the {@link NormalizedConfig}; rejects with a
 * {@link ConfigError} naming the file, line and column of the first problem. A FIFO or a pipe
 * (`pdi run -c <(gen-config)`) is read until its writer closes it, waiting for the event loop, so that
 * a signal still ends the process while no writer comes. With
 * `{merging: true}` (a file to give {@link mergeConfigs}), a rule may use a backend that another of the
 * merged configs declares (whether it is declared is left to verifyConfig()) and a callback's own handler
 * may rely on `cbAllowHandler` set by another (mergeConfigs() checks it). With `{deferChecks: true}`, an option over
 * the option that limits it and a callback handler without `cbAllowHandler` are left to verifyConfig() (or
 * mergeConfigs()), which reports them with the backend and wrapper checks: `pdi config check` and `pdi run` read so.
 *
 * ```ts
 * const config = await loadConfig('pdi.yaml');
 * ```
 */
export async function loadConfig(file: string, options: ReadOptions = {}): Promise<NormalizedConfig> {
	if (typeof file !== 'string') {
		throw new ConfigError(`loadConfig(): expected the name of a config file, got ${jsonShow(file)}`, {});
	}

	// Not the current directory, which path.resolve('') is ('/home/me: is a directory').
	if (file === '') {
		throw new ConfigError('loadConfig(): the file name is empty', {});
	}

	const absolute = resolveKeepingSlash(file);
	let text: string;
	try {
		text = await readConfigText(absolute);
	} catch (error) {
		text = textAfterReadError(error, absolute);
	}

	const spelling = spellingOf(absolute, text);
	const directory = configDirectory(absolute);
	if (spelling !== 'text') {
		const {parseStructured} = await import('./structured.js');
		return withActRulesRead(parseStructured(text, absolute, spelling === 'json', {merging: options.merging === true, deferred: options.deferChecks === true, directory}), options.deferChecks === true);
	}

	return withActRulesRead(parseTextDialect(text, absolute, options, directory), options.deferChecks === true);
}

/** The first line that is neither blank nor a `#` comment, trimmed. */
function firstStatement(text: string): string | undefined {
	return text.split('\n').map(line => line.trim()).find(line => line !== '' && !line.startsWith('#'));
}

/** What a first statement starts: `{` JSON, `KEY:` or `---` YAML (neither is a line of the text dialect). */
function structuredSpelling(first: string): 'json' | 'yaml' | 'text' {
	return first.startsWith('{') ? 'json' : /^(?:---|[A-Za-z_][\w-]*\s*:)(?:\s|$)/.test(first) ? 'yaml' : 'text';
}

/**
 * `config`, once its act rules are read back with the core's reader, which knows each function's prototype: what
 * the schema cannot see (`arg7` of `read`, an integer `return` for `sqrt`, a rule on `longjmp`, which pdi never
 * instruments) is a {@link ConfigError} here, naming every such rule, as `pdi config check` and `pdi run` say it
 * (**was a bug**: loadConfig(), normalizeConfig() and compileConfig() took them, and only the run refused them).
 */
function withActRulesRead(config: NormalizedConfig, deferChecks = false): NormalizedConfig {
	const acts = config.rules.filter(rule => rule.kind === 'act');
	if (acts.length > 0) {
		readBack({...config, backends: [], rules: acts}, deferChecks);
	}

	return config;
}

/**
 * The spelling of a config file: `.json`, `.yaml` or `.yml` by extension, the text dialect for any other extension.
 * A name without one (`pdi run -c <(gen-config)` reads /dev/fd/63, /dev/stdin) is told by its first line that is not
 * blank or a `#` comment: `{` starts JSON, `KEY:` or `---` YAML (neither is a line of the text dialect).
 */
function spellingOf(file: string, text: string): 'json' | 'yaml' | 'text' {
	const extension = path.extname(file).toLowerCase();
	if (extension === '.json' || extension === '.yaml' || extension === '.yml') {
		return extension === '.json' ? 'json' : 'yaml';
	}

	const first = extension === '' ? firstStatement(text) : undefined;
	return first === undefined ? 'text' : structuredSpelling(first);
}

export {requireConfig};

/**
 * Checks and normalizes an in-memory config (the object a `defineConfig()` user wrote). Relative
 * paths are resolved against `source.directory`, else the directory of `source.file`, else the
 * current directory; errors name `source.file` when given (there are no lines to name).
 */
export function normalizeConfig(config: PdiConfigInput, source: {file?: string; directory?: string} = {}): NormalizedConfig {
	// Was taken for an empty config: a helper that lost its config ran the program with no rule and no error.
	requireConfig(config);
	if (typeof config === 'string') {
		// A file name where a config object belongs (spawn('pdi.yaml', ...)): say how to read it.
		throw new ConfigError(`expected a config object, got ${jsonShow(config)}: a config file is read with loadConfig(file) first`, {});
	}

	const file = source.file === undefined ? undefined : path.resolve(source.file);
	return withActRulesRead(checkConfig(config, {
		file,
		directory: path.resolve(source.directory ?? (file ? path.dirname(file) : '.')),
		locate: () => ({file}),
		label: jsonLabel,
		show: jsonShow,
	}));
}

/** What makes two rules the same for {@link mergeConfigs}: every field but the origin. */
function ruleKey(rule: NormalizedRule): string {
	switch (rule.kind) {
		case 'callback': {
			return JSON.stringify([rule.kind, rule.object, rule.backend, rule.handler ?? null]);
		}

		case 'act': {
			// Keys sorted: the same conditions and actions written in another order are the same rule.
			return JSON.stringify([rule.kind, rule.object, rule.function, rule.when, rule.do], (_key, value: unknown) => typeof value === 'object' && value !== null && !Array.isArray(value)
				? Object.fromEntries(Object.entries(value).sort(([a], [b]) => a < b ? -1 : 1))
				: value);
		}

		default: {
			return JSON.stringify([rule.kind, rule.object, rule.function, rule.backend, rule.wrapper]);
		}
	}
}

/** Whether two rules were read at one place (a file given twice); rules without a place are never at one. */
function samePlace(a: Origin | undefined, b: Origin | undefined): boolean {
	return a !== undefined && b !== undefined && a.file === b.file && a.line === b.line && a.column === b.column;
}

function where(origin: Origin | undefined): string {
	return origin ? formatPlace({file: origin.file, line: origin.line}) : 'an in-memory config';
}

/**
 * {@link mergeConfigs} without its checks of the merged options and handlers ({@link wholeConfigIssues}): for configs
 * that verifyConfig() checks next, which reports them with the backend and wrapper checks (`pdi run`).
 */
export function mergeWithoutChecks(configs: readonly NormalizedConfig[]): NormalizedConfig {
	const given: unknown = configs;
	if (!Array.isArray(given)) {
		throw new ConfigError(`mergeConfigs(): expected an array of configs from loadConfig() or normalizeConfig(), got ${jsonShow(given)}`, {});
	}

	const stray = given.findIndex((config: unknown) => typeof config !== 'object' || config === null || (config as {normalized?: unknown}).normalized !== true);
	if (stray >= 0) {
		// Which one: a config object written by hand among loaded ones is the usual slip.
		throw new ConfigError(`mergeConfigs(): configs[${stray}] is not a config from loadConfig() or normalizeConfig() (got ${jsonShow(given[stray])}): normalize it with normalizeConfig() first`, {});
	}

	const options = defaultOptions();
	const optionOrigins: NormalizedConfig['optionOrigins'] = {};
	const backends = new Map<string, NormalizedBackend>();
	const merged: NormalizedConfig = {normalized: true, options, backends: [], rules: [], warnings: [], optionOrigins};
	const ruleKeys = new Map<string, {rule: NormalizedRule; entry: string}>();
	const warningKeys = new Set<string>();
	// The same message at the same place counts once.
	const addWarning = (warning: ConfigWarning) => {
		const key = JSON.stringify([warning.message, warning.origin ?? warning.entry ?? null]);
		if (!warningKeys.has(key)) {
			warningKeys.add(key);
			merged.warnings.push(warning);
		}
	};

	for (const config of configs) {
		for (const name of Object.keys(config.optionOrigins) as OptionName[]) {
			setOptionValue(options, name, optionValue(config.options, name));
			optionOrigins[name] = config.optionOrigins[name];
		}

		for (const backend of config.backends) {
			const earlier = backends.get(backend.name);
			if (!earlier) {
				backends.set(backend.name, backend);
				merged.backends.push(backend);
			} else if (earlier.library !== backend.library) {
				throw new ConfigError(`backend '${backend.name}' is already declared at ${where(earlier.origin)} with library '${earlier.library}'`, backend.origin ?? {});
			}
		}

		for (const [index, rule] of config.rules.entries()) {
			const key = ruleKey(rule);
			const kept = ruleKeys.get(key);
			const entry = entryName(rule, `rules[${index}]`);
			if (kept === undefined) {
				ruleKeys.set(key, {rule, entry});
				merged.rules.push(rule);
			} else if (rule.kind === 'act' && !samePlace(rule.origin, kept.rule.origin)) {
				// The same file twice is no news; an act rule spelt again elsewhere (in another file, or further down the same
				// one: was dropped without a word) has its calls counted at the first.
				addWarning({
					message: `act ${rule.function}: the same rule as ${kept.rule.origin ? where(kept.rule.origin) : kept.entry}, kept once: its calls are counted there`,
					origin: rule.origin,
					...rule.origin ? {} : {entry},
				});
			}
		}

		for (const warning of config.warnings) {
			addWarning(warning);
		}
	}

	for (const name of listOptionNames) {
		setOptionValue(options, name, configs.flatMap(config => optionValue(config.options, name) as string[]));
	}

	return merged;
}

/**
 * Combines configs given one after the other (`pdi run -c a.yaml -c b.cfg`): an option a later
 * config sets overrides the earlier value, list options (`backendPath`) concatenate, and so do backends
 * (a name declared again with the same library counts once; with another library it is a
 * {@link ConfigError} at the second declaration), rules (in order; a rule equal to an earlier one
 * in every field but its origin counts once, at its first place) and warnings (the same message
 * at the same place counts once). The merged options and handlers are checked then: each option over the option that
 * limits it and each callback handler without `cbAllowHandler` is an issue of the {@link ConfigError}.
 */
export function mergeConfigs(configs: readonly NormalizedConfig[]): NormalizedConfig {
	const merged = mergeWithoutChecks(configs);
	const issues = wholeConfigIssues(merged);
	if (issues.length > 0) {
		throw ConfigError.fromIssues(issues);
	}

	return merged;
}

/**
 * Compiles a config to one self-contained file of the native text dialect, the file the core
 * reads from `PDI_CONFIG`: in `[global]` the options the config sets or that differ from their
 * defaults (the core has the same defaults), the `Warning` lines, the `backend` declarations, an
 * `object oN = PATTERN` alias per object pattern, and the rules in order (an `act` rule's conditions
 * and actions as `KEY=VALUE` tokens, its glob always in double quotes). Values are quoted where
 * the dialect needs it. Each statement that came from a user's file is preceded by
 * `#@origin FILE:LINE:COL` (an alias by its first rule's), so that the core reports problems at
 * the place the user wrote. A {@link PdiConfigInput} is normalized first (relative paths against the
 * current directory).
 */
export function compileConfig(config: PdiConfigInput | NormalizedConfig): string {
	return compileNormalizedConfig(isNormalizedConfig(config) ? config : normalizeConfig(config));
}
