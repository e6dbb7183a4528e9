import {closeSync, openSync, readFileSync, readSync} from 'node:fs';
import path from 'node:path';
import type {NormalizedConfig} from '../config/types.js';
import {actReportFile, actReportVariable, hasActRules} from './act-report.js';
import {prepareConfig} from './prepared-config.js';
import {loaderSafePreload} from './preload.js';
import {nativeBinding} from '../native/binding.js';

/** `LD_PRELOAD` with the core first, keeping what the caller already preloads. */
export function withPreload(preload: string, existing: string | undefined): string {
	return existing ? `${preload}:${existing}` : preload;
}

/** Variables a launch sets in the program's environment after pdi's own; `undefined` removes an inherited one. */
export type LaunchVariables = Readonly<Record<string, string | undefined>>;

/** What one launched program needs from pdi: its environment and the temporary files behind it. */
export type PreparedLaunch = {
	/** The program's environment: the caller's plus `LD_PRELOAD`, with a config `PDI_CONFIG`, and the launch's variables. */
	readonly environment: NodeJS.ProcessEnv;
	/** The file the act backend writes its counts to, and the config, when it has act rules. */
	readonly actReport: {file: string; config: NormalizedConfig} | undefined;
	/** The file the core appends the warnings and errors of every process of the launch to (with a config). */
	readonly warningsFile: string | undefined;
	/**
	 * Once the program has exited: when its processes shared what the rules met and the last of them could not say
	 * which met nothing (it ended by `_exit`, as dash does, or by a signal), says it (src/native/session/verdicts.c).
	 */
	reportRulesLeft(): void;
	/** Removes the compiled config and the core's link, if any; call it when the program has exited. Safe to call twice. */
	remove(): void;
};

/**
 * Whether the processes' shared verdicts (src/native/session/verdicts.c: `int reported; int deferred;` first) say
 * that a process deferred the report and nobody made it.
 */
function reportLeftUnmade(file: string): boolean {
	let fd;
	try {
		fd = openSync(file, 'r');
	} catch {
		return false;
	}

	try {
		const header = Buffer.alloc(8);
		return readSync(fd, header, 0, 8, 0) === 8 && header.readInt32LE(0) === 0 && header.readInt32LE(4) === 1;
	} finally {
		closeSync(fd);
	}
}

/**
 * Compiles `config` (when given) into a private temporary file and makes the
 * core's path safe for the loader (see {@link loaderSafePreload}): everything
 * a program started with pdi needs, undone by `remove()`.
 */
export function prepareLaunch(environment: NodeJS.ProcessEnv, config?: NormalizedConfig, variables: LaunchVariables = {}): PreparedLaunch {
	const prepared = config === undefined ? undefined : prepareConfig(config);
	let preload;
	try {
		preload = loaderSafePreload();
	} catch (error) {
		prepared?.remove();
		throw error;
	}

	const result: NodeJS.ProcessEnv = {...environment, LD_PRELOAD: withPreload(preload.preload, environment['LD_PRELOAD'])};
	// An outer pdi trace's (a program it traces ran pdi): this launch's rules are not its to end.
	delete result['PDI_SESSION_OWNER'];
	// Named so that the comux guardian can remove it when pdi is gone (killed) before the program.
	delete result['PDI_CORE_LINK'];
	if (preload.linkDirectory !== undefined) {
		result['PDI_CORE_LINK'] = preload.linkDirectory;
	}

	const actReport = prepared !== undefined && hasActRules(prepared.config) ? {file: actReportFile(prepared.file), config: prepared.config} : undefined;
	if (prepared !== undefined) {
		result['PDI_CONFIG'] = prepared.file;
		// A descendant that execs after the launch ended finds the file removed: it runs uninstrumented, not stopped.
		result['PDI_CONFIG_TEMPORARY'] = '1';
		// The core names the processes whose parent is not this one in its lines (a forked child's act counts).
		result['PDI_LAUNCHER_PID'] = String(process.pid);
		result['PDI_WARNINGS_FILE'] = warningsFile(prepared.file);
	} else {
		delete result['PDI_CONFIG_TEMPORARY'];
		delete result['PDI_LAUNCHER_PID'];
		delete result['PDI_WARNINGS_FILE'];
	}

	if (actReport !== undefined) {
		result[actReportVariable] = actReport.file;
	}

	for (const [name, value] of Object.entries(variables)) {
		if (value === undefined) {
			delete result[name];
		} else {
			result[name] = value;
		}
	}

	return {
		environment: result,
		actReport,
		warningsFile: prepared === undefined ? undefined : warningsFile(prepared.file),
		reportRulesLeft() {
			// The addon only when a process left the report to one that could not make it: most launches have none.
			if (prepared !== undefined && reportLeftUnmade(path.join(path.dirname(prepared.file), 'verdicts'))) {
				// Into the launch's warnings as well, as the processes would have written them (the core reads it).
				const before = process.env['PDI_WARNINGS_FILE'];
				process.env['PDI_WARNINGS_FILE'] = warningsFile(prepared.file);
				try {
					nativeBinding().reportRuleVerdicts(prepared.file);
				} finally {
					if (before === undefined) {
						delete process.env['PDI_WARNINGS_FILE'];
					} else {
						process.env['PDI_WARNINGS_FILE'] = before;
					}
				}
			}
		},
		remove() {
			prepared?.remove();
			preload.remove();
		},
	};
}

/** Where the core of a launch whose compiled config is `configFile` appends its warnings and errors. */
function warningsFile(configFile: string): string {
	return path.join(path.dirname(configFile), 'warnings.txt');
}

/** The lines of a launch's warnings file, in the order its processes wrote them; none when it is missing. */
export function readWarnings(file: string | undefined): string[] {
	if (file === undefined) {
		return [];
	}

	try {
		return readFileSync(file, 'utf8').split('\n').filter(line => line !== '');
	} catch {
		return [];
	}
}
