import {readFile} from 'node:fs/promises';
import path from 'node:path';
import {isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node} from 'yaml';
import {fileSystemReason} from '../errors.js';
import {ConfigError, formatPlace, type ConfigPlace, type Origin} from './config-error.js';
import {
	checkConfig,
	defaultOptions,
	handlerNeedsOption,
	jsonLabel,
	jsonShow,
	type ConfigSource,
	type NormalizedBackend,
	type NormalizedConfig,
	type NormalizedRule,
	type OptionName,
	type PdiConfig,
} from './schema.js';
import {findJsonSyntaxProblem, lineAndColumn} from './json-syntax.js';
import {brokenLimits, listOptionNames, optionMessages, optionValue, setOptionValue} from './options.js';
import {parseTextDialect} from './text-dialect.js';

function yamlSource(document: Document, lineCounter: LineCounter, file: string): ConfigSource {
	const place = (offset: number | undefined): ConfigPlace => {
		if (offset === undefined) {
			return {file};
		}

		const {line, col} = lineCounter.linePos(offset);
		return {file, line, column: col};
	};

	return {
		file,
		directory: path.dirname(file),
		locate(nodePath, key = false) {
			let node: unknown = document.contents;
			let found = place((node as Node | null)?.range?.[0] ?? 0);
			for (const [index, segment] of nodePath.entries()) {
				let next: unknown;
				if (isMap(node)) {
					const pair = node.items.find(item => isPair(item) && (isScalar(item.key) ? item.key.value : item.key) === segment);
					if (!pair) {
						break;
					}

					if ((key && index === nodePath.length - 1) || !pair.value) {
						return place((pair.key as Node | null)?.range?.[0]);
					}

					next = pair.value;
				} else if (isSeq(node) && typeof segment === 'number') {
					next = node.items[segment];
				}

				const range = (next as Node | null | undefined)?.range;
				if (!range) {
					break;
				}

				node = next;
				found = place(range[0]);
			}

			return found;
		},
		label: jsonLabel,
		show: jsonShow,
	};
}

/**
 * Parses a JSON or YAML config. JSON is checked by a JSON reader first (for messages in JSON's
 * terms, duplicate keys included) and then read as YAML, so that both report places the same way.
 */
function parseStructured(text: string, file: string, json: boolean): NormalizedConfig {
	if (json) {
		const problem = findJsonSyntaxProblem(text);
		if (problem) {
			throw new ConfigError(`JSON syntax error: ${problem.reason}`, {file, ...lineAndColumn(text, problem.offset)});
		}
	}

	const lineCounter = new LineCounter();
	const document = parseDocument(text, {lineCounter, prettyErrors: false});

	if (document.errors.length > 0) {
		throw ConfigError.fromIssues(document.errors.map(error => {
			const {line, col} = lineCounter.linePos(error.pos[0]);
			const message = error.message.split('\n')[0] ?? error.code;
			return {message: `syntax error: ${message.replace(/\s*at line \d+, column \d+:?$/, '')}`, file, line, column: col};
		}));
	}

	return checkConfig(document.toJS() as unknown, yamlSource(document, lineCounter, file));
}

/**
 * Reads and checks a config file: `.json`, `.yaml` or `.yml` by extension, the text dialect
 * otherwise (`.cfg`, `.cmd`, …). Resolves to the {@link NormalizedConfig}; rejects with a
 * {@link ConfigError} naming the file, line and column of the first problem.
 *
 * ```ts
 * const config = await loadConfig('pdi.yaml');
 * ```
 */
export async function loadConfig(file: string): Promise<NormalizedConfig> {
	const absolute = path.resolve(file);
	let text: string;
	try {
		text = await readFile(absolute, 'utf8');
	} catch (error) {
		throw new ConfigError(fileSystemReason(error), {file: absolute}, {cause: error});
	}

	const extension = path.extname(absolute).toLowerCase();
	if (extension === '.json' || extension === '.yaml' || extension === '.yml') {
		return parseStructured(text, absolute, extension === '.json');
	}

	return parseTextDialect(text, absolute);
}

/**
 * Checks and normalizes an in-memory config (the object a `defineConfig()` user wrote). Relative
 * paths are resolved against `source.directory`, else the directory of `source.file`, else the
 * current directory; errors name `source.file` when given (there are no lines to name).
 */
export function normalizeConfig(config: PdiConfig, source: {file?: string; directory?: string} = {}): NormalizedConfig {
	const file = source.file === undefined ? undefined : path.resolve(source.file);
	return checkConfig(config, {
		file,
		directory: path.resolve(source.directory ?? (file ? path.dirname(file) : '.')),
		locate: () => ({file}),
		label: jsonLabel,
		show: jsonShow,
	});
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

function where(origin: Origin | undefined): string {
	return origin ? formatPlace({file: origin.file, line: origin.line}) : 'an in-memory config';
}

/**
 * Combines configs given one after the other (`pdi run -c a.yaml -c b.cfg`): an option a later
 * config sets overrides the earlier value, list options (`backendPath`) concatenate, and so do backends
 * (a name declared again with the same library counts once; with another library it is a
 * {@link ConfigError} at the second declaration), rules (in order; a rule equal to an earlier one
 * in every field but its origin counts once, at its first place) and warnings (the same message
 * at the same place counts once).
 */
export function mergeConfigs(configs: readonly NormalizedConfig[]): NormalizedConfig {
	const options = defaultOptions();
	const optionOrigins: NormalizedConfig['optionOrigins'] = {};
	const backends = new Map<string, NormalizedBackend>();
	const merged: NormalizedConfig = {normalized: true, options, backends: [], rules: [], warnings: [], optionOrigins};
	const ruleKeys = new Set<string>();
	const warningKeys = new Set<string>();
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

		for (const rule of config.rules) {
			const key = ruleKey(rule);
			if (!ruleKeys.has(key)) {
				ruleKeys.add(key);
				merged.rules.push(rule);
			}
		}

		for (const warning of config.warnings) {
			const key = JSON.stringify([warning.message, warning.origin ?? null]);
			if (!warningKeys.has(key)) {
				warningKeys.add(key);
				merged.warnings.push(warning);
			}
		}
	}

	for (const name of listOptionNames) {
		setOptionValue(options, name, configs.flatMap(config => optionValue(config.options, name) as string[]));
	}

	const [broken] = brokenLimits(options);
	if (broken) {
		const {option, atMost, value, limit} = broken;
		throw new ConfigError(`options.${option}: ${optionMessages.integerAtMost(atMost, limit)}, got ${value}`, optionOrigins[option] ?? optionOrigins[atMost] ?? {});
	}

	for (const rule of merged.rules) {
		if (rule.kind === 'callback' && rule.handler !== undefined && !options.cbAllowHandler) {
			throw new ConfigError(handlerNeedsOption(rule.handler), rule.origin ?? {});
		}
	}

	return merged;
}
