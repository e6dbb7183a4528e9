import {writeFileSync} from 'node:fs';
import path from 'node:path';
import {isNormalizedConfig} from '../config/built.js';
import {compileNormalizedConfig} from '../config/compile.js';
import type {NormalizedConfig, PdiConfigInput} from '../config/schema.js';
import {verifyConfig} from '../config/verify.js';
import {pdiPaths} from '../paths.js';
import {temporaryDirectory} from './temporary.js';

/** A config compiled to the text dialect in a private temporary file, ready for `PDI_CONFIG`. */
export type PreparedConfig = {
	/** The compiled file (mode 0600, in a 0700 directory). */
	readonly file: string;
	/** The config that was compiled, normalized. */
	readonly config: NormalizedConfig;
	/** Removes the file and its directory; safe to call twice. Done at the latest when the process exits. */
	remove(): void;
};

/** The config of a launch: `files` loaded and merged in order, then `config`; undefined when there is none. */
export async function launchConfig(files: readonly string[] = [], config?: PdiConfigInput | NormalizedConfig): Promise<NormalizedConfig | undefined> {
	if (files.length === 0 && (config === undefined || isNormalizedConfig(config))) {
		return config;
	}

	// The schema and the readers only when there is something to read or check.
	const {loadConfig, mergeConfigs, normalizeConfig} = await import('../config/load.js');
	// Merged: a rule may use a backend another file declares; verifyConfig() checks that after the merge.
	const configs = await Promise.all(files.map(async file => loadConfig(file, {merging: true})));
	if (config !== undefined) {
		configs.push(isNormalizedConfig(config) ? config : normalizeConfig(config));
	}

	return configs.length > 0 ? mergeConfigs(configs) : undefined;
}

/** Verifies `normalized` against the backends on disk, compiles and writes it. */
export function prepareConfig(normalized: NormalizedConfig): PreparedConfig {
	const paths = pdiPaths();
	verifyConfig(normalized, {backendDirectory: paths.nativeDirectory, bundled: paths.backends});
	const text = compileNormalizedConfig(normalized);
	const directory = temporaryDirectory('pdi-run-');
	try {
		const file = path.join(directory.path, 'pdi.cfg');
		writeFileSync(file, text, {mode: 0o600});
		return {file, config: normalized, remove: directory.remove};
	} catch (error) {
		directory.remove();
		throw error;
	}
}
