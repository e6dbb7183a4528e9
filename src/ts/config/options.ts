/**
 * The one table of config options: JSON/YAML name (and former name), text-dialect key, kind,
 * bounds, default and description, with the rules that tie options together and the messages.
 * The zod schema (schema.ts) is built from it, and scripts/config-header.ts turns it into
 * src/native/config/options.generated.h for the native reader (a test checks that the committed
 * header is up to date).
 */

/** The largest integer any option takes (it fits a C `int` on every architecture). */
export const optionIntegerMax = 2_147_483_647;

type Common = {
	/** Its text-dialect spelling. */
	key: string;
	/** Its member of the C `pdi_options_t`. */
	field: string;
	/** Its JSON/YAML name in pdi 0.1, still read in 0.2 with a deprecation warning (docs/config.md). */
	formerly?: string;
	description: string;
};
type IntegerOption = Common & {kind: 'integer'; min: number; max: number; default: number};
type BooleanOption = Common & {kind: 'boolean'; default: boolean};
type ChoiceOption = Common & {kind: 'choice'; choices: readonly [string, ...string[]]; default: string};
type FileOption = Common & {kind: 'file'; default: 'stderr'};
type DirectoriesOption = Common & {kind: 'directories'; default: readonly []};

/** One option of the table. */
export type OptionSpec = IntegerOption | BooleanOption | ChoiceOption | FileOption | DirectoriesOption;

/** Every option, by JSON/YAML name (`log.level` and `log.file` for the nested ones), in text-dialect order. */
export const optionTable = {
	maxThreads: {key: 'max_threads', field: 'max_threads', kind: 'integer', min: 1, max: optionIntegerMax, default: 256, description: 'Threads that callbacks can instrument at once.'},
	numThreads: {key: 'num_threads', field: 'num_threads', kind: 'integer', min: 0, max: optionIntegerMax, default: 0, description: 'Thread slots prepared before `main` (at most `maxThreads`).'},
	cbStackSize: {key: 'cb_stack_size', field: 'cb_stack_size', kind: 'integer', min: 256, max: optionIntegerMax, default: 1024, description: 'Bytes of callback stack per thread.'},
	cbMaxStubs: {key: 'cb_max_stubs', field: 'cb_max_stubs', kind: 'integer', min: 1, max: optionIntegerMax, default: 4096, description: 'Callback stubs in the pool.'},
	cbAllowHandler: {key: 'cb_allow_handler', field: 'cb_allow_handler', kind: 'boolean', default: false, description: 'Allow callback rules to name their own handler.'},
	protectBackends: {key: 'donttouch_backends', field: 'donttouch_backends', formerly: 'donttouchBackends', kind: 'boolean', default: true, description: 'Never patch the backends\' own slots (so wrappers reach the originals by name).'},
	protectPdi: {key: 'donttouch_pdi', field: 'donttouch_pdi', formerly: 'donttouchPdi', kind: 'boolean', default: true, description: 'Never patch pdi\'s own slots.'},
	allowUndeclaredWrappers: {key: 'allow_lib_as_be', field: 'allow_lib_as_be', formerly: 'allowLibAsBe', kind: 'boolean', default: false, description: 'Allow a rule\'s wrapper to come from an object that is not a declared backend.'},
	maxObjects: {key: 'max_objects', field: 'max_objects', kind: 'integer', min: 1, max: optionIntegerMax, default: 1024, description: 'Loaded objects pdi tracks.'},
	backendPath: {key: 'be_path', field: 'be_path', kind: 'directories', default: [], description: 'Where backends given by file name are searched, after the bundled directory. Relative entries are resolved against the directory of the config file.'},
	onError: {key: 'on_error', field: 'on_error', kind: 'choice', choices: ['fail', 'warn'], default: 'fail', description: 'An install-time error ends the program with status 2 before `main` (`fail`), or is logged and the rule skipped (`warn`).'},
	'log.level': {key: 'log_level', field: 'log_level', kind: 'choice', choices: ['error', 'warning', 'info', 'debug'], default: 'warning', description: 'What the core logs.'},
	'log.file': {key: 'log_file', field: 'log_file', kind: 'file', default: 'stderr', description: 'Where the core logs: a file (a relative path is resolved against the directory of the config file), or `stderr` (the `PDI_LOG` environment variable overrides it).'},
} as const satisfies Record<string, OptionSpec>;

/** The name of an option, with `log.level` and `log.file` for the nested ones. */
export type OptionName = keyof typeof optionTable;

/** The option names in table order. */
export const optionNames = Object.keys(optionTable) as OptionName[];

/** The descriptions of the groups of nested options (`log.level` is `level` in the group `log`). */
export const optionGroups = {log: 'The core\'s log.'} as const;

/** The value of option `name` in a set of options, JSON-shaped (`log.level` inside `log`). */
export function optionValue(options: object, name: OptionName): unknown {
	const [outer = name, inner] = name.split('.');
	const value = (options as Record<string, unknown>)[outer];
	return inner === undefined ? value : (typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[inner] : undefined);
}

/** Sets option `name` in a set of options, JSON-shaped (creating the group of a nested one). */
export function setOptionValue(options: object, name: OptionName, value: unknown): void {
	const [outer = name, inner] = name.split('.');
	const record = options as Record<string, unknown>;
	if (inner === undefined) {
		record[outer] = value;
	} else {
		const group = (record[outer] ??= {}) as Record<string, unknown>;
		group[inner] = value;
	}
}

/** `fail or warn`, `error, warning, info or debug`: how messages list the choices of an option. */
export function choiceList(choices: readonly string[]): string {
	return choices.length === 1 ? choices[0] ?? '' : `${choices.slice(0, -1).join(', ')} or ${choices.at(-1) ?? ''}`;
}

/** The options that are lists (`backendPath`): merged configs concatenate them. */
export const listOptionNames = optionNames.filter(name => optionTable[name].kind === 'directories');

/**
 * A copy of `options` (JSON-shaped) with the paths of its `file` and `directories` options made
 * absolute by `resolve`; a `file` option's `stderr` stays.
 */
export function withResolvedPaths<T extends object>(options: T, resolve: (file: string) => string): T {
	const resolved = structuredClone(options);
	for (const name of optionNames) {
		const {kind} = optionTable[name];
		const value = optionValue(options, name);
		if (kind === 'directories') {
			setOptionValue(resolved, name, (value as string[]).map(entry => resolve(entry)));
		} else if (kind === 'file' && value !== 'stderr') {
			setOptionValue(resolved, name, resolve(value as string));
		}
	}

	return resolved;
}

/**
 * The rules that tie one option to another: the integer option `option` is at most the value of
 * the integer option `atMost` (checked in JSON, YAML, the text dialect and after merging configs).
 */
export const optionLimits = [
	{option: 'numThreads', atMost: 'maxThreads'},
] as const satisfies ReadonlyArray<{option: OptionName; atMost: OptionName}>;

/**
 * The {@link optionLimits} that `options` (JSON-shaped, defaults filled) breaks, with the values involved. A limit
 * that is itself out of its range (`maxThreads: -1`) has its own error and limits nothing: the schema's refinement
 * sees it too, and said `numThreads: expected an integer ≤ maxThreads (-1)` of a numThreads nobody wrote.
 */
export function brokenLimits(options: object): Array<{option: OptionName; atMost: OptionName; value: number; limit: number}> {
	return optionLimits.flatMap(({option, atMost}) => {
		const value = optionValue(options, option) as number;
		const limit = optionValue(options, atMost) as number;
		const {min, max} = optionTable[atMost];
		const validLimit = Number.isInteger(limit) && limit >= min && limit <= max;
		return validLimit && value > limit ? [{option, atMost, value, limit}] : [];
	});
}

/** The options that have a former name, by that name (`donttouchBackends` → `protectBackends`). */
export const formerOptionNames: ReadonlyMap<string, OptionName> = new Map(optionNames.flatMap(name => {
	const {formerly} = optionTable[name] as OptionSpec;
	return formerly === undefined ? [] : [[formerly, name] as const];
}));

/** The messages shared by the zod schema and the native reader (the header carries the same text). */
export const optionMessages = {
	integerMin: (min: number | string) => `expected an integer ≥ ${min}`,
	integerMax: (max: number | string) => `expected an integer ≤ ${max}`,
	/** `expected an integer ≤ maxThreads (4)`: an option over the option that limits it (named as the dialect spells it). */
	integerAtMost: (limit: string, max: number | string) => `expected an integer ≤ ${limit} (${max})`,
	boolean: 'expected a boolean',
	choice: (choices: readonly string[]) => `expected ${choiceList(choices)}`,
	file: 'expected a file name or stderr',
	directory: 'expected a directory',
	directories: 'expected a list of directories',
	/** The warning for an option given by its former name. */
	deprecated: (formerly: string, name: string) => `'${formerly}' is deprecated, use '${name}'`,
} as const;
