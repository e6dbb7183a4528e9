import {lstatSync, rmSync, symlinkSync} from 'node:fs';
import path from 'node:path';
import {fileSystemReason, PdiError} from '../errors.js';
import {isLoaderSafe} from '../launch/preload.js';
import {pdiPaths} from '../paths.js';

/** A value for a POSIX shell, in single quotes. */
function shellQuote(value: string): string {
	return `'${value.replaceAll('\'', '\'\\\'\'')}'`;
}

/** Whether afl-fuzz takes `file` as one AFL_CUSTOM_MUTATOR_LIBRARY entry: it splits that list at ';', ':' and ','. */
function isMutatorSafe(file: string): boolean {
	return !/[;:,]/.test(file);
}

/** The characters that keep AFL_PRELOAD or AFL_CUSTOM_MUTATOR_LIBRARY from naming a path, as messages list them. */
const aflUnsafe = 'a blank, \':\', \';\', \',\' or \'$\'';

/**
 * The core's path for AFL_PRELOAD, which the loader splits at blanks and colons, and the mutator's for
 * AFL_CUSTOM_MUTATOR_LIBRARY, which afl-fuzz splits at ';', ':' and ',': under a path with one, a link next to
 * the config file (kept, as the campaign needs it) names pdi's native directory, for both.
 */
function aflNativePaths(configFile: string): {preload: string; mutator: string; note?: string; makeLink?: () => void} {
	const {preload, comuxMutator, nativeDirectory} = pdiPaths();
	const unsafe = [
		...(isLoaderSafe(preload) ? [] : ['AFL_PRELOAD']),
		...(isMutatorSafe(comuxMutator) ? [] : ['AFL_CUSTOM_MUTATOR_LIBRARY']),
	];
	if (unsafe.length === 0) {
		return {preload, mutator: comuxMutator};
	}

	const variables = unsafe.join(' and ');
	const need = unsafe.length === 1 ? 'needs' : 'need';

	const link = path.join(path.dirname(configFile), 'pdi-native');
	if (!isLoaderSafe(link) || !isMutatorSafe(link)) {
		throw new PdiError(`${isLoaderSafe(preload) ? comuxMutator : preload}: ${variables} cannot name this path (it has ${aflUnsafe}), nor a link next to ${configFile}; write the config (-o) into a directory without them`);
	}

	// Only pdi's own link is replaced: a file or a directory of that name is the user's.
	const existing = lstatSync(link, {throwIfNoEntry: false});
	if (existing !== undefined && !existing.isSymbolicLink()) {
		throw new PdiError(`${link}: ${variables} ${need} a link of this name to ${nativeDirectory} (its path has ${aflUnsafe}), but a ${existing.isDirectory() ? 'directory' : 'file'} is there; move it or write the config (-o) into another directory`);
	}

	const makeLink = () => {
		try {
			rmSync(link, {force: true});
			symlinkSync(nativeDirectory, link);
		} catch (error) {
			throw new PdiError(`${link}: cannot make the link to ${nativeDirectory} that ${variables} ${need}: ${fileSystemReason(error)}`, {cause: error});
		}
	};

	return {
		makeLink,
		preload: isLoaderSafe(preload) ? preload : path.join(link, path.basename(preload)),
		mutator: isMutatorSafe(comuxMutator) ? comuxMutator : path.join(link, path.basename(comuxMutator)),
		note: `# ${variables} cannot name ${nativeDirectory} (${aflUnsafe} in it): ${link} is a link to it, made for this campaign.`,
	};
}

/**
 * `pdi comux config --afl`: the environment afl-fuzz needs (DESIGN §6b), for `eval`, and what makes the link it names
 * (nothing is written before).
 */
export function aflEnvironment(configFile: string): {text: string; makeLink?: () => void} {
	const {preload, mutator, note, makeLink} = aflNativePaths(configFile);
	const variables: Array<[string, string]> = [
		['AFL_PRELOAD', preload],
		['PDI_CONFIG', configFile],
		['PDI_COMUX_FORK', 'afl'],
		['AFL_DEFER_FORKSRV', '1'],
		// What afl-fuzz sets for the runtime when it finds an instrumented program; a wrapper (sh -c 'exec SERVER',
		// with AFL_SKIP_BIN_CHECK) is not one, and its server would start the runtime's fork server before main.
		['__AFL_DEFER_FORKSRV', '1'],
		['AFL_CUSTOM_MUTATOR_LIBRARY', mutator],
		['AFL_CUSTOM_MUTATOR_ONLY', '1'],
		['PDI_COMUX_EXIT_IMMEDIATE', '1'],
	];
	const text = [
		'# pdi comux config --afl: env=$(pdi comux config --afl) && eval "$env", then afl-fuzz -i SEEDS -o OUT -- SERVER ARGS...',
		'# A server built with afl-cc keeps its coverage: its fork server starts at the first accept (AFL_DEFER_FORKSRV).',
		'# An uninstrumented server: also export AFL_DUMB_FORKSRV=1 and run afl-fuzz -n.',
		...(note === undefined ? [] : [note]),
		...variables.map(([name, value]) => `export ${name}=${shellQuote(value)}`),
		'',
	].join('\n');
	return {text, makeLink};
}
