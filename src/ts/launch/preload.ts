import {accessSync, chmodSync, constants, symlinkSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {PdiError} from '../errors.js';
import {pdiPaths} from '../paths.js';
import {temporaryDirectory} from './temporary.js';

/** The core as `LD_PRELOAD` names it for one launch; see {@link loaderSafePreload}. */
export type PreloadPath = {
	/** What to put in `LD_PRELOAD`. */
	readonly preload: string;
	/** The private directory of the link made for this launch, if any (`PDI_CORE_LINK`). */
	readonly linkDirectory?: string;
	/** Removes the link made for this launch, if any; safe to call twice. */
	remove(): void;
};

/**
 * Characters the dynamic loader reads literally in an `LD_PRELOAD` entry: it
 * splits the list on spaces and colons and expands `$ORIGIN`-style tokens.
 */
const loaderSafe = /^[\w./+,@%=-]+$/;

/** Whether `file` can be written into `LD_PRELOAD` as it is. */
export function isLoaderSafe(file: string): boolean {
	return loaderSafe.test(file);
}

function writableDirectory(directory: string): boolean {
	try {
		accessSync(directory, constants.W_OK | constants.X_OK);
		return true;
	} catch {
		return false;
	}
}

/**
 * The core's path for `LD_PRELOAD`. When pdi is installed under a path the
 * loader would split or expand (a space, `:`, `$`, …), this is a symbolic
 * link to pdi's native directory inside a private temporary directory whose
 * path has none of those characters (the system temporary directory, else
 * `/tmp`, `/dev/shm` or `/var/tmp`), so the core still finds the bundled
 * backends next to itself. The caller removes the link when the launched
 * program has exited.
 */
export function loaderSafePreload(): PreloadPath {
	const {preload, nativeDirectory} = pdiPaths();
	if (isLoaderSafe(preload)) {
		return {preload, remove() {}};
	}

	// TMPDIR made absolute first, as the link's directory will be: a relative one under a directory with a blank
	// passed the check and gave a link the loader split (the program ran without pdi, only the loader's word said so).
	const parent = [path.resolve(tmpdir()), '/tmp', '/dev/shm', '/var/tmp'].find(directory => isLoaderSafe(directory) && writableDirectory(directory));
	if (parent === undefined) {
		throw new PdiError(`${preload}: the dynamic loader cannot preload this path (it has a space, ':' or '$'), and no writable temporary directory without them was found for a link to it; set TMPDIR to one`);
	}

	const directory = temporaryDirectory('pdi-core-', parent);
	const link = path.join(directory.path, 'native');
	symlinkSync(nativeDirectory, link);
	// Searchable by every user, as pdi's install is: a program that changes its user (setpriv, su) still loads the
	// core, which then says why it cannot go on, instead of the loader's "cannot be preloaded".
	chmodSync(directory.path, 0o711);
	return {preload: path.join(link, path.basename(preload)), linkDirectory: directory.path, remove: directory.remove};
}
