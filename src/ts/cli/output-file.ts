import {accessSync, constants, statSync} from 'node:fs';
import path from 'node:path';
import {fileSystemReason, PdiError} from '../errors.js';

function failure(file: string, error: unknown): PdiError {
	return new PdiError(`${file}: ${fileSystemReason(error)}`, {cause: error});
}

/**
 * Refuses, before any work is done, an output file that cannot be written:
 * one line `FILE: reason` (exit status 2), the way a shell reports `> FILE`.
 * Nothing is created.
 */
export function checkOutputFile(file: string): void {
	const absolute = path.resolve(file);
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
}
