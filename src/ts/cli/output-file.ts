import {accessSync, closeSync, constants, fstatSync, ftruncateSync, openSync, statSync, writeFileSync, writeSync} from 'node:fs';
import {setTimeout as delay} from 'node:timers/promises';
import path from 'node:path';
import {fileSystemReason, PdiError} from '../errors.js';
import {resolveKeepingSlash} from '../resolve-path.js';

function failure(file: string, error: unknown): PdiError {
	return new PdiError(`${file}: ${fileSystemReason(error)}`, {cause: error});
}

/** `-o -`: standard output, as `-` is standard input for the commands that read a file (it made a file named `-`). */
export const standardOutput = '-';

/**
 * Refuses, before any work is done, an output file that cannot be written:
 * one line `FILE: reason` (exit status 2), the way a shell reports `> FILE`.
 * Nothing is created.
 */
export function checkOutputFile(file: string): void {
	if (file === standardOutput) {
		return;
	}

	const absolute = resolveKeepingSlash(file);
	try {
		if (statSync(absolute).isDirectory()) {
			throw new PdiError(`${file}: is a directory`);
		}

		accessSync(absolute, constants.W_OK);
		return;
	} catch (error) {
		if (error instanceof PdiError) {
			throw error;
		}

		if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
			throw failure(file, error);
		}
	}

	try {
		const directory = path.dirname(absolute);
		if (!statSync(directory).isDirectory()) {
			throw new PdiError(`${file}: not a directory`);
		}

		accessSync(directory, constants.W_OK | constants.X_OK);
	} catch (error) {
		throw error instanceof PdiError ? error : failure(file, error);
	}

	// No new file is made by a name that ends in a slash: open() says so, and the shell's `> new/`.
	if (absolute.endsWith('/')) {
		throw new PdiError(`${file}: is a directory`);
	}
}

/** A non-blocking descriptor on the named pipe `fifo` for writing, once it has a reader: waited for through the event loop. */
async function openWhenRead(fifo: string): Promise<number> {
	for (;;) {
		try {
			return openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code !== 'ENXIO') {
				throw error;
			}
		}

		await delay(20); // no reader yet
	}
}

/**
 * Writes `data` to the output file `file` (`-o FILE`), one line `FILE: reason` when it fails. A named pipe is opened
 * without blocking and written through the event loop: a blocking open waits for a reader in the main thread, where
 * SIGINT and SIGTERM never reach pdi's handlers (`pdi inspect -o FIFO` without a reader stayed for ever). pdi waits
 * for a reader as a shell's `> FIFO` does, and a signal ends it meanwhile.
 */
export async function writeOutputFile(file: string, data: string | Uint8Array): Promise<void> {
	if (file === standardOutput) {
		process.stdout.write(data);
		return;
	}

	try {
		if (!statSync(file, {throwIfNoEntry: false})?.isFIFO()) {
			writeFileSync(file, data);
			return;
		}

		const fd = await openWhenRead(file);
		try {
			const bytes = typeof data === 'string' ? Buffer.from(data) : data;
			for (let written = 0; written < bytes.length;) {
				try {
					written += writeSync(fd, bytes, written);
				} catch (error) {
					if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') {
						throw error;
					}

					await delay(5); // the pipe is full: its reader has not read yet
				}
			}
		} finally {
			closeSync(fd);
		}
	} catch (error) {
		throw error instanceof PdiError ? error : failure(file, error);
	}
}

/**
 * Opens the output file `file` for a writer that keeps it (`pdi trace -o FILE`, whose reader thread writes to the
 * descriptor): created or truncated, mode 0644; with `truncate: false` a file is left whole until
 * {@link truncateOutput} (pdi trace empties it only once it traces: a refused attach or a missing program left an
 * earlier trace there empty). A named pipe is waited for as writeOutputFile waits, through the event
 * loop, so that SIGINT, SIGTERM and SIGHUP end pdi meanwhile; once a reader has it open, it is opened again blocking
 * (at once, the reader being there), since the writer thread expects blocking writes.
 */
export async function openOutputDescriptor(file: string, {truncate = true} = {}): Promise<number> {
	const absolute = path.resolve(file);
	try {
		if (!statSync(absolute, {throwIfNoEntry: false})?.isFIFO()) {
			return openSync(absolute, truncate ? 'w' : constants.O_WRONLY | constants.O_CREAT, 0o644);
		}

		const probe = await openWhenRead(absolute);
		try {
			return openSync(absolute, constants.O_WRONLY);
		} finally {
			closeSync(probe);
		}
	} catch (error) {
		throw error instanceof PdiError ? error : failure(file, error);
	}
}

/** Empties the regular file open at `fd` (an output opened with `truncate: false`, once it is sure to be written). */
export function truncateOutput(fd: number | undefined): void {
	if (fd !== undefined && fstatSync(fd).isFile()) {
		ftruncateSync(fd, 0);
	}
}
