import {createHash} from 'node:crypto';
import {accessSync, chmodSync, constants, lstatSync, readlinkSync, renameSync, symlinkSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {PdiError} from '../errors.js';
import {pdiPaths} from '../paths.js';
import {type TemporaryDirectory, temporaryDirectory} from './temporary.js';

/** The core as `LD_PRELOAD` names it for one launch; see {@link loaderSafePreload}. */
export type PreloadPath = {
	/** What to put in `LD_PRELOAD`. */
	readonly preload: string;
	/**
	 * The private directory of a link made for this launch alone (`PDI_CORE_LINK`), only when the shared link could
	 * not be used.
	 */
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

/** The name of the link directory this user shares between launches of the pdi installed in `nativeDirectory`. */
export function sharedLinkName(nativeDirectory: string): string {
	const digest = createHash('sha256').update(nativeDirectory).digest('hex').slice(0, 16);
	return `pdi-core-link-${process.geteuid?.() ?? 0}-${digest}`;
}

/** Whether `directory` is this user's own, not a symbolic link, and writable by nobody else. */
function isOwnPrivateDirectory(directory: string): boolean {
	const stats = lstatSync(directory, {throwIfNoEntry: false});
	return stats !== undefined && stats.isDirectory() && stats.uid === process.geteuid?.() && (stats.mode & 0o022) === 0;
}

function linkTarget(link: string): string | undefined {
	try {
		return readlinkSync(link);
	} catch {
		return undefined;
	}
}

/** Makes `<directory>/native` (mode 0711 directory: a program that changes its user still passes through it). */
function fillLinkDirectory(directory: string, nativeDirectory: string): void {
	symlinkSync(nativeDirectory, path.join(directory, 'native'));
	// Searchable by every user, as pdi's install is: a program that changes its user (setpriv, su) still loads the
	// core, which then says why it cannot go on, instead of the loader's "cannot be preloaded".
	chmodSync(directory, 0o711);
}

/**
 * `<parent>/pdi-core-link-<uid>-<digest>/native`, made once and kept: a link removed when a launch ends broke
 * whatever still started from it (a program started just as Node exited, a daemon's later exec). Made in a launch
 * directory and renamed into place, so that launches running at once never see it half made; undefined when the
 * name is taken by something that is not this user's private directory linking to this install.
 */
function sharedLink(parent: string, nativeDirectory: string): string | undefined {
	const shared = path.join(parent, sharedLinkName(nativeDirectory));
	const link = path.join(shared, 'native');
	if (!isOwnPrivateDirectory(shared)) {
		if (lstatSync(shared, {throwIfNoEntry: false}) !== undefined) {
			return undefined;
		}

		const staging = temporaryDirectory('pdi-core-', parent);
		try {
			fillLinkDirectory(staging.path, nativeDirectory);
			renameSync(staging.path, shared);
		} catch {
			// Another launch made it first (ENOTEMPTY): its link is checked below like any other.
		} finally {
			staging.remove();
		}

		if (!isOwnPrivateDirectory(shared)) {
			return undefined;
		}
	}

	if (linkTarget(link) !== nativeDirectory) {
		return undefined;
	}

	return link;
}

function launchLink(parent: string, nativeDirectory: string): TemporaryDirectory {
	const directory = temporaryDirectory('pdi-core-', parent);
	fillLinkDirectory(directory.path, nativeDirectory);
	return directory;
}

/**
 * The core's path for `LD_PRELOAD`. When pdi is installed under a path the
 * loader would split or expand (a space, `:`, `$`, …), this is a symbolic
 * link to pdi's native directory in a directory whose path has none of those
 * characters (the system temporary directory, else `/tmp`, `/dev/shm` or
 * `/var/tmp`), so the core still finds the bundled backends next to itself.
 * The link is made once per user and install and kept (docs/launching.md);
 * only when its name is taken by something else is a link made for this
 * launch alone, which the caller removes when the launched program has exited.
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

	const shared = sharedLink(parent, nativeDirectory);
	if (shared !== undefined) {
		return {preload: path.join(shared, path.basename(preload)), remove() {}};
	}

	const directory = launchLink(parent, nativeDirectory);
	return {preload: path.join(directory.path, 'native', path.basename(preload)), linkDirectory: directory.path, remove: directory.remove};
}
