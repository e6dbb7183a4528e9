import {writeFileSync} from 'node:fs';
import path from 'node:path';
import {
	compileConfig,
	isNormalizedConfig,
	loadConfig,
	mergeConfigs,
	normalizeConfig,
	verifyConfig,
	type NormalizedConfig,
	type PdiConfig,
} from '../config/index.js';
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
export async function launchConfig(files: readonly string[] = [], config?: PdiConfig | NormalizedConfig): Promise<NormalizedConfig | undefined> {
	const configs = await Promise.all(files.map(async file => loadConfig(file)));
	if (config !== undefined) {
		configs.push(isNormalizedConfig(config) ? config : normalizeConfig(config));
	}

	return configs.length > 0 ? mergeConfigs(configs) : undefined;
}

/** Normalizes (if needed), verifies against the backends on disk, compiles and writes `config`. */
export function prepareConfig(config: PdiConfig | NormalizedConfig): PreparedConfig {
	const normalized = isNormalizedConfig(config) ? config : normalizeConfig(config);
	const paths = pdiPaths();
	verifyConfig(normalized, {backendDirectory: paths.nativeDirectory, bundled: paths.backends});
	const text = compileConfig(normalized);
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
