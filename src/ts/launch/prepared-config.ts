import {chmodSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {compileConfig, normalizeConfig, verifyConfig, type NormalizedConfig, type PdiConfig} from '../config/index.js';
import {pdiPaths} from '../paths.js';

/** A config compiled to the text dialect in a private temporary file, ready for `PDI_CONFIG`. */
export type PreparedConfig = {
	/** The compiled file (mode 0600, in a 0700 directory). */
	readonly file: string;
	/** Removes the file and its directory; safe to call twice. */
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
	const directory = mkdtempSync(path.join(tmpdir(), 'pdi-run-'));
	chmodSync(directory, 0o700);
	const file = path.join(directory, 'pdi.cfg');
	writeFileSync(file, compileConfig(normalized), {mode: 0o600});
	let removed = false;
	return {
		file,
		remove() {
			if (!removed) {
				removed = true;
				rmSync(directory, {recursive: true, force: true});
			}
		},
	};
}
