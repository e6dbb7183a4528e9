import {mkdirSync, mkdtempSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {ConfigError, loadConfig} from '../../src/ts/config/index.js';

/** Writes `files` (relative names → contents) into a fresh temporary directory and returns it. */
export function writeFiles(files: Record<string, string>, prefix = 'pdi-test-'): string {
	const directory = mkdtempSync(path.join(tmpdir(), prefix));
	for (const [name, text] of Object.entries(files)) {
		mkdirSync(path.dirname(path.join(directory, name)), {recursive: true});
		writeFileSync(path.join(directory, name), text);
	}

	return directory;
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
