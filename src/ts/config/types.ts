import type {Origin} from './config-error.js';
import type {OptionName} from './options.js';
import type {ActDo, ActRule, ActWhen} from './act-types.js';

/*
 * The config types the package's declarations name, written out as plain TypeScript so that they do not reach
 * zod's own declarations (a consumer with `skipLibCheck: false` would have the compiler check those under its own
 * settings: with `module: commonjs` and no `esModuleInterop`, dozens of errors in zod's files). schema.ts checks at
 * compile time that they are what its zod schema accepts and gives. This module loads no schema: built.ts and the
 * CLI's start-up paths import it.
 */

/** The log level of the core. */
type LogLevel = 'error' | 'warning' | 'info' | 'debug';

/** A backend as written: a shared object that defines wrappers and callback hooks. */
type BackendInput = {
	/** The name rules use to refer to the backend. */
	name: string;
	/** A bundled backend name (`noop`, `count`…), a file name searched on the bundled directory and then `backendPath`, or a path. */
	library: string;
};

/** A rule as written: exactly one of `relink`, `redefine`, `callback`, `act`. */
type RuleInput =
	| {relink: {object: string; function: string; backend: string; wrapper: string}}
	| {redefine: {object?: string | undefined; function: string; backend: string; wrapper: string}}
	| {callback: {object: string; backend: string; handler?: string | undefined}}
	| ActRule;

/** A config as users write it (JSON, YAML, or a TypeScript object given to {@link defineConfig}). */
export type PdiConfig = {
	/** The JSON Schema the file follows (for editors). */
	$schema?: string | undefined;
	/** Options of the core; every one is optional (docs/config.md). */
	options?: {
		maxThreads?: number | undefined;
		numThreads?: number | undefined;
		cbStackSize?: number | undefined;
		cbMaxStubs?: number | undefined;
		cbAllowHandler?: boolean | undefined;
		protectBackends?: boolean | undefined;
		protectPdi?: boolean | undefined;
		allowUndeclaredWrappers?: boolean | undefined;
		maxObjects?: number | undefined;
		backendPath?: string[] | undefined;
		onError?: 'fail' | 'warn' | undefined;
		log?: {level?: LogLevel | undefined; file?: string | undefined} | undefined;
	} | undefined;
	/** The backends the rules use. */
	backends?: BackendInput[] | undefined;
	/** The rules, installed in order. */
	rules?: RuleInput[] | undefined;
};

/**
 * `T` with every list readonly, at every depth: what `as const` makes of an object. A primitive stays itself, also
 * one intersected with an object (`string & {double: number}`, which TypeScript makes of an intersection of unions):
 * mapped, it would spell out String's methods in every message about the type.
 */
export type ReadonlyLists<T> = T extends readonly (infer Item)[]
	? ReadonlyArray<ReadonlyLists<Item>>
	: T extends string | number | bigint | boolean | symbol ? T : T extends object ? {readonly [Key in keyof T]: ReadonlyLists<T[Key]>} : T;

/** What the functions that take a config accept: a {@link PdiConfig}, also one written `as const` (its lists readonly). */
export type PdiConfigInput = ReadonlyLists<PdiConfig>;

/** Every option, defaults filled (`backendPath` entries absolute). */
export type ConfigOptions = {
	maxThreads: number;
	numThreads: number;
	cbStackSize: number;
	cbMaxStubs: number;
	cbAllowHandler: boolean;
	protectBackends: boolean;
	protectPdi: boolean;
	allowUndeclaredWrappers: boolean;
	maxObjects: number;
	backendPath: string[];
	onError: 'fail' | 'warn';
	log: {level: LogLevel; file: string};
};

/** A backend of a {@link NormalizedConfig}. */
export type NormalizedBackend = {
	name: string;
	/** A bundled name or a file name (searched at run time), or an absolute path. */
	library: string;
	/** Where the backend was declared, when it came from a file. */
	origin: Origin | undefined;
};

/**
 * A rule of a {@link NormalizedConfig}; `object` is always a pattern (aliases resolved, `*` for a
 * redefine or an act rule without one). An act rule has no backend: the core brings its own.
 */
export type NormalizedRule =
	| {kind: 'relink'; object: string; function: string; backend: string; wrapper: string; origin: Origin | undefined}
	| {kind: 'redefine'; object: string; function: string; backend: string; wrapper: string; origin: Origin | undefined}
	| {kind: 'callback'; object: string; backend: string; handler: string | undefined; origin: Origin | undefined}
	| {kind: 'act'; object: string; function: string; when: ActWhen; do: ActDo; origin: Origin | undefined};

/** A `Warning` line of the text dialect; `entry` names the place of an in-memory config's (`rules[1]`), which has no origin. */
export type ConfigWarning = {message: string; origin: Origin | undefined; entry?: string};

/**
 * A checked config in one shape whatever its spelling: every option present (defaults filled),
 * relative paths made absolute against the directory of the file that names them, rules with
 * their object patterns resolved, and each backend and rule carrying the place it came from.
 */
export type NormalizedConfig = {
	/** Tells a normalized config from a {@link PdiConfig} (which cannot have this key). */
	normalized: true;
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
export function defineConfig(config: PdiConfigInput): PdiConfig {
	return config as PdiConfig;
}
