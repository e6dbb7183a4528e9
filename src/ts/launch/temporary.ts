import {accessSync, chmodSync, constants, lstatSync, mkdtempSync, readdirSync, readlinkSync, rmSync, statfsSync} from 'node:fs';
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

/**
 * Removes a temporary directory, never throwing: a program that outlives pdi may still make files in it (a traced
 * program's event ring, when Node exits at once), which makes the removal fail with ENOTEMPTY after a few tries; what
 * stays is swept by the next pdi ({@link sweepLeftovers}). Before, Node printed its stack trace as it exited.
 */
function removeDirectory(directory: string): void {
	try {
		rmSync(directory, {recursive: true, force: true, maxRetries: 3, retryDelay: 20});
	} catch {}
}

/** Removes every temporary directory this process made and has not removed yet. */
export function removeTemporaryDirectories(): void {
	for (const directory of live) {
		removeDirectory(directory);
	}

	live.clear();
}

/** This process's PID namespace (the inode of /proc/self/ns/pid, base 36), or undefined without /proc. */
function pidNamespace(): string | undefined {
	try {
		const inode = /^pid:\[(\d+)\]$/.exec(readlinkSync('/proc/self/ns/pid'))?.[1];
		return inode === undefined ? undefined : Number(inode).toString(36);
	} catch {
		return undefined;
	}
}

const namespace = pidNamespace();
/** The name of a directory {@link temporaryDirectory} makes: prefix, maker's PID and PID namespace, mkdtemp's six characters. */
const ownedName = /^pdi-[a-z]+(?:-[a-z]+)*-(\d+)_([\da-z]+)_[A-Za-z\d]{6}$/;
const swept = new Set<string>();

function isRunning(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch (error) {
		return (error as NodeJS.ErrnoException).code !== 'ESRCH';
	}
}

/**
 * Removes, once per process and parent, the directories of this user in `parent` that a pdi process made and could
 * not remove (ended by SIGKILL, the OOM killer, a CI timeout): those whose maker, named by PID in their name, no
 * longer runs. A directory of another PID namespace (a container sharing /tmp) is left alone, as its maker cannot
 * be seen from here, and so is every one when this process cannot tell its own namespace.
 */
function sweepLeftovers(parent: string): void {
	if (namespace === undefined || swept.has(parent)) {
		return;
	}

	swept.add(parent);
	let names: string[];
	try {
		names = readdirSync(parent);
	} catch {
		return;
	}

	const uid = process.getuid?.();
	for (const name of names) {
		const match = ownedName.exec(name);
		if (match?.[2] !== namespace || Number(match[1]) === process.pid || isRunning(Number(match[1]))) {
			continue;
		}

		// One that cannot be removed (another sweeper's at the same time, a file made read-only in it) stops no other.
		try {
			const entry = path.join(parent, name);
			const stats = lstatSync(entry, {throwIfNoEntry: false});
			if (stats?.isDirectory() && stats.uid === uid) {
				rmSync(entry, {recursive: true, force: true});
			}
		} catch {}
	}
}

/**
 * Makes `<given>/<prefix><pid>_<namespace>_XXXXXX` (given: the system temporary directory; made absolute).
 * Whatever is still there when the process exits is removed then; what a pdi process killed by SIGKILL left behind
 * is removed by the next one that makes a directory in the same parent ({@link sweepLeftovers}).
 */
export function temporaryDirectory(prefix: string, given = tmpdir()): TemporaryDirectory {
	// Absolute: the paths go to the program (PDI_CONFIG, LD_PRELOAD), which may change its directory before it executes
	// another (`TMPDIR=tmp` gave `PDI_CONFIG=tmp/pdi-run-.../pdi.cfg`, gone for a child of a daemon that ran `cd /`).
	const parent = path.isAbsolute(given) ? given : path.resolve(given);
	sweepLeftovers(parent);
	let directory: string;
	try {
		directory = mkdtempSync(path.join(parent, `${prefix}${process.pid}_${namespace ?? '0'}_`));
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
				removeDirectory(directory);
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

	return path.resolve(tmpdir());
}
