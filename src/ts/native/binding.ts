import {createRequire} from 'node:module';
import path from 'node:path';
import {PdiError} from '../errors.js';
import {packageRoot} from './package-root.js';

/** A report produced by the native core: JSON text plus how many objects matched the pattern. */
export type NativeReport = {matched: number; json: string};

/** The surface of the `.node` addon (src/native/addon/addon.cc). */
export type NativeBinding = {
	arch: string;
	objects(): NativeReport;
	imports(pattern: string): NativeReport;
	exports(pattern: string): NativeReport;
	/**
	 * Opens a session from a compiled config file; returns an opaque handle. `variables` are set in the real
	 * environment (where backends read them) while the session opens, then put back.
	 */
	interpose(configFile: string, variables?: Record<string, string>): unknown;
	uninterpose(handle: unknown): void;
	/**
	 * Runs the native reader of the text dialect on `text`, named `name` (included and command
	 * files are read from disk, relative paths start at `directory`); returns its JSON
	 * (`{"config": ...}` or `{"error": ...}`). With `merging`, a rule's backend need not be declared
	 * (another config of the same merge may declare it). With `deferWhole`, an option over its limit and a callback
	 * handler without cbAllowHandler are left to the caller when every statement reads (`PDI_CONFIG_DEFER_WHOLE`).
	 */
	readConfig(name: string, text: string, directory: string, merging?: boolean, deferWhole?: boolean): string;
	/**
	 * Starts a native thread reading the rings of `directory`: JSON lines to `fd`, or queued (fd -1) up to `queueLimit` bytes
	 * (0: no limit; past it the writers wait, or with `dropOverLimit` their calls are dropped and counted lost); or counts per call site ('summary').
	 */
	traceDrainStart(directory: string, format: 'json' | 'text' | 'summary', fd: number, queueLimit: number, dropOverLimit?: boolean, more?: {time?: boolean; timestamp?: boolean; noticeFd?: number; held?: boolean}): unknown;
	/** A drain started `held` starts reading. */
	traceDrainRelease(handle: unknown): void;
	/** What waits in a drain's queue, or null. */
	traceDrainTake(handle: unknown, limit?: number): Buffer | null;
	/** While `quiet`, the calling thread's calls are not recorded in this process's own ring (observe(): they are the delivery's). */
	traceDrainQuiet(handle: unknown, quiet: boolean): void;
	/** While the drain runs: the errno of its output's first failed write, or 0. */
	traceDrainWriteErrno(handle: unknown): number;
	/** Asks the drain to read what is left in every ring, write it and end; returns at once. */
	traceDrainStop(handle: unknown): void;
	/** Whether the drain has read and written everything since traceDrainStop. */
	traceDrainStopped(handle: unknown): boolean;
	/** Nothing more is written (writeErrno becomes ECANCELED); a write that waits for a reader is interrupted. */
	traceDrainAbandon(handle: unknown): void;
	/** Stops the drain after a last read of every ring. */
	traceDrainFinish(handle: unknown): {
		losses: Array<{pid: number; lost: number; damagedAt?: number}>;
		writeError: string | null;
		/** The errno of the failed write, 0 without one. */
		writeErrno: number;
		/** A 'summary' drain's counts, one entry per call site. */
		counts: Array<{pid: number; function: string; calls: number; errors: number; totalNs: number}>;
		/** Each ring's program (its writer's `/proc/self/exe`, '' when unknown), as the drain opened them; `openedNs` orders one pid's images. */
		programs: Array<{pid: number; openedNs: number; program: string}>;
	};
	traceDrainFree(handle: unknown): void;
	/** Takes observe()'s one observation of the process (true: it was free), or frees it (false); shared by every worker thread. */
	claimObservation(claim: boolean): boolean;
	/** While `owned`, `path` is removed (with everything in it) should this thread's environment end first: a worker that ends without close(). */
	ownDirectory(path: string, owned: boolean): void;
	/** Why the callback mechanism never gives `name` a stub (`it does not return to its caller`), or null (src/native/callback/never-stubbed.h). */
	neverStubbedReason(name: string): string | null;
	/** From now on notes the si_code of these signals in front of Node's handler for them (src/native/addon/signal-senders.c). */
	watchSignalSenders(signals: number[]): void;
	/** The si_code of the last such signal since the last call (128, SI_KERNEL: the terminal's), or null. */
	signalSender(signal: number): number | null;
	/** The signal that stopped child `pid`, once per stop (waitid WSTOPPED, its exit left to Node), or null. */
	childStopSignal(pid: number): number | null;
	/** After a launched program ended: the warnings of the rules that met nothing in any of its processes, when none of them could say them (src/native/session/verdicts.c); true when said here. */
	reportRuleVerdicts(configFile: string): boolean;
	/** The bytes of the file's `security.capability` attribute (struct vfs_cap_data), or null when it has none. */
	fileCapabilities(path: string): Buffer | null;
	/** Whether another open file holds a lock (flock) on the file that a shared one conflicts with. */
	lockHeld(path: string): boolean;
	/** A new pipe's read and write descriptors, both close-on-exec; throws when the process is out of descriptors. */
	pipe(): [number, number];
};

type NodeGypBuild = ((directory: string) => unknown) & {path(directory: string): string};

const require = createRequire(import.meta.url);
let loaded: {binding: NativeBinding; directory: string} | undefined;

function load(): {binding: NativeBinding; directory: string} {
	if (loaded) {
		return loaded;
	}

	const root = packageRoot();
	const nodeGypBuild = require('node-gyp-build') as NodeGypBuild;
	let addonPath: string;
	try {
		addonPath = nodeGypBuild.path(root);
	} catch (error) {
		// node-gyp-build says what it looked for on its first line ("No native build was found for platform=linux
		// arch=x64 ..."), then where, which the message already names.
		const wanted = String((error as Error).message).split('\n')[0]!.replace(/^No native build was found for /, '').trim();
		throw new PdiError(
			`no native build of pdi was found in ${root} (for ${wanted}). `
			+ 'npm may have skipped the install script: run `npm install-scripts approve pdi` and `npm rebuild pdi`, or build from a checkout with `npm install`.',
			{exitCode: 1, cause: error},
		);
	}

	let binding: NativeBinding;
	try {
		binding = require(addonPath) as NativeBinding;
	} catch (error) {
		// Most often a prebuild made for a newer C library than this system's (`GLIBC_2.34' not found): one line, and the way out.
		const reason = String((error as Error).message).split('\n')[0]!;
		throw new PdiError(
			`the native build of pdi in ${path.dirname(addonPath)} could not be loaded: ${reason}. `
			+ 'pdi\'s prebuilds need glibc 2.34 or later; to build it on this system instead: `npm_config_build_from_source=true npm rebuild pdi` (README, "Requirements").',
			{exitCode: 1, cause: error},
		);
	}

	loaded = {binding, directory: path.dirname(addonPath)};
	return loaded;
}

/** The loaded addon. */
export function nativeBinding(): NativeBinding {
	return load().binding;
}

/** The directory the addon was loaded from (`build/Release` or `prebuilds/linux-<arch>`); every other native artifact sits next to it. */
export function nativeDirectory(): string {
	return load().directory;
}
