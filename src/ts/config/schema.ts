import path from 'node:path';
import {z} from 'zod';
import type {Origin} from './config-error.js';

function integer(min: number, description: string, fallback: number) {
	const error = `expected an integer ≥ ${min}`;
	return z.int({error}).min(min, {error}).default(fallback).describe(description);
}

function boolean(description: string, fallback: boolean) {
	return z.boolean({error: 'expected a boolean'}).default(fallback).describe(description);
}

function singleLine(what: string) {
	const error = `expected ${what}`;
	return z.string({error}).min(1, {error}).regex(/^[^\n\r]*$/, {error: `expected ${what} on one line`});
}

function word(what: string, pattern: RegExp) {
	const error = `expected ${what}`;
	return z.string({error}).regex(pattern, {error});
}

const logSchema = z.strictObject({
	level: z.enum(['error', 'warning', 'info', 'debug'], {error: 'expected error, warning, info or debug'})
		.default('warning')
		.describe('What the core logs.'),
	file: singleLine('a file name or stderr')
		.default('stderr')
		.describe('Where the core logs: a file, or `stderr` (the `PDI_LOG` environment variable overrides it).'),
}).describe('The core\'s log.');

const optionsSchema = z.strictObject({
	maxThreads: integer(1, 'Threads that callbacks can instrument at once.', 256),
	numThreads: integer(0, 'Thread slots prepared before `main` (at most `maxThreads`).', 0),
	cbStackSize: integer(256, 'Bytes of callback stack per thread.', 1024),
	cbMaxStubs: integer(1, 'Callback stubs in the pool.', 4096),
	cbAllowHandler: boolean('Allow callback rules to name their own handler.', false),
	donttouchBackends: boolean('Never patch the backends\' own slots (so wrappers reach the originals by name).', true),
	donttouchPdi: boolean('Never patch pdi\'s own slots.', true),
	allowLibAsBe: boolean('Allow a rule\'s wrapper to come from an object that is not a declared backend.', false),
	maxObjects: integer(1, 'Loaded objects pdi tracks.', 1024),
	backendPath: z.array(singleLine('a directory'), {error: 'expected a list of directories'})
		.default([])
		.describe('Where backends given by file name are searched, after the bundled directory. Relative entries are resolved against the directory of the config file.'),
	onError: z.enum(['fail', 'warn'], {error: 'expected fail or warn'})
		.default('fail')
		.describe('An install-time error ends the program with status 2 before `main` (`fail`), or is logged and the rule skipped (`warn`).'),
	log: logSchema.prefault({}),
}).describe('Options of the core; every one is optional.');

const backendName = word('a backend name (letters, digits, `_`, `.`, `+`, `-`)', /^[\w.+-]+$/);
const objectPattern = singleLine('an object pattern ($main, a soname, a path or a glob)');
const functionName = word('a function name (`name`, `name@VERSION` or `name@@VERSION`)', /^[^\s@]+(?:@@?[^\s@]+)?$/);
const symbolName = word('a symbol name', /^[^\s@]+$/);
const backendReference = singleLine('a backend name');

const backendSchema = z.strictObject({
	name: backendName.describe('The name rules use to refer to the backend.'),
	library: singleLine('a library').describe('A bundled backend name (`noop`, `count`…), a file name searched on the bundled directory and then `backendPath`, or a path (a relative path is resolved against the directory of the config file).'),
}).describe('A backend: a shared object that defines wrappers and callback hooks.');

const relinkSchema = z.strictObject({
	object: objectPattern.describe('The objects whose calls are redirected: `$main`, a soname, a path or a glob; `*` for every object.'),
	function: functionName.describe('The function called: `name`, `name@VERSION` or `name@@VERSION`.'),
	backend: backendReference.describe('The backend that defines the wrapper.'),
	wrapper: symbolName.describe('The backend\'s function the calls go to.'),
}).describe('Calls from the matching objects to `function` go to `wrapper`.');

const redefineSchema = z.strictObject({
	object: objectPattern.optional().describe('The objects whose calls are redirected (default `*`).'),
	function: functionName.describe('The function redefined: `name`, `name@VERSION` or `name@@VERSION`.'),
	backend: backendReference.describe('The backend that defines the wrapper.'),
	wrapper: symbolName.describe('The backend\'s function that replaces the definition.'),
}).describe('`function`\'s definition is replaced process-wide.');

const callbackSchema = z.strictObject({
	object: objectPattern.describe('The objects whose imports go through the backend\'s hooks.'),
	backend: backendReference.describe('The backend whose pre/post hooks are called.'),
	handler: symbolName.optional().describe('The backend\'s own generic handler (needs `cbAllowHandler`).'),
}).describe('Every import of the object goes through the backend\'s pre/post hooks.');

/** The three kinds of rule, in the order the schema's union lists them. */
export const ruleKinds = ['relink', 'redefine', 'callback'] as const;

/** The kind of a rule. */
export type RuleKind = typeof ruleKinds[number];

const ruleSchema = z.union([
	z.strictObject({relink: relinkSchema}),
	z.strictObject({redefine: redefineSchema}),
	z.strictObject({callback: callbackSchema}),
]).describe('A rule: exactly one of `relink`, `redefine`, `callback`.');

function ruleBody(rule: z.output<typeof ruleSchema>): {kind: RuleKind; backend: string; handler?: string | undefined} {
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
	if (options.numThreads > options.maxThreads) {
		context.addIssue({code: 'custom', path: ['options', 'numThreads'], input: options.numThreads, message: `expected an integer ≤ maxThreads (${options.maxThreads})`});
	}

	const names = new Set<string>();
	for (const [index, backend] of config.backends.entries()) {
		if (names.has(backend.name)) {
			context.addIssue({code: 'custom', path: ['backends', index, 'name'], message: `backend '${backend.name}' is declared twice`});
		}

		names.add(backend.name);
	}

	for (const [index, rule] of config.rules.entries()) {
		const body = ruleBody(rule);
		if (!names.has(body.backend) && !options.allowLibAsBe) {
			context.addIssue({code: 'custom', path: ['rules', index, body.kind, 'backend'], message: `unknown backend '${body.backend}'`});
		}

		if (body.handler !== undefined && !options.cbAllowHandler) {
			context.addIssue({code: 'custom', path: ['rules', index, body.kind, 'handler'], message: 'a callback handler needs options.cbAllowHandler: true'});
		}
	}
}).describe('A pdi config: options, backends and rules.');

/** A config as users write it (JSON, YAML, or a TypeScript object given to {@link defineConfig}). */
export type PdiConfig = z.input<typeof configSchema>;

/** A config as {@link configSchema} parses it: defaults filled, nothing resolved yet. */
export type ParsedConfig = z.output<typeof configSchema>;

/** Every option, defaults filled (`backendPath` entries absolute). */
export type ConfigOptions = z.output<typeof optionsSchema>;

/** The name of an option, with `log.level` and `log.file` for the nested ones. */
export type OptionName = Exclude<keyof ConfigOptions, 'log'> | 'log.level' | 'log.file';

/** How the text dialect spells each option, and what kind of value it takes. */
export const optionTextKeys: Readonly<Record<OptionName, {key: string; kind: 'integer' | 'boolean' | 'string' | 'list'}>> = {
	maxThreads: {key: 'max_threads', kind: 'integer'},
	numThreads: {key: 'num_threads', kind: 'integer'},
	cbStackSize: {key: 'cb_stack_size', kind: 'integer'},
	cbMaxStubs: {key: 'cb_max_stubs', kind: 'integer'},
	cbAllowHandler: {key: 'cb_allow_handler', kind: 'boolean'},
	donttouchBackends: {key: 'donttouch_backends', kind: 'boolean'},
	donttouchPdi: {key: 'donttouch_pdi', kind: 'boolean'},
	allowLibAsBe: {key: 'allow_lib_as_be', kind: 'boolean'},
	maxObjects: {key: 'max_objects', kind: 'integer'},
	backendPath: {key: 'be_path', kind: 'list'},
	onError: {key: 'on_error', kind: 'string'},
	'log.level': {key: 'log_level', kind: 'string'},
	'log.file': {key: 'log_file', kind: 'string'},
};

/** The zod schema of one option's value (used by the text dialect to check `key = value` lines). */
export function optionSchema(name: OptionName): z.ZodType {
	if (name === 'log.level' || name === 'log.file') {
		return logSchema.shape[name === 'log.level' ? 'level' : 'file'];
	}

	return optionsSchema.shape[name];
}

/** The default of every option. */
export function defaultOptions(): ConfigOptions {
	return optionsSchema.parse({});
}

/** A backend of a {@link NormalizedConfig}. */
export type NormalizedBackend = {
	name: string;
	/** A bundled name or a file name (searched at run time), or an absolute path. */
	library: string;
	/** Where the backend was declared, when it came from a file. */
	origin: Origin | undefined;
};

/** A rule of a {@link NormalizedConfig}; `object` is always a pattern (aliases resolved, `*` for a redefine without one). */
export type NormalizedRule =
	| {kind: 'relink'; object: string; function: string; backend: string; wrapper: string; origin: Origin | undefined}
	| {kind: 'redefine'; object: string; function: string; backend: string; wrapper: string; origin: Origin | undefined}
	| {kind: 'callback'; object: string; backend: string; handler: string | undefined; origin: Origin | undefined};

/** A `Warning` line of the text dialect. */
export type ConfigWarning = {message: string; origin: Origin | undefined};

/**
 * A checked config in one shape whatever its spelling: every option present (defaults filled),
 * relative paths made absolute against the directory of the file that names them, rules with
 * their object patterns resolved, and each backend and rule carrying the place it came from.
 */
export type NormalizedConfig = {
	options: ConfigOptions;
	backends: NormalizedBackend[];
	rules: NormalizedRule[];
	/** The text dialect's `Warning` lines that were run, in order. */
	warnings: ConfigWarning[];
	/**
	 * The options the config sets itself, and where (`undefined` for an in-memory config). Options
	 * missing here have their defaults; {@link mergeConfigs} lets a later config override only these.
	 */
	optionOrigins: Partial<Record<OptionName, Origin | undefined>>;
};

/**
 * Returns its argument: gives a config written in TypeScript its type (and editor completion).
 *
 * ```ts
 * export default defineConfig({
 * 	backends: [{name: 'fix', library: './build/fix.so'}],
 * 	rules: [{relink: {object: '$main', function: 'fix_add', backend: 'fix', wrapper: 'wrap_fix_add'}}],
 * });
 * ```
 */
export function defineConfig(config: PdiConfig): PdiConfig {
	return config;
}

/**
 * Makes a backend library absolute when it is a relative path (it has a `/`); bundled names
 * (`noop`) and file names (`my-backend.so`), which the core searches, stay as written.
 */
export function resolveLibrary(library: string, directory: string): string {
	return library.includes('/') ? path.resolve(directory, library) : library;
}
