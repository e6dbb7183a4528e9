import {accessSync, chmodSync, constants, mkdtempSync, rmSync, statfsSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {fileSystemReason, PdiError} from '../errors.js';

/** A private temporary directory (mode 0700) that pdi removes itself. */
export type TemporaryDirectory = {
	readonly path: string;
	/** Removes the directory and everything in it; safe to call twice. */
	remove: () => void;
};

const live = new Set<string>();
let exitHookInstalled = false;

/** Removes every temporary directory this process made and has not removed yet. */
export function removeTemporaryDirectories(): void {
	for (const directory of live) {
		rmSync(directory, {recursive: true, force: true});
	}

	live.clear();
}

/**
 * Makes `<parent>/<prefix>XXXXXX` (parent: the system temporary directory).
 * Whatever is still there when the process exits is removed then.
 */
export function temporaryDirectory(prefix: string, parent = tmpdir()): TemporaryDirectory {
	let directory: string;
	try {
		directory = mkdtempSync(path.join(parent, prefix));
	} catch (error) {
		throw new PdiError(`${parent}: cannot make a temporary directory there: ${fileSystemReason(error)} (set TMPDIR to a writable directory)`, {cause: error});
	}

	chmodSync(directory, 0o700);
	live.add(directory);
	if (!exitHookInstalled) {
		exitHookInstalled = true;
		process.on('exit', removeTemporaryDirectories);
	}

	return {
		path: directory,
		remove() {
			if (live.delete(directory)) {
				rmSync(directory, {recursive: true, force: true});
			}
		},
	};
}

const tmpfsMagic = 0x01_02_19_94;

/**
 * `/dev/shm` when it is a writable tmpfs, else the system temporary directory:
 * for scratch files that other users' processes must reach (a private TMPDIR
 * is closed to them) and that are rewritten often (never written to a disk).
 */
export function sharedMemoryParent(): string {
	try {
		accessSync('/dev/shm', constants.W_OK);
		if (statfsSync('/dev/shm').type === tmpfsMagic) {
			return '/dev/shm';
		}
	} catch {}

	return tmpdir();
}
