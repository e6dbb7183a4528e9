import {spawn} from 'node:child_process';
import {readFile} from 'node:fs/promises';
import path from 'node:path';
import {PdiError} from '../errors.js';
import type {ProcessReport} from '../elf/model.js';
import {loadConfig, mergeConfigs} from '../config/index.js';
import {prepareLaunch, type Launch} from '../launch/environment.js';
import {forwardSignals} from '../launch/signals.js';
import {temporaryDirectory, type TemporaryDirectory} from '../launch/temporary.js';
import {checkPreloadable, resolveProgram} from './program.js';

/** Options of {@link inspectProgram}. */
export type InspectOptions = {
	/** Report import slots only for the objects matching this pattern (`$main`, `libc.so.6`, a path or a glob); default: every object. */
	imports?: string;
	/**
	 * Let the program go on to `main` after the report instead of ending it
	 * before `main`. Its stdio is inherited and its exit status is returned.
	 */
	run?: boolean;
	/** Environment of the program (default `process.env`); pdi adds `LD_PRELOAD` and its own variables. */
	env?: NodeJS.ProcessEnv;
	cwd?: string;
	/** Without `run`: how long to wait for the report before giving up (ms, default 15000). */
	timeout?: number;
	/** Config files to install before the report (merged in order), so it shows their rules at work. */
	configs?: readonly string[];
};

/** The report of {@link inspectProgram} and how the program ended. */
export type InspectResult = {
	report: ProcessReport;
	/** Exit status of the program (0 when it was stopped before `main`), or null if a signal ended it. */
	exitCode: number | null;
	signal: NodeJS.Signals | null;
};

/**
 * Starts `command` with the pdi core preloaded in inspect mode and returns
 * the process's ELF view as it was just before `main`: every loaded object
 * and its import slots (symbol, version, kind, lazy or bound, target, RELRO).
 *
 * ```ts
 * const {report} = await inspectProgram('/bin/ls', [], {imports: 'libc.so.6'});
 * ```
 *
 * @throws {PdiError} when the program does not exist, is static or for another architecture, or never loads the core.
 */
export async function inspectProgram(command: string, args: readonly string[] = [], options: InspectOptions = {}): Promise<InspectResult> {
	const baseEnvironment = options.env ?? process.env;
	const program = resolveProgram(command, baseEnvironment);
	checkPreloadable(program, command);
	const configs = await Promise.all((options.configs ?? []).map(async file => loadConfig(file)));
	let launch: Launch | undefined;
	let directory: TemporaryDirectory | undefined;
	try {
		launch = prepareLaunch(baseEnvironment, configs.length > 0 ? mergeConfigs(configs) : undefined);
		directory = temporaryDirectory('pdi-inspect-');
		return await inspectLaunched(command, program, args, options, launch, path.join(directory.path, 'report.json'));
	} finally {
		launch?.remove();
		directory?.remove();
	}
}

async function inspectLaunched(command: string, program: string, args: readonly string[], options: InspectOptions, launch: Launch, reportFile: string): Promise<InspectResult> {
	const environment = {...launch.environment};
	environment['PDI_INSPECT_OUT'] = reportFile;
	delete environment['PDI_INSPECT_IMPORTS'];
	delete environment['PDI_INSPECT_RUN'];
	if (options.imports !== undefined) {
		environment['PDI_INSPECT_IMPORTS'] = options.imports;
	}

	if (options.run) {
		environment['PDI_INSPECT_RUN'] = '1';
	}

	const {exitCode, signal, timedOut} = await new Promise<{exitCode: number | null; signal: NodeJS.Signals | null; timedOut: boolean}>((resolve, reject) => {
		const child = spawn(program, args, {
			argv0: command,
			cwd: options.cwd,
			env: environment,
			stdio: options.run ? 'inherit' : ['ignore', 'ignore', 'inherit'],
		});
		const stop = forwardSignals(child);
		let timedOut = false;
		const timer = options.run ? undefined : setTimeout(() => {
			timedOut = true;
			child.kill('SIGKILL');
		}, options.timeout ?? 15_000);
		child.once('error', error => {
			stop();
			clearTimeout(timer);
			reject(new PdiError(`${command}: ${error.message}`, {cause: error}));
		});
		child.once('exit', (code, signal) => {
			stop();
			clearTimeout(timer);
			resolve({exitCode: code, signal, timedOut});
		});
	});
	let text: string;
	try {
		text = await readFile(reportFile, 'utf8');
	} catch {
		if (timedOut) {
			throw new PdiError(`${command}: no report after ${options.timeout ?? 15_000} ms; the program did not load the pdi core (setuid programs ignore LD_PRELOAD)`);
		}

		const how = signal ? `was killed by ${signal}` : `exited with status ${exitCode}`;
		throw new PdiError(`${command} ${how} without a report from the pdi core (setuid programs and programs that clear LD_PRELOAD cannot be inspected)`);
	}

	const report = JSON.parse(text) as ProcessReport;
	if (options.imports !== undefined && !report.objects.some(object => object.imports !== null)) {
		throw new PdiError(`no loaded object of ${command} matches '${options.imports}'`, {exitCode: 1});
	}

	return {report, exitCode, signal};
}
