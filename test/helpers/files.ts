import {execFileSync} from 'node:child_process';
import {mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {ConfigError, loadConfig} from '../../src/ts/config/index.js';

const scratchDirectories = new Set<string>();

/** Removes every directory made by {@link scratchDirectory} in this test file. */
export function removeScratchDirectories(): void {
	for (const directory of scratchDirectories) {
		rmSync(directory, {recursive: true, force: true});
	}

	scratchDirectories.clear();
}

/**
 * A fresh directory in the temporary directory, removed when the test file's
 * process exits (ava runs each file in its own process), passed or failed.
 */
export function scratchDirectory(prefix = 'pdi-test-'): string {
	const directory = mkdtempSync(path.join(tmpdir(), prefix));
	if (scratchDirectories.size === 0) {
		process.once('exit', removeScratchDirectories);
	}

	scratchDirectories.add(directory);
	return directory;
}

/** Writes `files` (relative names → contents) into a fresh scratch directory and returns it. */
export function writeFiles(files: Record<string, string>, prefix = 'pdi-test-'): string {
	const directory = scratchDirectory(prefix);
	for (const [name, text] of Object.entries(files)) {
		mkdirSync(path.dirname(path.join(directory, name)), {recursive: true});
		writeFileSync(path.join(directory, name), text);
	}

	return directory;
}

/** Whether `name` is the link directory pdi installed under a path with a blank keeps in the temporary directory (docs/launching.md). */
export function isSharedCoreLink(name: string): boolean {
	return /^pdi-core-link-\d+-[\da-f]{16}$/.test(name);
}

/** The entries of a temporary directory, without the link directory pdi installed under a path with a blank keeps there (docs/launching.md). */
export function temporaryEntries(directory: string): string[] {
	return readdirSync(directory).filter(name => !isSharedCoreLink(name));
}

/** The ConfigError that `run` must throw. */
export function configError(run: () => unknown): ConfigError {
	try {
		run();
	} catch (error) {
		if (error instanceof ConfigError) {
			return error;
		}

		throw error;
	}

	throw new Error('no ConfigError was thrown');
}

/** The ConfigError that loading `file` must throw. */
export async function loadError(file: string): Promise<ConfigError> {
	return loadConfig(file).then(
		() => {
			throw new Error(`${file} loaded without an error`);
		},
		(error: unknown) => {
			if (!(error instanceof ConfigError)) {
				throw error;
			}

			return error;
		},
	);
}

/** Writes `source` as `NAME.c` in `directory` and builds `directory/NAME` from it with gcc and `options` (`-shared -fPIC`, libraries); returns its path. */
export function compileC(directory: string, name: string, source: string, options: readonly string[] = []): string {
	const file = path.join(directory, `${name}.c`);
	writeFileSync(file, source);
	const output = path.join(directory, name);
	execFileSync('gcc', ['-o', output, file, ...options]);
	return output;
}
