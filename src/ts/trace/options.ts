import {builtConfig} from '../config/built.js';
import type {NormalizedConfig} from '../config/types.js';
import {ConfigError} from '../config/config-error.js';
import {PdiError, shown} from '../errors.js';
import {encodePrototypes, loadPrototypes, PrototypeError} from './prototypes.js';
import {nearNameHint} from '../near-name.js';
import {globProblem} from '../glob-problem.js';
import {stdioOption} from '../launch/options.js';

/** What to trace, and how to show it: the options of `pdi trace` (docs/trace.md), for {@link trace} and {@link observe}. */
export type TraceOptions = {
	/** Calling objects whose imports are traced: `'$main'` (the default), a soname, a file name, a path, a glob, or `'*'` for every object; one, or a list. */
	objects?: string | readonly string[] | undefined;
	/** Globs over function names (`-e`): `'open*'`, `'!str*'` excludes, `'*@libc.so.6'` keeps calls bound to that callee object. A string is split at commas. */
	functions?: string | readonly string[] | undefined;
	/** Bytes shown of each decoded string, 0 to 4096 (`-s`, default 32). */
	stringSize?: number | undefined;
	/** Only calls nested at most this deep (`--depth`; 0: outermost only). */
	depth?: number | undefined;
	/** Integer argument registers shown for a function without a prototype, 0 to 6 (`--args`, default 3). */
	rawArgs?: number | undefined;
	/** A file of C declarations that decode the user's own functions (`--prototypes`). */
	prototypes?: string | undefined;
	/** Trace the children too, after fork and exec (`-f`). */
	follow?: boolean | undefined;
	/** Show C++ functions by their demangled names (`-C`): `std::ostream::put(char)` for `_ZNSo3putEc`, in every event's `function`; `functions` patterns then match the demangled names as well as the symbols. */
	demangle?: boolean | undefined;
};

/** Option names as the command line spells them, for messages; the API's own names otherwise. */
export type OptionNames = Partial<Record<'stringSize' | 'depth' | 'rawArgs' | 'functions' | 'prototypes', string>>;

/** A whole number in [low, high], or a one-line error naming the option. */
export function boundedOption(option: string, value: number | string, low: number, high: number): number {
	const number = typeof value === 'number' ? value : /^\d+$/.test(value) ? Number(value) : Number.NaN;
	if (!Number.isInteger(number) || number < low || number > high) {
		// `-s=20`: getopt reads a short option's value right after it, '=' included.
		const shortWithEquals = typeof value === 'string' && /^-[A-Za-z]$/.test(option) && /^=\d+$/.test(value) ? ` (a short option's value follows it without '=': ${option} ${value.slice(1)})` : '';
		throw new PdiError(`${option}: expected ${low} to ${high}, got '${value}'${shortWithEquals}`);
	}

	return number;
}

/** A `-e` list (comma-separated globs, `!glob`, `glob@OBJ`) checked and joined. */
export function functionList(functions: string | readonly string[], option = 'functions'): string {
	// An entry of a list is one pattern: a comma in it would split it silently (`std::map<int, int>::*`).
	const withComma = typeof functions === 'string' ? -1 : functions.findIndex(entry => entry.includes(','));
	if (withComma >= 0) {
		throw new PdiError(`${option}[${withComma}]: '${functions[withComma]!}' holds a comma, which separates patterns in a string; in a list give each pattern an entry of its own (a pattern cannot hold a comma)`);
	}

	const list = typeof functions === 'string' ? functions : functions.join(',');
	if (list === '') {
		// Not "'' in '' is not a pattern": nothing was given, where leaving the option out traces every function.
		throw new PdiError(`${option}: expected at least one pattern (GLOB, !GLOB, GLOB@OBJECT), got ${functions.length === 0 && typeof functions !== 'string' ? '[]' : '\'\''}; leave it out to trace every function`);
	}

	for (const entry of list.split(',')) {
		const [names, object, extra] = entry.replace(/^!/, '').split('@');
		if (entry === '' || (names === '' && object === undefined) || object === '' || extra !== undefined) {
			throw new PdiError(`${option}: '${entry}' in '${list}' is not a pattern (GLOB, !GLOB, GLOB@OBJECT)`);
		}

		const problem = globProblem(names!) ?? (object === undefined ? undefined : globProblem(object));
		if (problem !== undefined) {
			throw new PdiError(`${option}: '${entry}' in '${list}' is not a glob: ${problem}`);
		}
	}

	return list;
}

/**
 * The declarations of the prototypes `file`, an error about it (`FILE:LINE:COL: reason`, `FILE: no such file or
 * directory`) naming the option as the errors of the other options do: `prototypes: FILE:LINE:COL: reason`.
 */
function prototypesNamed(file: string, option: string, text?: string): ReturnType<typeof loadPrototypes> {
	try {
		return loadPrototypes(file, text);
	} catch (error) {
		if (!(error instanceof PdiError)) {
			throw error;
		}

		const named = `${option}: ${error.message}`;
		throw error instanceof PrototypeError ? new PrototypeError(named, error, {cause: error}) : new PdiError(named, {cause: error});
	}
}

/** The trace backend's settings (src/native/backends/trace/trace.c) for `options`, and the core's; throws on a bad value. */
export function traceVariables(options: TraceOptions, names: OptionNames = {}, prototypesText?: string): Record<string, string> {
	return {
		PDI_TRACE_ARGS: String(boundedOption(names.rawArgs ?? 'rawArgs', options.rawArgs ?? 3, 0, 6)),
		PDI_TRACE_STRING_SIZE: String(boundedOption(names.stringSize ?? 'stringSize', options.stringSize ?? 32, 0, 4096)),
		PDI_TRACE_DEPTH: options.depth === undefined ? '-1' : String(boundedOption(names.depth ?? 'depth', options.depth, 0, 1_000_000)),
		PDI_TRACE_FUNCTIONS: options.functions === undefined ? '' : functionList(options.functions, names.functions),
		PDI_TRACE_PROTOTYPES: options.prototypes === undefined ? '' : encodePrototypes(prototypesNamed(options.prototypes, names.prototypes ?? 'prototypes', prototypesText)),
		PDI_TRACE_FOLLOW: options.follow ? '1' : '0',
		PDI_TRACE_DEMANGLE: options.demangle ? '1' : '0',
		// CLOCK_MONOTONIC (libuv's hrtime): every process and exec'd image of the trace counts its times from here (-t
		// restarted at each exec).
		PDI_TRACE_EPOCH: String(process.hrtime.bigint()),
		// Present and empty, so that the backend's setenv of the traced process's pid replaces it in place, in the
		// very array a shell (bash) was given as main's envp and takes its exported variables from.
		PDI_TRACE_ROOT: '',
		// The trace's rules are pdi's, not the user's: `pdi trace` itself warns about an --object that matched nothing.
		// Those of a --config are the user's, reported as under pdi run (was: silent).
		PDI_WARN_UNLOADED: 'except:trace',
	};
}

/** Callback stack per thread when tracing (the default 1 KiB holds about 9 nested calls; 64 KiB about 600). */
const traceStackSize = 65_536;

/** The objects traced: the option's, each once, or the program alone. */
export function tracedObjects(options: TraceOptions): string[] {
	const objects = typeof options.objects === 'string' ? [options.objects] : options.objects;
	return objects !== undefined && objects.length > 0 ? [...new Set(objects)] : ['$main'];
}

const traceOptionNames = ['objects', 'functions', 'stringSize', 'depth', 'rawArgs', 'prototypes', 'follow', 'demangle'];

/** Refuses a key `trace()` or `observe()` does not know (a misspelled `function`), as configs refuse theirs, and a value of the wrong type. */
export function checkOptionNames(options: object, also: readonly string[] = []): void {
	if (typeof options !== 'object' || options === null || Array.isArray(options)) {
		throw new PdiError(`options: expected an object, got ${shown(options)}`);
	}

	const known = new Set([...traceOptionNames, ...also]);
	for (const key of Object.keys(options)) {
		if (!known.has(key)) {
			throw new PdiError(`unknown option '${key}'${nearNameHint(key, known)}; the options are ${[...known].join(', ')}`);
		}
	}

	checkOptionTypes(options);
}

const isStringList = (value: unknown) => typeof value === 'string' || (Array.isArray(value) && value.every(entry => typeof entry === 'string'));
const isNumber = (value: unknown) => typeof value === 'number';

/** What each option of `trace()` and `observe()` must be, and how a message says so. */
const optionTypes: Record<string, [check: (value: unknown) => boolean, expected: string]> = {
	objects: [isStringList, 'a string or an array of strings'],
	functions: [isStringList, 'a string or an array of strings'],
	stringSize: [isNumber, 'a number'],
	depth: [isNumber, 'a number'],
	rawArgs: [isNumber, 'a number'],
	prototypes: [value => typeof value === 'string', 'a file name'],
	follow: [value => typeof value === 'boolean', 'true or false'],
	demangle: [value => typeof value === 'boolean', 'true or false'],
	env: [value => typeof value === 'object' && value !== null && !Array.isArray(value), 'an object of variables'],
	cwd: [value => typeof value === 'string', 'a directory name'],
	stdio: stdioOption,
	signal: [value => value instanceof AbortSignal, 'an AbortSignal'],
	config: [value => typeof value === 'object' && value !== null && !Array.isArray(value), 'a config object (as runProgram() takes) or one from loadConfig()'],
};

/**
 * Refuses a value of the wrong type for an option of `trace()` or `observe()` with a `PdiError` naming the
 * option (`functions: expected a string or an array of strings, got 5`), as the ranges of the numbers are.
 * `undefined` is an option left out.
 */
export function checkOptionTypes(options: object): void {
	for (const [key, value] of Object.entries(options)) {
		const type = optionTypes[key];
		if (value !== undefined && type !== undefined && !type[0](value)) {
			// A config of the wrong kind is a ConfigError, as runProgram() and spawn() throw for it.
			throw new (key === 'config' ? ConfigError : PdiError)(`${key}: expected ${type[1]}, got ${shown(value)}`);
		}

		// As `functions: []` is: an empty list is most often a filter that selected nothing, not a wish for the default.
		if (key === 'objects' && Array.isArray(value) && value.length === 0) {
			throw new PdiError('objects: expected at least one object pattern ($main, a soname, a path or a glob), got []; leave it out to trace the program\'s own calls ($main)');
		}
	}
}

/**
 * Callback stubs in the trace's pool: enough for every import of every object of a big program
 * (curl with OpenSSL needs about 9,000; the default cb_max_stubs of 4096 is not). The pool costs
 * address space, about 120 bytes a stub (the stubs, their site records and their index, mapped
 * at install), and memory only for the stubs handed out; the option's maximum would map hundreds
 * of gigabytes, which the kernel refuses.
 */
export const traceMaxStubs = 1_048_576;

/**
 * Threads traced at once, as many as the trace backend keeps decoding stacks for (MAX_THREADS in
 * src/native/backends/trace/trace.c), where a config's default is 256: a program with more threads
 * alive (a server's pool, a JVM) would have the calls of the others run untraced. A slot costs
 * address space (the callback stack of cbStackSize, 64 KiB here) and memory only once a thread uses it.
 */
export const traceMaxThreads = 4096;

/**
 * The config that puts the trace backend on the imports of `objects`. With `label` (the option
 * that named the objects, as the user wrote it: `--object`, `objects`), each rule's origin is
 * `trace: LABEL 'PATTERN'`, so that what the core reports about a rule (an object needing more
 * stubs than are left) names the trace's option, not an entry of a config the user never wrote.
 */
export function traceConfig(objects: readonly string[], label?: string): NormalizedConfig {
	const bad = label === undefined ? undefined : objects.find(object => !/^[^\n\r]+$/.test(object));
	if (bad !== undefined) {
		// Named by the option the user gave (--object, objects), not by the rule pdi makes of it.
		throw new PdiError(`${label}: expected an object pattern ($main, a soname, a path or a glob) on one line, got ${JSON.stringify(bad)}`);
	}

	const config = builtConfig({
		options: {cbStackSize: traceStackSize, cbMaxStubs: traceMaxStubs, maxThreads: traceMaxThreads},
		backends: [{name: 'trace', library: 'trace'}],
		rules: objects.map(object => ({kind: 'callback', object, backend: 'trace', handler: undefined})),
	});
	if (label !== undefined) {
		config.rules = config.rules.map(rule => ({...rule, origin: {file: `trace: ${label} ${quotePattern(rule.object)}`, line: 0, column: 0}}));
	}

	return config;
}

/** A pattern as a shell user would quote it: '*', '$main'. */
function quotePattern(pattern: string): string {
	return `'${pattern.replaceAll('\'', '\'\\\'\'')}'`;
}
