import {statSync} from 'node:fs';
import path from 'node:path';
import {definedDynamicSymbols} from '../elf/dynsym.js';
import {compileConfig} from './compile.js';
import {ConfigError, formatPlace, type ConfigIssue, type Origin} from './config-error.js';
import type {NormalizedConfig, NormalizedRule} from './schema.js';
import {readNamedText} from './text-dialect.js';

/** Where {@link verifyConfig} looks for backends: as the core does on this machine. */
export type VerifyOptions = {
	/** The directory of the bundled backends (`paths.nativeDirectory`), searched first for file names. */
	backendDirectory: string;
	/** The bundled backends by name (`paths.backends`). */
	bundled: Readonly<Record<string, string>>;
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

/**
 * Finds a backend library the way the core does: a bundled name is the bundled file, an absolute
 * path is itself, a file name is the first that exists of the bundled directory and then each
 * `backendPath` directory.
 */
export function resolveBackendLibrary(library: string, backendPath: readonly string[], options: VerifyOptions): ResolvedLibrary {
	const bundled = Object.hasOwn(options.bundled, library) ? options.bundled[library] : undefined;
	if (bundled !== undefined) {
		return isFile(bundled) ? {file: bundled, searched: [bundled]} : {file: undefined, searched: [bundled]};
	}

	const candidates = library.includes('/')
		? [path.resolve(library)]
		: [options.backendDirectory, ...backendPath].map(directory => path.join(directory, library));
	return {file: candidates.find(candidate => isFile(candidate)), searched: candidates};
}

function describe(rule: NormalizedRule, index: number): string {
	return `${rule.kind} at ${rule.origin ? formatPlace({file: rule.origin.file, line: rule.origin.line}) : `rules[${index}]`}`;
}

/** How two rules conflict (they patch the same slots differently), or undefined. */
function conflictOf(earlier: NormalizedRule, later: NormalizedRule): string | undefined {
	if (earlier.object !== later.object) {
		return undefined;
	}

	if (earlier.kind === 'callback' && later.kind === 'callback') {
		return earlier.backend === later.backend && earlier.handler === later.handler ? undefined : `both route every import of ${later.object}`;
	}

	if (earlier.kind === 'callback' || later.kind === 'callback') {
		const replacing = earlier.kind === 'callback' ? later : earlier;
		return replacing.kind === 'callback' ? undefined : `both patch ${replacing.function} in ${later.object}`;
	}

	if (earlier.function !== later.function || (earlier.backend === later.backend && earlier.wrapper === later.wrapper)) {
		return undefined;
	}

	return `both replace ${later.function} in ${later.object}`;
}

/** What {@link verifyConfig} found that does not stop the config. */
export type VerifyResult = {
	/**
	 * Install-time problems (a backend that cannot be loaded, a wrapper it does not define, rules
	 * in conflict) that the core logs and skips because `onError` is `warn`; each message ends in
	 * `(backend skipped)` or `(rule skipped)`.
	 */
	warnings: ConfigIssue[];
};

type Finding = ConfigIssue & {skips: 'backend' | 'rule' | undefined};

/**
 * Checks a config against this machine before anything runs, as the core would at start-up:
 * every backend library exists, every wrapper is a function the backend defines (in its
 * `.dynsym`), every callback rule's backend has a pre or post hook (and names no handler of its
 * own, which the core does not support), no two rules patch the same slot differently (two relink/redefine rules on the
 * same object pattern and function with different wrappers, or a callback and another rule on the
 * same object pattern), and the compiled text dialect reads back with the core's reader. Throws
 * a {@link ConfigError} at the place of the first problem and listing all of them; with `onError:
 * warn` the problems the core would skip are returned as warnings instead.
 */
export function verifyConfig(config: NormalizedConfig, options: VerifyOptions): VerifyResult {
	const findings: Finding[] = [];
	const add = (message: string, origin: Origin | undefined, skips: Finding['skips']) => {
		findings.push({message, file: origin?.file, line: origin?.line, column: origin?.column, skips});
	};

	const libraries = new Map<string, {file: string; symbols: Set<string>} | undefined>();
	for (const backend of config.backends) {
		const resolved = resolveBackendLibrary(backend.library, config.options.backendPath, options);
		if (resolved.file === undefined) {
			const bundledNote = backend.library.includes('/') || backend.library.endsWith('.so') ? '' : ` (bundled backends: ${Object.keys(options.bundled).join(', ') || 'none'})`;
			add(`backend '${backend.name}': library '${backend.library}' not found (searched: ${resolved.searched.join(', ')})${bundledNote}`, backend.origin, 'backend');
			libraries.set(backend.name, undefined);
			continue;
		}

		try {
			libraries.set(backend.name, {file: resolved.file, symbols: definedDynamicSymbols(resolved.file)});
		} catch (error) {
			add(`backend '${backend.name}': ${(error as Error).message}`, backend.origin, 'backend');
			libraries.set(backend.name, undefined);
		}
	}

	for (const rule of config.rules) {
		if (!libraries.has(rule.backend)) {
			if (!config.options.allowLibAsBe) {
				add(`unknown backend '${rule.backend}'`, rule.origin, undefined);
			}

			continue;
		}

		const library = libraries.get(rule.backend);
		if (!library) {
			if (config.options.onError === 'warn') {
				add(`${rule.kind} ${rule.kind === 'callback' ? rule.object : rule.function}: its backend '${rule.backend}' failed to load`, rule.origin, 'rule');
			}

			continue;
		}

		if (rule.kind !== 'callback') {
			if (!library.symbols.has(rule.wrapper)) {
				add(`wrapper '${rule.wrapper}' is not defined by backend '${rule.backend}' (${library.file})`, rule.origin, 'rule');
			}
		} else if (rule.handler !== undefined) {
			add(`handler '${rule.handler}': this version of pdi has only the generic callback handler`, rule.origin, 'rule');
		} else if (!library.symbols.has('pdi_be_pre_cb') && !library.symbols.has('pdi_be_post_cb')) {
			add(`backend '${rule.backend}' defines neither PDI_BE_FUNC_PRE_CB nor PDI_BE_FUNC_POST_CB (${library.file})`, rule.origin, 'rule');
		}
	}

	for (const [index, rule] of config.rules.entries()) {
		for (const [earlierIndex, earlier] of config.rules.slice(0, index).entries()) {
			const conflict = conflictOf(earlier, rule);
			if (conflict) {
				add(`conflicting rules: ${describe(earlier, earlierIndex)} and ${describe(rule, index)} ${conflict}`, rule.origin, 'rule');
				break;
			}
		}
	}

	const warn = config.options.onError === 'warn';
	const fatal = findings.filter(finding => !warn || finding.skips === undefined);
	if (fatal.length > 0) {
		throw ConfigError.fromIssues(fatal.map(({skips: _, ...issue}) => issue));
	}

	readNamedText(compileConfig(config), '<compiled config>', process.cwd());
	return {warnings: findings.map(({skips, ...issue}) => ({...issue, message: `${issue.message} (${skips ?? 'rule'} skipped)`}))};
}
