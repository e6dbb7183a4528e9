import path from 'node:path';
import {z} from 'zod';
import {ConfigError, formatPlace, originOf, type ConfigIssue, type ConfigPlace} from './config-error.js';
import {nameEntry, placeFields, type PlacedField} from './field-origins.js';
import {renameFormerOptions} from './former-names.js';
import {readCheckedForm} from './checked-form.js';
import {functionName, objectPattern, singleLine, word} from './fields.js';
import {actSchema} from './act-schema.js';
import {nearRuleKind, ruleKinds, type RuleKind} from './rule-kinds.js';
import type {ConfigOptions, NormalizedConfig, NormalizedRule, PdiConfig} from './types.js';
import type {AllTrue, ReadonlyListsIn, Same} from './same-type.js';
export {defaultOptions, isNormalizedConfig} from './built.js';
import {
	brokenLimits,
	optionGroups,
	optionMessages,
	optionNames,
	optionTable,
	optionValue,
	withResolvedPaths,
	type OptionName,
	type OptionSpec,
} from './options.js';
import {isRecord} from '../is-record.js';
import {nearName, nearNameHint} from '../near-name.js';

export type {OptionName} from './options.js';

type Spec<K extends OptionSpec['kind']> = Extract<OptionSpec, {kind: K}>;

function integer(spec: Spec<'integer'>) {
	// One message per value, the bound it passes: a number past 2^53 or past ±Infinity (1e400) fails the integer check
	// itself, which said "≥ 1" of 1e20 and then "≤ max" too.
	const error = ({input}: {input?: unknown}) => typeof input === 'number' && input > spec.max ? optionMessages.integerMax(spec.max) : optionMessages.integerMin(spec.min);
	return z.int({error, abort: true}).min(spec.min, {error}).max(spec.max, {error}).default(spec.default).describe(spec.description);
}

function boolean(spec: Spec<'boolean'>) {
	return z.boolean({error: optionMessages.boolean}).default(spec.default).describe(spec.description);
}

function choice<const T extends readonly [string, ...string[]]>(spec: {choices: T; default: T[number]; description: string}) {
	return z.enum(spec.choices, {error: optionMessages.choice(spec.choices)}).default(spec.default).describe(spec.description);
}

/** What a message says a value should be, from the table's `expected ...` message. */
function expected(message: string): string {
	return message.replace(/^expected /, '');
}

function file(spec: Spec<'file'>) {
	return singleLine(expected(optionMessages.file)).default(spec.default).describe(spec.description);
}

function directories(spec: Spec<'directories'>) {
	return z.array(singleLine(expected(optionMessages.directory)), {error: optionMessages.directories}).default([]).describe(spec.description);
}

/** The zod type of the option `S` of the table. */
type OptionSchema<S>
	= S extends {kind: 'integer'} ? ReturnType<typeof integer>
		: S extends {kind: 'boolean'} ? ReturnType<typeof boolean>
		: S extends {kind: 'choice'; choices: infer T extends readonly [string, ...string[]]} ? ReturnType<typeof choice<T>>
		: S extends {kind: 'file'} ? ReturnType<typeof file>
		: ReturnType<typeof directories>;

function optionSchema<S extends OptionSpec>(spec: S): OptionSchema<S> {
	switch (spec.kind) {
		case 'integer': {
			return integer(spec) as OptionSchema<S>;
		}

		case 'boolean': {
			return boolean(spec) as OptionSchema<S>;
		}

		case 'choice': {
			return choice(spec) as OptionSchema<S>;
		}

		case 'file': {
			return file(spec) as OptionSchema<S>;
		}

		case 'directories': {
			return directories(spec) as OptionSchema<S>;
		}
	}
}

type Table = typeof optionTable;
type Group = keyof typeof optionGroups;
type TopLevelShape = {[N in OptionName as N extends `${string}.${string}` ? never : N]: OptionSchema<Table[N]>};
type GroupShape<G extends Group> = {[N in OptionName as N extends `${G}.${infer K}` ? K : never]: OptionSchema<Table[N]>};

/** The zod types of the options named `${prefix}NAME`, by NAME (the top-level ones for ''). */
function shapeOf(prefix: string): Record<string, z.ZodType> {
	return Object.fromEntries(optionNames
		.filter(name => prefix === '' ? !name.includes('.') : name.startsWith(prefix))
		.map(name => [name.slice(prefix.length), optionSchema(optionTable[name])]));
}

const optionsSchema = z.strictObject({
	...shapeOf('') as TopLevelShape,
	log: z.strictObject(shapeOf('log.') as GroupShape<'log'>).describe(optionGroups.log).prefault({}),
}).describe('Options of the core; every one is optional.');

// pdi.act is the name the core gives the bundled backend of act rules (the core's reader refuses it too).
const backendName = word('a backend name (letters, digits, `_`, `.`, `+`, `-`)', /^[\w.+-]+$/)
	.refine(name => name !== 'pdi.act', {error: '\'pdi.act\' is the name of pdi\'s own backend of act rules: give yours another', params: {labelled: true}});
const symbolSpelling = /^[^\s@]+$/;
const symbolName = word('a symbol name', symbolSpelling);
const backendReference = singleLine('a backend name');
// The text dialect reads these as no handler, pDI-Tools' spelling: a handler of that name would be compiled into none.
const noHandlerSpellings = new Set(['-', 'NULL']);
const isHandlerName = (name: string) => symbolSpelling.test(name) && !noHandlerSpellings.has(name);
const handlerName = symbolName.refine(name => !noHandlerSpellings.has(name), {
	error: issue => `'${String(issue.input)}' is the text dialect's spelling of no handler (as pDI-Tools wrote it): leave handler out for none`,
	params: {labelled: true},
});

const backendSchema = z.strictObject({
	name: backendName.describe('The name rules use to refer to the backend.'),
	library: singleLine('a library').describe('A bundled backend name (`noop`, `count`…), a file name searched on the bundled directory and then `backendPath`, or a path (a relative path is resolved against the directory of the config file).'),
}).describe('A backend: a shared object that defines wrappers and callback hooks.');

const relinkSchema = z.strictObject({
	object: objectPattern.describe('The objects whose calls are redirected: `$main`, a soname, a path or a glob; `*` for every object.'),
	function: functionName.describe('The function called: `name`, `name@VERSION` or `name@@VERSION`.'),
	backend: backendReference.describe('The backend that defines the wrapper (with `allowUndeclaredWrappers`, also an object pattern).'),
	wrapper: symbolName.describe('The backend\'s function the calls go to.'),
}).describe('Calls from the matching objects to `function` go to `wrapper`.');

const redefineSchema = z.strictObject({
	object: objectPattern.optional().describe('The objects whose calls are redirected (default `*`).'),
	function: functionName.describe('The function redefined: `name`, `name@VERSION` or `name@@VERSION`.'),
	backend: backendReference.describe('The backend that defines the wrapper (with `allowUndeclaredWrappers`, also an object pattern).'),
	wrapper: symbolName.describe('The backend\'s function that replaces the definition.'),
}).describe('`function`\'s definition is replaced process-wide.');

const callbackSchema = z.strictObject({
	object: objectPattern.describe('The objects whose imports go through the backend\'s hooks.'),
	backend: backendReference.describe('The backend whose pre/post hooks are called.'),
	handler: handlerName.optional().describe('The backend\'s own generic handler (needs `cbAllowHandler`).'),
}).describe('Every import of the object goes through the backend\'s pre/post hooks.');

import {handlerNeedsOption} from './whole-checks.js';

export {handlerNeedsOption, isTextDialectFile, limitMessage} from './whole-checks.js';

export {ruleKinds, type RuleKind} from './rule-kinds.js';

const ruleSchema = z.union([
	z.strictObject({relink: relinkSchema}),
	z.strictObject({redefine: redefineSchema}),
	z.strictObject({callback: callbackSchema}),
	z.strictObject({act: actSchema}),
]).describe('A rule: exactly one of `relink`, `redefine`, `callback`, `act`.');

function ruleBody(rule: z.output<typeof ruleSchema>): {kind: RuleKind; handler?: string | undefined} {
	if ('act' in rule) {
		return {kind: 'act'};
	}

	if ('relink' in rule) {
		return {kind: 'relink', ...rule.relink};
	}

	if ('redefine' in rule) {
		return {kind: 'redefine', ...rule.redefine};
	}

	return {kind: 'callback', ...rule.callback};
}

/**
 * The zod schema of the JSON/YAML spelling of a config, the source of truth for its keys, types,
 * defaults and ranges (the text dialect is checked against it too, and `schema.json` is generated
 * from it). Objects are strict: unknown keys are errors.
 */
export const configSchema = z.strictObject({
	$schema: z.string().optional().describe('The JSON Schema the file follows (for editors).'),
	options: optionsSchema.prefault({}),
	backends: z.array(backendSchema, {error: 'expected a list of backends'}).default([]).describe('The backends the rules use.'),
	rules: z.array(ruleSchema, {error: 'expected a list of rules'}).default([]).describe('The rules, installed in order.'),
}).superRefine((config, context) => {
	const {options} = config;
	// Left to wholeConfigIssues(), which verifyConfig() runs with the backend and wrapper checks.
	if (readingDeferred) {
		return;
	}

	for (const {option, atMost, limit} of brokenLimits(options)) {
		context.addIssue({code: 'custom', path: ['options', ...option.split('.')], message: optionMessages.integerAtMost(atMost, limit)});
	}

	for (const [index, rule] of config.rules.entries()) {
		const body = ruleBody(rule);
		// A rule's backend may come from another file of the same `pdi run`
		// (files merge in order); verifyConfig() checks it after merging. So may
		// cbAllowHandler: mergeConfigs() checks handlers then.
		if (body.handler !== undefined && isHandlerName(body.handler) && !options.cbAllowHandler && !readingForMerge) {
			context.addIssue({code: 'custom', path: ['rules', index, body.kind, 'handler'], message: handlerNeedsOption(body.handler), params: {standalone: true}});
		}
	}
}).describe('A pdi config: options, backends and rules.');

/**
 * The backends with a name declared again with the same library counted once, as the text dialect and merged
 * files count it; the same name with another library is a {@link ConfigError} at the second name that names the first
 * (before, any second declaration was 'declared twice', with no word of where the first was).
 */
function declaredOnce(backends: NormalizedConfig['backends'], nameOrigin: (index: number) => ConfigPlace | undefined): NormalizedConfig['backends'] {
	const first = new Map<string, NormalizedConfig['backends'][number]>();
	return backends.filter((backend, index) => {
		const earlier = first.get(backend.name);
		if (earlier === undefined) {
			first.set(backend.name, backend);
			return true;
		}

		if (earlier.library !== backend.library) {
			const at = nameOrigin(index) ?? backend.origin;
			const place = earlier.origin ? formatPlace({file: earlier.origin.file, line: earlier.origin.line}) : `backends[${backends.indexOf(earlier)}]`;
			// A config given in memory has no places: its entries are named instead.
			throw new ConfigError(`${at ? '' : `backends[${index}].name: `}backend '${backend.name}' is already declared at ${place} with library '${earlier.library}'`, at ?? {});
		}

		return false;
	});
}

/** Set while {@link checkConfig} reads a config that will be merged with others (the parse is synchronous). */
let readingForMerge = false;
/** Set while {@link checkConfig} reads a config whose checks of the whole are left to its caller (`deferred`). */
let readingDeferred = false;

/** A config as {@link configSchema} parses it: defaults filled, nothing resolved yet. */
export type ParsedConfig = z.output<typeof configSchema>;

export {defineConfig} from './types.js';
export type {
	ConfigOptions,
	ConfigWarning,
	NormalizedBackend,
	NormalizedConfig,
	NormalizedRule,
	PdiConfig,
	PdiConfigInput,
	ReadonlyLists,
} from './types.js';

/** The plain types of types.ts are what the schema accepts and gives (a type error here when they are not). */
export type ConfigTypesAgree = AllTrue<[
	// A PdiConfig's rules may hold readonly lists (an ActRule written as const): equal but for that.
	Same<ReadonlyListsIn<PdiConfig>, ReadonlyListsIn<z.input<typeof configSchema>>>,
	z.input<typeof configSchema> extends PdiConfig ? true : false,
	Same<ConfigOptions, z.output<typeof optionsSchema>>,
]>;

/**
 * Makes a backend library absolute when it is a relative path (it has a `/`); bundled names
 * (`noop`) and file names (`my-backend.so`), which the core searches, stay as written.
 */
export function resolveLibrary(library: string, directory: string): string {
	return library.includes('/') ? path.resolve(directory, library) : library;
}

/**
 * A relative path as an object pattern (`./prog`, `lib/libx.so`, `./lib*.so`) starts at `directory`, as every relative
 * path of a config does (was: at the program's current directory); a glob of a name in any directory (`*\/libx.so`),
 * `$main` and a plain name are no paths. The core's reader does the same for the text dialect.
 */
export function resolveObjectPattern(pattern: string, directory: string): string {
	return pattern.includes('/') && !'/*?[$'.includes(pattern[0]!) ? path.resolve(directory, pattern) : pattern;
}

/** Where the values of a config came from, so that issues can name their place. */
export type ConfigSource = {
	/** The file, for messages; undefined for an in-memory config. */
	file: string | undefined;
	/** The directory relative paths are resolved against. */
	directory: string;
	/** The place of the value at `path` (of its key, with `key`), or of its nearest ancestor that exists. */
	locate(path: readonly PropertyKey[], key?: boolean): ConfigPlace;
	/** How a message names the value at `path` (`options.maxThreads`, `max_threads`). */
	label(path: readonly PropertyKey[]): string;
	/** How a message shows a wrong value (the one at `path`, which a file shows as written). */
	show(value: unknown, path?: readonly PropertyKey[]): string;
};

/** `rules[0].relink.object`, the way JavaScript spells a path. */
export function jsonLabel(path: readonly PropertyKey[]): string {
	let label = '';
	for (const segment of path) {
		label += typeof segment === 'number' ? `[${segment}]` : `${label ? '.' : ''}${String(segment)}`;
	}

	return label;
}

const numberMark = '\u{F8FF}';

/** How JSON and YAML issues show a wrong value: as JSON, shortened. */
export function jsonShow(value: unknown): string {
	// Numbers JSON.stringify would write as null (YAML's .inf and .nan, a JSON number past the largest
	// double such as 1e400) are shown as what they are, Infinity, -Infinity, NaN, also inside a value.
	// A BigInt (which JSON.stringify refuses with a TypeError) is shown as JavaScript writes it, 5n.
	const text = (JSON.stringify(value, (_key, item: unknown) => (typeof item === 'number' && !Number.isFinite(item)) || typeof item === 'bigint' ? `${numberMark}${item}${typeof item === 'bigint' ? 'n' : ''}${numberMark}` : item) ?? String(value))
		.replaceAll(new RegExp(`"${numberMark}(.*?)${numberMark}"`, 'g'), '$1');
	return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

type ZodIssue = z.core.$ZodIssue;

const typeNames: Record<string, string> = {object: 'a mapping', array: 'a list', string: 'a string', number: 'a number', boolean: 'a boolean'};

/** zod's message for the issues the schema does not word itself (`expected a mapping`). */
function defaultMessage(issue: z.core.$ZodRawIssue): string | undefined {
	return issue.code === 'invalid_type' ? `expected ${typeNames[issue.expected] ?? issue.expected}` : undefined;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
	let value = input;
	for (const segment of path) {
		if (typeof value !== 'object' || value === null) {
			return undefined;
		}

		value = (value as Record<PropertyKey, unknown>)[segment];
	}

	return value;
}

/**
 * Moves each unknown-key issue before the missing-key issues of the same object: `libary: x`
 * is better reported as an unknown key than as a missing `library`.
 */
function unknownKeysFirst(issues: readonly ZodIssue[], input: unknown, prefix: readonly PropertyKey[]): ZodIssue[] {
	const ordered = [...issues];
	const key = (path: readonly PropertyKey[]) => path.map(String).join('\0');
	for (const issue of issues) {
		if (issue.code !== 'unrecognized_keys') {
			continue;
		}

		const first = ordered.findIndex(other => other.code === 'invalid_type' && other.path.length > 0
			&& key(other.path.slice(0, -1)) === key(issue.path) && valueAt(input, [...prefix, ...other.path]) === undefined);
		if (first !== -1 && first < ordered.indexOf(issue)) {
			ordered.splice(ordered.indexOf(issue), 1);
			ordered.splice(first, 0, issue);
		}
	}

	return ordered;
}

let jsonSchema: unknown;

/** The keys the config schema allows in the object at `path` (every branch of a union). */
function keysAt(path: readonly PropertyKey[]): string[] {
	// The keys are those of configJsonSchema() (json-schema.ts, which imports this module), whose patterns differ.
	jsonSchema ??= z.toJSONSchema(configSchema, {io: 'input', target: 'draft-7'});
	let nodes: unknown[] = [jsonSchema];
	const branches = (node: unknown): Array<Record<string, unknown>> => {
		if (!isRecord(node)) {
			return [];
		}

		const alternatives = [node['anyOf'], node['oneOf'], node['allOf']].filter(Array.isArray).flat() as unknown[];
		return [node, ...alternatives.flatMap(branches)];
	};

	for (const segment of path) {
		nodes = nodes.flatMap(branches).flatMap(node => {
			if (typeof segment === 'number') {
				return [node['items']];
			}

			return isRecord(node['properties']) && typeof segment === 'string' ? [node['properties'][segment]] : [];
		}).filter(node => node !== undefined);
	}

	return [...new Set(nodes.flatMap(branches).flatMap(node => isRecord(node['properties']) ? Object.keys(node['properties']) : []))];
}

/**
 * ` (did you mean 'protectBackends'?)` for an option of `options` written with its text-dialect key
 * (`donttouch_backends`, `be_path`), whose words need not be those of its JSON/YAML name.
 */
function textKeyHint(key: string, path: readonly PropertyKey[]): string | undefined {
	const words = (text: string) => text.toLowerCase().replaceAll(/[_-]/g, '');
	if (path.length === 0) {
		// An option at the top (`onError: warn` beside `rules`): was only `unknown key 'onError'`.
		const option = optionNames.find(name => !name.includes('.') && (words(name) === words(key) || words(optionTable[name].key) === words(key)));
		return option === undefined ? undefined : ` (an option: it belongs in options, as options.${option})`;
	}

	const name = path.length === 1 && path[0] === 'options' ? optionNames.find(option => !option.includes('.') && words(optionTable[option].key) === words(key)) : undefined;
	return name === undefined || name === key ? undefined : ` (did you mean '${name}'?)`;
}

/**
 * The rule kind of rule `path` (`rules[N]`) whose body lacks `key`, one of that kind's keys: a key written beside the
 * kind instead of inside it (a YAML key indented as far as `relink`, not as its fields).
 */
function ruleKindMissing(path: readonly PropertyKey[], key: string, rule: unknown): string | undefined {
	if (path.length !== 2 || path[0] !== 'rules' || !isRecord(rule)) {
		return undefined;
	}

	const kinds = ruleKinds.filter(kind => kind in rule);
	const [kind] = kinds;
	const body = kind === undefined ? undefined : rule[kind];
	return kinds.length === 1 && kind !== undefined && isRecord(body) && !(key in body) && keysAt([...path, kind]).includes(key) ? kind : undefined;
}

/**
 * Turns zod's issues into {@link ConfigIssue}s with places: an unknown key at the key, a missing
 * key at the object that lacks it, a rule that fails the union through the branch its key names.
 */
function configIssues(issues: readonly ZodIssue[], input: unknown, source: ConfigSource, prefix: readonly PropertyKey[] = []): ConfigIssue[] {
	const result: ConfigIssue[] = [];
	const add = (message: string, place: ConfigPlace) => {
		result.push({message, file: place.file ?? source.file, line: place.line, column: place.column});
	};

	// A key a misspelt one suggests (`fucntion` for `function`) is not said to be missing as well.
	const suggested = new Set<string>();
	const keyAt = (parent: readonly PropertyKey[], key: string) => JSON.stringify([...parent.map(String), key]);
	// Nor is a key written beside its rule kind (the one mistake is where it stands).
	for (const issue of issues) {
		const path = [...prefix, ...issue.path];
		for (const key of issue.code === 'unrecognized_keys' ? issue.keys : []) {
			const kind = ruleKindMissing(path, key, valueAt(input, path));
			if (kind !== undefined) {
				suggested.add(keyAt([...path, kind], key));
			}
		}
	}

	for (const issue of unknownKeysFirst(issues, input, prefix)) {
		const path = [...prefix, ...issue.path];
		const value = valueAt(input, path);
		if (issue.code === 'invalid_union' && path.length === 2 && path[0] === 'rules') {
			const keys = isRecord(value) ? ruleKinds.filter(kind => kind in value) : [];
			const branch = keys.length === 1 && keys[0] ? issue.errors[ruleKinds.indexOf(keys[0])] : undefined;
			const unknownKinds = isRecord(value) && keys.length === 0 ? Object.keys(value) : [];
			if (branch) {
				result.push(...configIssues(branch, input, source, path));
			} else if (unknownKinds.length === 1) {
				// One key, no rule kind: most often a misspelt one (`actt`), said at the key.
				const [kind] = unknownKinds as [string];
				const near = nearRuleKind(kind);
				add(`${source.label(path)}: unknown rule kind '${kind}'${near === undefined ? '' : ` (did you mean '${near}'?)`}; a rule is one of ${ruleKinds.join(', ')}`, source.locate([...path, kind], true));
			} else {
				add(`${source.label(path)}: expected a rule with exactly one of ${ruleKinds.join(', ')}`, source.locate(path));
			}
		} else if (issue.code === 'unrecognized_keys') {
			for (const key of issue.keys) {
				const kind = ruleKindMissing(path, key, value);
				if (kind !== undefined) {
					add(`'${key}' stands beside '${kind}' in ${source.label(path)}, where it is an unknown key: it belongs inside ${source.label([...path, kind])}, with ${kind}'s other keys`, source.locate([...path, key], true));
					continue;
				}

				const near = nearName(key, keysAt(path));
				if (near !== undefined) {
					suggested.add(keyAt(path, near));
				}

				const hint = textKeyHint(key, path) ?? nearNameHint(key, keysAt(path));
				add(`${path.length > 0 ? `unknown key '${key}' in ${source.label(path)}` : `unknown key '${key}'`}${hint}`, source.locate([...path, key], true));
			}
		} else if (issue.code === 'invalid_type' && value === undefined) {
			const parent = path.slice(0, -1);
			const key = String(path.at(-1));
			if (suggested.has(keyAt(parent, key))) {
				continue;
			}

			add(parent.length > 0 ? `missing key '${key}' in ${source.label(parent)}` : `missing key '${key}'`, source.locate(parent));
		} else if (issue.code === 'custom' && issue.params?.['standalone'] === true) {
			// Its place names the key; a config in memory has none, so the message names the path.
			const place = source.locate(path);
			add(place.line === undefined ? `${source.label(path)}: ${issue.message}` : issue.message, place);
		} else if (issue.code === 'custom' && issue.params?.['labelled'] === true) {
			// The message quotes the value itself.
			add(`${source.label(path)}: ${issue.message}`, source.locate(path));
		} else {
			const label = path.length > 0 ? `${source.label(path)}: ` : '';
			const bigint = typeof value === 'bigint' ? ' (a BigInt: give a number)' : '';
			add(`${label}${issue.message}${value === undefined ? '' : `, got ${source.show(value, path)}${bigint}`}`, source.locate(path));
		}
	}

	return result;
}

/** The names of the options `input` sets itself. */
function optionsSet(input: unknown): OptionName[] {
	const options = isRecord(input) ? input['options'] : undefined;
	if (!isRecord(options)) {
		return [];
	}

	return optionNames.filter(name => optionValue(options, name) !== undefined);
}

/**
 * Checks `input` against {@link configSchema} and normalizes it: defaults filled, relative
 * paths (`library`, `backendPath`, `log.file`) resolved against `source.directory`, object
 * patterns of rules resolved, places attached; options given by their former names are renamed,
 * each with a warning. Throws a {@link ConfigError} listing every issue, the first one in its message. With `deferred`,
 * an option over its limit and a handler without cbAllowHandler are left to the caller (`wholeConfigIssues()`).
 */
export function checkConfig(written: unknown, writtenSource: ConfigSource, {merging = false, deferred = false}: {merging?: boolean; deferred?: boolean} = {}): NormalizedConfig {
	const checked = readCheckedForm(written, writtenSource);
	const renamed = renameFormerOptions(checked.input, checked.source);
	const {input, source} = renamed;
	const warnings = [...checked.warnings, ...renamed.warnings];
	const parse = (deferring: boolean) => {
		readingForMerge = merging;
		readingDeferred = deferring;
		try {
			return configSchema.safeParse(input ?? {}, {reportInput: true, error: defaultMessage});
		} finally {
			readingForMerge = false;
			readingDeferred = false;
		}
	};

	const parsed = parse(deferred);
	if (!parsed.success) {
		// No config for the caller to check: the limits and handlers come with the other issues, as without `deferred`.
		const strict = deferred ? parse(false) : parsed;
		throw ConfigError.fromIssues(configIssues((strict.success ? parsed : strict).error.issues, input ?? {}, source));
	}

	const config = parsed.data;
	const optionOrigins: NormalizedConfig['optionOrigins'] = {};
	for (const name of optionsSet(input)) {
		optionOrigins[name] = originOf(source.locate(['options', ...name.split('.')]));
	}

	return {
		normalized: true,
		options: withResolvedPaths(config.options, file => path.resolve(source.directory, file)),
		backends: declaredOnce(config.backends.map((backend, index) => nameEntry(placeFields({
			name: backend.name,
			library: resolveLibrary(backend.library, source.directory),
			origin: originOf(source.locate(['backends', index])),
		}, ['library'], field => originOf(source.locate(['backends', index, field]))), `backends[${index}]`)), index => originOf(source.locate(['backends', index, 'name']))),
		rules: config.rules.map((rule, index): NormalizedRule => {
			const origin = originOf(source.locate(['rules', index]));
			const kind = Object.keys(rule)[0]!;
			// Only the fields written: the place of one left out would be its rule's.
			const body = (rule as Record<string, Record<string, unknown>>)[kind]!;
			const written = Object.keys(body).flatMap(field => field === 'when' || field === 'do' ? Object.keys(body[field] as object).map(inner => `${field}.${inner}`) : [field]) as PlacedField[];
			const place = <T extends NormalizedRule>(normalized: T) => nameEntry(placeFields(normalized, written, field => originOf(source.locate(['rules', index, kind, ...field.split('.')]))), `rules[${index}]`);
			// A backend field holding a path is an object's (allowUndeclaredWrappers): no backend name has a '/'.
			const object = (pattern: string) => resolveObjectPattern(pattern, source.directory);
			if ('relink' in rule) {
				return place({kind: 'relink', ...rule.relink, object: object(rule.relink.object), backend: object(rule.relink.backend), origin});
			}

			if ('redefine' in rule) {
				return place({kind: 'redefine', ...rule.redefine, object: object(rule.redefine.object ?? '*'), backend: object(rule.redefine.backend), origin});
			}

			if ('callback' in rule) {
				return place({kind: 'callback', ...rule.callback, object: object(rule.callback.object), backend: object(rule.callback.backend), handler: rule.callback.handler, origin});
			}

			return place({kind: 'act', object: object(rule.act.object ?? '*'), function: rule.act.function, when: rule.act.when ?? {}, do: rule.act.do, origin});
		}),
		warnings,
		optionOrigins,
	};
}
