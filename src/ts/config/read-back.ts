import {compileNormalizedConfig} from './compile.js';
import {ConfigError} from './config-error.js';
import {readNativeModel} from './native-model.js';
import type {NormalizedConfig} from './types.js';

/** How the core's messages name a compiled config that has no file of its own. */
const compiledName = '<compiled config>';

/** How the compiled text of a config given in memory names the entries its statements come from. */
const compiledEntry = /^(?:rules|backends)\[\d+\]$|^options\.\w+$/;

/**
 * Reads the compiled config back with the core's reader, which stops at its first problem (act rules: at all of theirs);
 * with `deferWhole`, leaving the option limits and handlers to the caller (`wholeConfigIssues()`).
 */
export function readBack(config: NormalizedConfig, deferWhole = false): void {
	try {
		readNativeModel(compileNormalizedConfig(config), compiledName, process.cwd(), false, deferWhole);
	} catch (error) {
		// A config given in memory has no file: the core names the entry a statement came from (its
		// `#@origin rules[I]`), which is no file either.
		const entry = error instanceof ConfigError && error.line === undefined && error.file !== undefined && compiledEntry.test(error.file) ? error.file : undefined;
		throw entry === undefined ? error : new ConfigError(`${entry}: ${(error as ConfigError).reason}`, {}, {cause: error});
	}
}
