import {existsSync, readdirSync} from 'node:fs';
import path from 'node:path';
import {PdiError} from './errors.js';
import {nativeDirectory} from './native/binding.js';
import {packageRoot} from './native/package-root.js';

/** Where pdi's native artifacts and public headers are on this machine. */
export type PdiPaths = {
	/** The preloadable core, for `LD_PRELOAD` (or AFL++'s `AFL_PRELOAD`). */
	readonly preload: string;
	/** The directory that holds the core, the addon and the bundled backends. */
	readonly nativeDirectory: string;
	/** Bundled backends by name (`noop` → `.../pdi-backend-noop.so`). */
	readonly backends: Readonly<Record<string, string>>;
	/** The directory to add with `-I` when building a backend (`#include <pdi/backend.h>`). */
	readonly include: string;
	/**
	 * The AFL++ custom mutator for comux files, next to the core: for `AFL_CUSTOM_MUTATOR_LIBRARY`, with
	 * `AFL_CUSTOM_MUTATOR_ONLY=1` (docs/comux-mutator.md). Not checked for existence.
	 */
	readonly comuxMutator: string;
	/** The program that loads the core into a running process for `pdi attach` (docs/attach.md). Not checked for existence. */
	readonly injector: string;
};

const backendPrefix = 'pdi-backend-';

function resolvePaths(): PdiPaths {
	const directory = nativeDirectory();
	const preload = path.join(directory, 'pdi-preload.so');
	if (!existsSync(preload)) {
		throw new PdiError(`the preload core is missing: expected ${preload} next to the addon; rebuild with \`npm rebuild pdi\``, {exitCode: 1});
	}

	const backends: Record<string, string> = {};
	for (const file of readdirSync(directory).sort()) {
		if (file.startsWith(backendPrefix) && file.endsWith('.so')) {
			backends[file.slice(backendPrefix.length, -'.so'.length)] = path.join(directory, file);
		}
	}

	return {
		preload,
		nativeDirectory: directory,
		backends,
		include: path.join(packageRoot(), 'include'),
		comuxMutator: path.join(directory, 'pdi-comux-mutator.so'),
		injector: path.join(directory, 'pdi-inject'),
	};
}

let cached: PdiPaths | undefined;

/** Resolves (once) and returns pdi's artifact paths; throws a {@link PdiError} naming the missing file. */
export function pdiPaths(): PdiPaths {
	cached ??= resolvePaths();
	return cached;
}

/**
 * pdi's artifact paths, resolved on first access:
 *
 * ```ts
 * import {paths} from 'pdi';
 * spawn('prog', {env: {LD_PRELOAD: paths.preload}});
 * ```
 */
export const paths: PdiPaths = {
	get preload() {
		return pdiPaths().preload;
	},
	get nativeDirectory() {
		return pdiPaths().nativeDirectory;
	},
	get backends() {
		return pdiPaths().backends;
	},
	get include() {
		return pdiPaths().include;
	},
	get comuxMutator() {
		return pdiPaths().comuxMutator;
	},
	get injector() {
		return pdiPaths().injector;
	},
};
