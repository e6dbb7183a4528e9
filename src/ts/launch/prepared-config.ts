import {writeFileSync} from 'node:fs';
import path from 'node:path';
import {isNormalizedConfig} from '../config/built.js';
import {compileNormalizedConfig} from '../config/compile.js';
import type {NormalizedConfig, PdiConfigInput} from '../config/types.js';
import {verifyConfig} from '../config/verify.js';
import {entryName} from '../config/field-origins.js';
import {escapeControls, fileSystemReason, PdiError} from '../errors.js';
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

/**
 * The config of a launch: `files` loaded and merged in order, then `config`; undefined when there is none. The merged
 * options and handlers are left to verifyConfig(), which {@link prepareConfig} runs before anything starts.
 */
export async function launchConfig(files: readonly string[] = [], config?: PdiConfigInput | NormalizedConfig): Promise<NormalizedConfig | undefined> {
	if (files.length === 0 && (config === undefined || isNormalizedConfig(config))) {
		return config;
	}

	// The schema and the readers only when there is something to read or check.
	const {loadConfig, mergeWithoutChecks, normalizeConfig} = await import('../config/load.js');
	// Merged: a rule may use a backend another file declares; verifyConfig() checks that after the merge, and with it
	// the merged options and handlers (deferChecks), so that one run reports every problem.
	const configs = await Promise.all(files.map(async file => loadConfig(file, {merging: true, deferChecks: true})));
	if (config !== undefined) {
		configs.push(isNormalizedConfig(config) ? config : normalizeConfig(config));
	}

	return configs.length > 0 ? mergeWithoutChecks(configs) : undefined;
}

/**
 * The compiled `text` with `(label)` after the place of each rule (`#@origin rules[0] (interpose() #2 ...)`): the
 * core's messages then say which of the sessions open in one process a rule belongs to. A place with a label ends
 * in `)`, so the core keeps it whole (a file's `:LINE:COL` included) as the name it prints.
 */
function labelRules(text: string, normalized: NormalizedConfig, label: string): string {
	const suffix = ` (${escapeControls(label)})`;
	// A place without a line (observe()'s `trace: objects '$main'`, compiled with `:0:0`) is kept without it.
	const places = new Map(normalized.rules.map((rule, index) => {
		const name = rule.origin ? escapeControls(rule.origin.file) : entryName(rule, `rules[${index}]`);
		const place = rule.origin ? `${name}:${rule.origin.line}:${rule.origin.column}` : name;
		return [`#@origin ${place}`, `#@origin ${rule.origin?.line === 0 ? name : place}${suffix}`];
	}));
	return text.split('\n').map(line => places.get(line) ?? line).join('\n');
}

/**
 * Verifies `normalized` against the backends on disk, compiles and writes it; with `label`, the core's messages
 * name its rules with it ({@link labelRules}).
 */
export function prepareConfig(normalized: NormalizedConfig, label?: string): PreparedConfig {
	const paths = pdiPaths();
	verifyConfig(normalized, {backendDirectory: paths.nativeDirectory, bundled: paths.backends});
	const compiled = compileNormalizedConfig(normalized);
	const text = label === undefined ? compiled : labelRules(compiled, normalized, label);
	const directory = temporaryDirectory('pdi-run-');
	const file = path.join(directory.path, 'pdi.cfg');
	try {
		writeFileSync(file, text, {mode: 0o600});
	} catch (error) {
		directory.remove();
		// Named by the temporary directory's parent, which the user chose (TMPDIR): `write: no space left on device` named nothing.
		const parent = path.dirname(directory.path);
		throw new PdiError(`${parent}: cannot write the compiled config there: ${fileSystemReason(error)} (set TMPDIR to a directory with room)`, {cause: error});
	}

	return {file, config: normalized, remove: directory.remove};
}
