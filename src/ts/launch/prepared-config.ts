import {writeFileSync} from 'node:fs';
import path from 'node:path';
import {compileConfig, normalizeConfig, verifyConfig, type NormalizedConfig, type PdiConfig} from '../config/index.js';
import {pdiPaths} from '../paths.js';
import {temporaryDirectory} from './temporary.js';

/** A config compiled to the text dialect in a private temporary file, ready for `PDI_CONFIG`. */
export type PreparedConfig = {
	/** The compiled file (mode 0600, in a 0700 directory). */
	readonly file: string;
	/** Removes the file and its directory; safe to call twice. Done at the latest when the process exits. */
	remove(): void;
};

function isNormalized(config: PdiConfig | NormalizedConfig): config is NormalizedConfig {
	return (config as {normalized?: unknown}).normalized === true;
}

/** Normalizes (if needed), verifies against the backends on disk, compiles and writes `config`. */
export function prepareConfig(config: PdiConfig | NormalizedConfig): PreparedConfig {
	const normalized = isNormalized(config) ? config : normalizeConfig(config);
	const paths = pdiPaths();
	verifyConfig(normalized, {backendDirectory: paths.nativeDirectory, bundled: paths.backends});
	const text = compileConfig(normalized);
	const directory = temporaryDirectory('pdi-run-');
	try {
		const file = path.join(directory.path, 'pdi.cfg');
		writeFileSync(file, text, {mode: 0o600});
		return {file, remove: directory.remove};
	} catch (error) {
		directory.remove();
		throw error;
	}
}
