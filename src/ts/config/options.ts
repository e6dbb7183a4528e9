/**
 * The one table of config options: JSON/YAML name, text-dialect key, kind, bounds, default and
 * description. The zod schema (schema.ts) is built from it, and scripts/config-header.ts turns it
 * into src/native/config/options.generated.h for the native reader (a test checks that the
 * committed header is up to date).
 */

/** The largest integer any option takes (it fits a C `int` on every architecture). */
export const optionIntegerMax = 2_147_483_647;

type IntegerOption = {key: string; field: string; kind: 'integer'; min: number; max: number; default: number; description: string};
type BooleanOption = {key: string; field: string; kind: 'boolean'; default: boolean; description: string};
type ChoiceOption = {key: string; field: string; kind: 'choice'; choices: readonly [string, ...string[]]; default: string; description: string};
type FileOption = {key: string; field: string; kind: 'file'; default: 'stderr'; description: string};
type DirectoriesOption = {key: string; field: string; kind: 'directories'; default: readonly []; description: string};

/** One option: `key` is its text-dialect spelling, `field` its member of the C `pdi_options_t`. */
export type OptionSpec = IntegerOption | BooleanOption | ChoiceOption | FileOption | DirectoriesOption;

/** Every option, by JSON/YAML name (`log.level` and `log.file` for the nested ones), in text-dialect order. */
export const optionTable = {
	maxThreads: {key: 'max_threads', field: 'max_threads', kind: 'integer', min: 1, max: optionIntegerMax, default: 256, description: 'Threads that callbacks can instrument at once.'},
	numThreads: {key: 'num_threads', field: 'num_threads', kind: 'integer', min: 0, max: optionIntegerMax, default: 0, description: 'Thread slots prepared before `main` (at most `maxThreads`).'},
	cbStackSize: {key: 'cb_stack_size', field: 'cb_stack_size', kind: 'integer', min: 256, max: optionIntegerMax, default: 1024, description: 'Bytes of callback stack per thread.'},
	cbMaxStubs: {key: 'cb_max_stubs', field: 'cb_max_stubs', kind: 'integer', min: 1, max: optionIntegerMax, default: 4096, description: 'Callback stubs in the pool.'},
	cbAllowHandler: {key: 'cb_allow_handler', field: 'cb_allow_handler', kind: 'boolean', default: false, description: 'Allow callback rules to name their own handler.'},
	donttouchBackends: {key: 'donttouch_backends', field: 'donttouch_backends', kind: 'boolean', default: true, description: 'Never patch the backends\' own slots (so wrappers reach the originals by name).'},
	donttouchPdi: {key: 'donttouch_pdi', field: 'donttouch_pdi', kind: 'boolean', default: true, description: 'Never patch pdi\'s own slots.'},
	allowLibAsBe: {key: 'allow_lib_as_be', field: 'allow_lib_as_be', kind: 'boolean', default: false, description: 'Allow a rule\'s wrapper to come from an object that is not a declared backend.'},
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

/** `fail or warn`, `error, warning, info or debug`: how messages list the choices of an option. */
export function choiceList(choices: readonly string[]): string {
	return choices.length === 1 ? choices[0] ?? '' : `${choices.slice(0, -1).join(', ')} or ${choices.at(-1) ?? ''}`;
}

/**
 * The rules that tie one option to another: the integer option `option` is at most the value of
 * the integer option `atMost` (checked in JSON, YAML, the text dialect and after merging configs).
 */
export const optionLimits = [
	{option: 'numThreads', atMost: 'maxThreads'},
] as const satisfies ReadonlyArray<{option: OptionName; atMost: OptionName}>;

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
} as const;
