import {existsSync, realpathSync, statSync} from 'node:fs';
import path from 'node:path';
import {quotedSymbol} from '../errors.js';
import {missingDependency} from '../elf/dependencies.js';
import {dynamicSymbols} from '../elf/dynsym.js';
import {dlopenRefusal, foreignArchitecture} from '../elf/file.js';
import {configDirectory} from './config-file.js';
import {ConfigError, formatPlace, type ConfigIssue, type Origin} from './config-error.js';
import {entryName, fieldOrigin, type PlacedField} from './field-origins.js';
import type {NormalizedBackend, NormalizedConfig, NormalizedRule} from './types.js';
import {readBack} from './read-back.js';
import {wholeConfigIssues} from './whole-checks.js';

/** Where {@link verifyConfig} looks for backends: as the core does on this machine. */
export type VerifyOptions = {
	/** The directory of the bundled backends (`paths.nativeDirectory`), searched first for file names. */
	backendDirectory: string;
	/** The bundled backends by name (`paths.backends`). */
	bundled: Readonly<Record<string, string>>;
	/**
	 * A backend built for another architecture is a warning instead of an error (`pdi config check`, which knows no
	 * program: a config may be meant for an aarch64 one under qemu-user); `pdi run`, which starts only programs of its
	 * own architecture, refuses it before the program starts, in the core's words.
	 */
	foreignBackendsWarn?: boolean;
	/**
	 * Asks the dynamic loader, in a child, for the libraries each backend needs, and reports the first it cannot find,
	 * in the core's words (`pdi config check`, run from the environment `pdi run` gives the program). Left to the core
	 * when a program starts: the program's environment may differ (`spawn()` with `env`, `attach()`).
	 */
	dependencies?: boolean;
};

/** Where a backend library was found, or every place that was searched. */
export type ResolvedLibrary = {file: string; searched: string[]} | {file: undefined; searched: string[]};

function isFile(file: string): boolean {
	try {
		return statSync(file).isFile();
	} catch {
		return false;
	}
}

/** What the loader says of a library file it cannot read as ELF, in its words (glibc's `dlerror()`), or undefined. */
function unreadableLibrary(file: string): string | undefined {
	const status = statSync(file, {throwIfNoEntry: false});
	if (status?.isDirectory()) {
		return 'it is a directory';
	}

	// Shorter than the host's ELF header (64 bytes on a 64-bit host): the loader stops before the magic.
	return status !== undefined && status.size < (process.arch === 'ia32' ? 52 : 64) ? 'file too short' : undefined;
}

/**
 * Finds a backend library the way the core does: a bundled name is the bundled file, an absolute
 * path is itself, a file name is the first that exists of the bundled directory (where a bare
 * name `NAME` is `pdi-backend-NAME.so`) and then each `backendPath` directory.
 */
export function resolveBackendLibrary(library: string, backendPath: readonly string[], options: VerifyOptions): ResolvedLibrary {
	const bundled = Object.hasOwn(options.bundled, library) ? options.bundled[library] : undefined;
	if (bundled !== undefined) {
		return isFile(bundled) ? {file: bundled, searched: [bundled]} : {file: undefined, searched: [bundled]};
	}

	const bare = !library.includes('/') && !library.includes('.so');
	const candidates = library.includes('/')
		? [path.resolve(library)]
		: [options.backendDirectory, ...backendPath].map((directory, index) => path.join(directory, bare && index === 0 ? `pdi-backend-${library}.so` : library));
	// A path the config names itself is what the loader is given, whatever it is (a directory is then refused at the load).
	const explicit = library.includes('/') && existsSync(candidates[0]!) ? candidates[0] : undefined;
	return {file: explicit ?? candidates.find(candidate => isFile(candidate)), searched: candidates};
}

function ruleName(rule: NormalizedRule): string {
	return `${rule.kind} ${rule.kind === 'callback' ? rule.object : rule.function}`;
}

type RedirectRule = Exclude<NormalizedRule, {kind: 'act'}>;

function sameRedirect(earlier: RedirectRule, later: RedirectRule): boolean {
	const target = (rule: RedirectRule) => rule.kind === 'callback' ? rule.handler : rule.wrapper;
	return earlier.kind === later.kind && earlier.backend === later.backend && target(earlier) === target(later);
}

/**
 * Whether two rules conflict as written, by the rule the core applies when it starts: object
 * patterns that are equal or `*`, and on them two relinks (or two redefines) of one function with
 * different wrappers, a callback and a relink, or two callbacks with different backends. A relink
 * composes over a redefine; a rule that redirects the same way as an earlier one is a duplicate.
 * An act rule composes over the others (outermost); the core refuses it on a slot that a callback
 * rule instruments, which only the slots themselves tell.
 */
function conflicts(earlier: NormalizedRule, later: NormalizedRule): boolean {
	if (earlier.kind === 'act' || later.kind === 'act') {
		return false;
	}

	if (earlier.object !== later.object && earlier.object !== '*' && later.object !== '*') {
		return false;
	}

	if (sameRedirect(earlier, later)) {
		return false;
	}

	if (earlier.kind === 'callback' || later.kind === 'callback') {
		return earlier.kind === later.kind || earlier.kind === 'relink' || later.kind === 'relink';
	}

	return earlier.kind === later.kind && earlier.function === later.function;
}

/**
 * Whether two relink or redefine rules share a wrapper for different functions, or for one function
 * in both kinds: `pdi_original(wrapper)` has one answer, so one of them would call the other's
 * original (or, a relink composed over a redefine, the wrapper itself, forever). The core's
 * `wrapper_shared` (src/native/session/claims.c) is the same check.
 */
function sharesWrapper(earlier: NormalizedRule, later: NormalizedRule): boolean {
	if ((earlier.kind !== 'relink' && earlier.kind !== 'redefine') || (later.kind !== 'relink' && later.kind !== 'redefine')) {
		return false;
	}

	return earlier.backend === later.backend && earlier.wrapper === later.wrapper && (earlier.kind !== later.kind || earlier.function !== later.function);
}

/**
 * The C++ function `name` of `functions` (defined without `extern "C"`: Itanium mangling, `_Z`, the length, the name,
 * the parameters), as the core's `mangled_function` (src/native/session/cxx-names.c) finds it.
 */
function mangledName(functions: ReadonlySet<string>, name: string): string | undefined {
	const prefix = `_Z${name.length}${name}`;
	return [...functions].find(symbol => symbol.startsWith(prefix));
}

/** The end of the message about a wrapper a backend does not define when it defines a C++ function of that name. */
function cxxHint(library: Library, name: string): string {
	if (library.unexported.has(name)) {
		// Built with -fvisibility=hidden (or static): the loader, and so pdi, cannot find it by name.
		return ', which defines it without exporting it (static, or hidden by -fvisibility=hidden): give it __attribute__((visibility("default")))';
	}

	const mangled = mangledName(library.symbols, name);
	return mangled === undefined ? '' : `, which has a C++ function of that name, ${mangled}: declare the wrapper extern "C"`;
}

const entryPoints = ['pdi_be_init', 'pdi_be_fini', 'pdi_be_cb_req', 'pdi_be_pre_cb', 'pdi_be_post_cb'];

/**
 * An entry point the library defines only as a C++ function (its init would not run, nor could it refuse the load),
 * as the core's `pdi_cxx_entry_point` finds it.
 */
function cxxEntryPoint(functions: ReadonlySet<string>): {name: string; mangled: string} | undefined {
	for (const name of entryPoints) {
		const mangled = functions.has(name) ? undefined : mangledName(functions, name);
		if (mangled !== undefined) {
			return {name, mangled};
		}
	}

	return undefined;
}

function placeOf(rule: NormalizedRule, index: number): string {
	return rule.origin ? formatPlace({file: rule.origin.file, line: rule.origin.line}) : entryName(rule, `rules[${index}]`);
}

function conflictMessage(earlier: NormalizedRule, earlierIndex: number): string {
	const where = placeOf(earlier, earlierIndex);
	return `conflicts with the ${earlier.kind} at ${where}, which already redirects ${earlier.kind === 'callback' ? 'every import' : earlier.function} in ${earlier.object}`;
}

type Library = {file: string; symbols: Set<string>; variables: Set<string>; unexported: Set<string>};

/**
 * The `pdi_*` functions the core points a backend's references at when it loads it (`helpers` in
 * src/native/session/backend-helpers.c, declared in include/pdi/backend.h); a backend that uses another
 * `pdi_*` name (built against a newer header, a misspelt helper) is refused by the core.
 */
export const backendApi: ReadonlySet<string> = new Set(['pdi_original', 'pdi_arg_int', 'pdi_arg_double', 'pdi_ret_int', 'pdi_ret_double', 'pdi_set_arg_int', 'pdi_set_arg_double', 'pdi_skip_int', 'pdi_skip_double', 'pdi_set_ret_int', 'pdi_set_ret_double', 'pdi_ret_int64', 'pdi_skip_int64', 'pdi_set_ret_int64', 'pdi_cb_target']);

/**
 * Why a backend's library is not found, with what could have been meant: a bare name that is no bundled backend,
 * be_path entries joined with `:`, or a file name without `/` (searched only in the bundled directory and be_path)
 * of a file that sits next to the config.
 */
function notFound(backend: NormalizedBackend, searched: readonly string[], config: NormalizedConfig, options: VerifyOptions): string {
	const {library} = backend;
	const bundledNote = library.includes('/') || library.includes('.so') || config.options.onError === 'warn' ? '' : ` (bundled backends: ${Object.keys(options.bundled).join(', ') || 'none'})`;
	const joined = library.startsWith('/') ? undefined : config.options.backendPath.find(directory => directory.includes(':'));
	const file = (fieldOrigin(backend, 'library') ?? backend.origin)?.file;
	const beside = file === undefined || library.includes('/') || !isFile(path.join(configDirectory(file), library)) ? '' : `; a file of that name is next to the config: write ./${library}`;
	const paths = searched.join(', ') + (joined === undefined ? '' : `; be_path (backendPath) entries are not split at ':', so '${joined}' is one directory: give each directory its own entry`);
	return `backend '${backend.name}': library '${library}' not found (searched: ${paths})${bundledNote}${beside}`;
}

/** Each backend's library and the symbols it defines, undefined for one that cannot be loaded (reported to `add`). */
function loadBackends(config: NormalizedConfig, options: VerifyOptions, add: (message: string, origin: Origin | undefined, skips: 'backend', entry: string) => void, note: (message: string, origin: Origin | undefined, entry: string) => void): Map<string, Library | undefined> {
	const libraries = new Map<string, Library | undefined>();
	for (const [index, backend] of config.backends.entries()) {
		const resolved = resolveBackendLibrary(backend.library, config.options.backendPath, options);
		if (resolved.file === undefined) {
			add(notFound(backend, resolved.searched, config, options), fieldOrigin(backend, 'library'), 'backend', entryName(backend, `backends[${index}]`));
			libraries.set(backend.name, undefined);
			continue;
		}

		try {
			const unreadable = unreadableLibrary(resolved.file);
			if (unreadable !== undefined) {
				throw new Error(unreadable);
			}

			const refusal = dlopenRefusal(resolved.file);
			if (refusal) {
				throw new Error(refusal);
			}

			const foreign = foreignArchitecture(resolved.file);
			if (foreign !== undefined && options.foreignBackendsWarn) {
				note(`backend '${backend.name}': ${resolved.file} is built for ${foreign.built}: only a process of that architecture can load it (pdi run on this ${foreign.host} machine refuses it)`, fieldOrigin(backend, 'library'), entryName(backend, `backends[${index}]`));
			} else if (foreign !== undefined) {
				// In the core's words.
				add(`backend '${backend.name}': cannot load ${resolved.file}: it is built for ${foreign.built}, and this process is ${foreign.host}`, fieldOrigin(backend, 'library'), 'backend', entryName(backend, `backends[${index}]`));
				libraries.set(backend.name, undefined);
				continue;
			}

			const missing = foreign === undefined && options.dependencies ? missingDependency(resolved.file) : undefined;
			if (missing !== undefined) {
				throw new Error(missing);
			}

			const {functions, data, undefined: used, unexported} = dynamicSymbols(resolved.file);
			const unknown = [...used].find(name => name.startsWith('pdi_') && !backendApi.has(name));
			if (unknown !== undefined) {
				// At the library, as every backend that cannot load, in the core's words.
				add(`backend '${backend.name}': cannot load ${resolved.file}: it uses '${unknown}', which is not part of the pdi backend API`, fieldOrigin(backend, 'library'), 'backend', entryName(backend, `backends[${index}]`));
				libraries.set(backend.name, undefined);
				continue;
			}

			const cxxEntry = cxxEntryPoint(functions);
			if (cxxEntry !== undefined) {
				add(`backend '${backend.name}': ${resolved.file} defines ${cxxEntry.name} as a C++ function, ${cxxEntry.mangled}, which pdi cannot find: define it with the PDI_BE_FUNC_* macros of <pdi/backend.h> (or extern "C")`, backend.origin, 'backend', entryName(backend, `backends[${index}]`));
				libraries.set(backend.name, undefined);
				continue;
			}

			libraries.set(backend.name, {file: resolved.file, symbols: functions, variables: data, unexported});
		} catch (error) {
			const reason = (error as Error).message === `${resolved.file} is not an ELF file` ? 'invalid ELF header' : (error as Error).message;
			add(`backend '${backend.name}': cannot load ${resolved.file}: ${reason}`, fieldOrigin(backend, 'library'), 'backend', entryName(backend, `backends[${index}]`));
			libraries.set(backend.name, undefined);
		}
	}

	return libraries;
}

/**
 * The checks between rules, in file order: a wrapper two rules would share ({@link sharesWrapper}),
 * then conflicts ({@link conflicts}). Rules skipped already take no part; `skip` reports and skips one.
 */
function checkPairs(rules: readonly NormalizedRule[], skipped: Set<number>, skip: (index: number, rule: NormalizedRule, message: string, field?: PlacedField) => void): void {
	for (const [index, rule] of rules.entries()) {
		if (skipped.has(index)) {
			continue;
		}

		const sharing = rules.findIndex((earlier, at) => at < index && !skipped.has(at) && sharesWrapper(earlier, rule));
		const shared = sharing >= 0 ? rules[sharing] : undefined;
		if (shared && shared.kind !== 'act' && shared.kind !== 'callback' && rule.kind !== 'act' && rule.kind !== 'callback') {
			skip(index, rule, `wrapper ${quotedSymbol(rule.wrapper)} already serves the ${shared.kind} of ${shared.function} at ${placeOf(shared, sharing)}, and pdi_original() has one answer per wrapper: give each its own wrapper`, 'wrapper');
			continue;
		}

		const earlierIndex = rules.findIndex((earlier, at) => at < index && !skipped.has(at) && conflicts(earlier, rule));
		if (earlierIndex >= 0) {
			skip(index, rule, conflictMessage(rules[earlierIndex]!, earlierIndex));
		}
	}
}

/** What {@link verifyConfig} found that does not stop the config. */
export type VerifyResult = {
	/**
	 * Install-time problems (a backend that cannot be loaded, a wrapper it does not define, rules
	 * in conflict) that the core logs and skips because `onError` is `warn`; each message ends in
	 * `(backend skipped)` or `(rule skipped)`; and with {@link VerifyOptions.foreignBackendsWarn}, the backends built
	 * for another architecture.
	 */
	warnings: ConfigIssue[];
};

type Finding = ConfigIssue & {skips: 'backend' | 'rule' | undefined};

/**
 * Every act rule's problem, when the core's reader stopped at one of them (an `argN` past a function's arguments, a
 * `return` its result cannot take, ...): each act rule is read back alone, so that all of them are said at once.
 * Undefined when the first problem is not an act rule's.
 */
function actProblems(config: NormalizedConfig, first: unknown): ConfigError | undefined {
	const acts = config.rules.filter(rule => rule.kind === 'act');
	// A rule given in memory is named by its index, which a config of that rule alone would change.
	if (!(first instanceof ConfigError) || acts.length < 2 || acts.some(rule => rule.origin === undefined)) {
		return undefined;
	}

	const issues: ConfigIssue[] = [];
	for (const rule of acts) {
		try {
			readBack({...config, backends: [], rules: [rule]});
		} catch (error) {
			if (!(error instanceof ConfigError)) {
				return undefined;
			}

			issues.push(...error.issues);
		}
	}

	const same = (issue: ConfigIssue) => issue.message === first.reason && issue.line === first.line && issue.column === first.column && issue.file === first.file;
	return issues.some(issue => same(issue)) ? ConfigError.fromIssues(issues) : undefined;
}

/**
 * Reads `config` back with the core's reader, which refuses what JSON and YAML cannot say is wrong (an act rule on a
 * function pdi never instruments, an `arg` past its last argument, ...): a {@link ConfigError} naming each act rule's
 * problem, or the first other one.
 */
export function readWithCore(config: NormalizedConfig): void {
	try {
		readBack(config);
	} catch (error) {
		throw actProblems(config, error) ?? error;
	}
}

/** The real path of `file`, or `file` when it has none. */
function realPath(file: string): string {
	try {
		return realpathSync(file);
	} catch {
		return path.resolve(file);
	}
}

/**
 * The library of a declared backend that an explicit object pattern names (`relink wrap.so ...` with `backend w =
 * ./wrap.so`): under `protectBackends` the core leaves backends alone and refuses such a rule when the program starts.
 */
function protectedBackendNamed(pattern: string, libraries: ReadonlyMap<string, Library | undefined>): string | undefined {
	if (/[*?[]/.test(pattern) || pattern.startsWith('$')) {
		return undefined;
	}

	const named = pattern.includes('/') ? realPath(pattern) : undefined;
	return [...libraries.values()].find(library => library !== undefined
		&& (named === undefined ? path.basename(library.file) === pattern : realPath(library.file) === named))?.file;
}

/**
 * pdi's own core when an object pattern can name nothing else (its file name, which is its soname, or a path to it): the
 * core refuses a redefine that names it, and a relink or a callback under `protectPdi`, when the program starts. Named
 * by the path `pdi run` preloads, as the core names it.
 */
function pdiCoreNamed(pattern: string, backendDirectory: string): string | undefined {
	const core = path.join(backendDirectory, 'pdi-preload.so');
	if (/[*?[]/.test(pattern) || pattern.startsWith('$')) {
		return undefined;
	}

	return (pattern.includes('/') ? realPath(pattern) === realPath(core) : pattern === path.basename(core)) ? core : undefined;
}

/** The kernel's vDSO, whose slots the core never patches (it maps no GOT of its own to write): i386 names it linux-gate. */
const vdsoNames = new Set(['linux-vdso.so.1', 'linux-gate.so.1']);

/**
 * The rules whose object the core protects, as it refuses them when the program starts: pdi's own core and the vDSO
 * (for relinks and callbacks, which patch the object's own slots, and redefines, whose object names the definer: the
 * core never takes a definition of either, whatever `protectPdi` says) and, for every kind but act, a declared backend.
 */
function refuseProtectedObjects(config: NormalizedConfig, backendDirectory: string, libraries: ReadonlyMap<string, Library | undefined>, skipped: (index: number) => boolean, skip: (index: number, rule: NormalizedRule, message: string, field?: PlacedField) => void): void {
	for (const [index, rule] of config.rules.entries()) {
		if (skipped(index)) {
			continue;
		}

		const refusesCore = rule.kind === 'redefine' || (config.options.protectPdi && rule.kind !== 'act');
		const core = refusesCore ? pdiCoreNamed(rule.object, backendDirectory) : undefined;
		const backend = config.options.protectBackends && rule.kind !== 'act' ? protectedBackendNamed(rule.object, libraries) : undefined;
		if (core !== undefined) {
			skip(index, rule, `object ${core} ${config.options.protectPdi ? 'is pdi itself and donttouch_pdi (protectPdi) is on' : 'is pdi itself, whose definitions no redefine replaces'}`, 'object');
		} else if (rule.kind !== 'act' && vdsoNames.has(rule.object)) {
			skip(index, rule, `object ${rule.object} is the vDSO`, 'object');
		} else if (backend !== undefined) {
			skip(index, rule, `object ${backend} is a backend and donttouch_backends (protectBackends) is on`, 'object');
		}
	}
}

/**
 * Checks a config against this machine before anything runs, as the core would at start-up:
 * no option over the option that limits it and no callback handler without `cbAllowHandler` ({@link wholeConfigIssues}:
 * a config loaded with `deferChecks` leaves them here), every backend library exists and uses no `pdi_*` name outside {@link backendApi}, every wrapper is a function the backend defines (in its
 * `.dynsym`), every callback rule's backend has a pre or post hook (and names no handler of its
 * own, which the core does not support), no two rules conflict as written (the rule the core
 * applies when it starts: object patterns equal or `*`, and on them two relinks or two redefines
 * of one function with different wrappers, a callback and a relink, or two different callbacks;
 * act rules need no declared backend and conflict with none as written),
 * and the compiled text dialect reads back with the core's reader. Rules the core would skip take
 * no part in conflicts, and messages are worded as the core words them. Throws
 * a {@link ConfigError} at the place of the first problem and listing all of them; with `onError:
 * warn` the problems the core would skip are returned as warnings instead.
 */
export function verifyConfig(config: NormalizedConfig, options: VerifyOptions): VerifyResult {
	const findings: Finding[] = [];
	// A config given in memory has no places: its messages name the entry (`rules[1]: ...`), as the core's do.
	const placed = (message: string, origin: Origin | undefined, entry: string): ConfigIssue => ({message: origin === undefined ? `${entry}: ${message}` : message, file: origin?.file, line: origin?.line, column: origin?.column});
	const add = (message: string, origin: Origin | undefined, skips: Finding['skips'], entry: string) => {
		findings.push({...placed(message, origin, entry), skips});
	};

	// The options and handlers, which a config read with deferChecks leaves here (fatal whatever onError says).
	findings.push(...wholeConfigIssues(config).map(issue => ({...issue, skips: undefined})));
	const notes: ConfigIssue[] = [];
	const libraries = loadBackends(config, options, add, (message, origin, entry) => notes.push(placed(message, origin, entry)));
	const skipped = new Set<number>();
	const skip = (index: number, rule: NormalizedRule, message: string, field?: PlacedField) => {
		add(`${ruleName(rule)}: ${message}`, field === undefined ? rule.origin : fieldOrigin(rule, field), 'rule', entryName(rule, `rules[${index}]`));
		skipped.add(index);
	};

	for (const [index, rule] of config.rules.entries()) {
		if (rule.kind === 'act') {
			// The core loads the bundled act backend for act rules itself.
			continue;
		}

		if (!libraries.has(rule.backend)) {
			if (!config.options.allowUndeclaredWrappers) {
				add(`unknown backend '${rule.backend}'`, fieldOrigin(rule, 'backend'), undefined, entryName(rule, `rules[${index}]`));
			}

			continue;
		}

		const library = libraries.get(rule.backend);
		if (!library) {
			skipped.add(index);
			if (config.options.onError === 'warn') {
				skip(index, rule, `its backend '${rule.backend}' failed to load`, 'backend');
			}
		} else if (rule.kind !== 'callback') {
			if (library.variables.has(rule.wrapper)) {
				skip(index, rule, `wrapper ${quotedSymbol(rule.wrapper)} is a data object in ${rule.backend} (${library.file}), not a function`, 'wrapper');
			} else if (!library.symbols.has(rule.wrapper)) {
				skip(index, rule, `wrapper ${quotedSymbol(rule.wrapper)} is not defined by ${rule.backend} (${library.file})${cxxHint(library, rule.wrapper)}`, 'wrapper');
			}
		} else if (rule.handler !== undefined) {
			if (library.variables.has(rule.handler)) {
				skip(index, rule, `handler ${quotedSymbol(rule.handler)} is a data object in ${rule.backend} (${library.file}), not a function`, 'handler');
			} else if (!library.symbols.has(rule.handler)) {
				skip(index, rule, `handler ${quotedSymbol(rule.handler)} is not defined by ${rule.backend} (${library.file})`, 'handler');
			}
		} else if (!library.symbols.has('pdi_be_pre_cb') && !library.symbols.has('pdi_be_post_cb')) {
			skip(index, rule, `backend '${rule.backend}' defines neither PDI_BE_FUNC_PRE_CB nor PDI_BE_FUNC_POST_CB`, 'backend');
		}
	}

	refuseProtectedObjects(config, options.backendDirectory, libraries, index => skipped.has(index), skip);
	checkPairs(config.rules, skipped, skip);

	const warn = config.options.onError === 'warn';
	const fatal = findings.filter(finding => !warn || finding.skips === undefined);

	if (fatal.length > 0) {
		throw ConfigError.fromIssues(fatal.map(({skips: _, ...issue}) => issue));
	}

	readWithCore(config);
	return {warnings: [...notes, ...findings.map(({skips, ...issue}) => ({...issue, message: `${issue.message} (${skips ?? 'rule'} skipped)`}))]};
}
