import {readFile} from 'node:fs/promises';
import type {ChildProcess} from 'node:child_process';
import path from 'node:path';
import type {Duplex} from 'node:stream';
import {fileSystemReason, PdiError} from '../errors.js';
import type {ProcessReport} from '../elf/model.js';
import {deadline, launch, type LaunchExit} from '../launch/launch.js';
import {checkOptions, isObject, maxTimerMs, type OptionType} from '../launch/options.js';
import {objectPatternProblem} from '../object-pattern.js';
import {launchConfig} from '../launch/prepared-config.js';
import {freeDescriptor} from '../launch/inherited.js';
import {SharedLibraryError} from '../launch/program.js';
import {temporaryDirectory} from '../launch/temporary.js';

/** Options of {@link inspectProgram}. */
export type InspectOptions = {
	/** Report import slots only for the objects matching this pattern (`$main`, `libc.so.6`, a path or a glob); default: every object. */
	imports?: string | undefined;
	/**
	 * Let the program go on to `main` after the report instead of ending it
	 * before `main`. Its stdio is inherited and its exit status is returned.
	 */
	run?: boolean | undefined;
	/** Environment of the program (default `process.env`); pdi adds `LD_PRELOAD` and its own variables. */
	env?: NodeJS.ProcessEnv | undefined;
	cwd?: string | undefined;
	/** Without `run`: how long to wait for the report before giving up (ms, default 15000). */
	timeout?: number | undefined;
	/** Config files to install before the report (merged in order), so it shows their rules at work. */
	configs?: readonly string[] | undefined;
	/**
	 * With `run`: called with the report as soon as the core has taken it, before `main` runs, which waits until
	 * the callback returns (or its promise settles): what it prints comes before the program's own output, and a
	 * server that never ends is reported all the same. A callback that throws ends the program before `main`.
	 */
	onReport?: ((report: ProcessReport) => void | Promise<void>) | undefined;
};

/** The report of {@link inspectProgram} and how the program ended. */
export type InspectResult = {
	report: ProcessReport;
	/** Exit status of the program (0 when it was stopped before `main`), or null if a signal ended it. */
	exitCode: number | null;
	signal: NodeJS.Signals | null;
};

/** What each option of {@link inspectProgram} must be, and how a message says so. */
const inspectOptionTypes: Record<keyof InspectOptions, OptionType> = {
	// '' is no pattern: the core would read it as "every object", the default it looks like it overrides.
	imports: [value => typeof value === 'string' && value !== '', 'an object pattern ($main, a soname or file name, a path or a glob)'],
	run: [value => typeof value === 'boolean', 'true or false'],
	env: [isObject, 'an object of variables'],
	cwd: [value => typeof value === 'string', 'a directory name'],
	timeout: [value => typeof value === 'number' && value > 0 && value <= maxTimerMs, `a number of milliseconds (1 to ${maxTimerMs})`],
	configs: [value => Array.isArray(value) && value.every(entry => typeof entry === 'string'), 'an array of config file names'],
	onReport: [value => typeof value === 'function', 'a function'],
};

/** Refuses an `imports` pattern that no object can match ('$mian', 'lib[c.so*') as a rule's object field is refused, instead of reporting that nothing matched. */
function checkImportsPattern(pattern: string | undefined): void {
	const problem = pattern === undefined ? undefined : objectPatternProblem(pattern);
	if (problem !== undefined) {
		throw new PdiError(`imports: ${problem}`);
	}
}

/**
 * Starts `command` with the pdi core preloaded in inspect mode and returns
 * the process's ELF view as it was just before `main`: every loaded object
 * and its import slots (symbol, version, kind, lazy or bound, target, RELRO).
 *
 * ```ts
 * const {report} = await inspectProgram('/bin/ls', [], {imports: 'libc.so.6'});
 * ```
 *
 * @throws {PdiError} for an option it does not know or of the wrong type, when the program does not exist, is static, a shared library or for another architecture, or never loads the core.
 */
export async function inspectProgram(command: string, args: readonly string[] = [], options: InspectOptions = {}): Promise<InspectResult> {
	checkOptions(options, inspectOptionTypes);
	checkImportsPattern(options.imports);
	const config = await launchConfig(options.configs);
	const directory = temporaryDirectory('pdi-inspect-');
	try {
		const reportFile = path.join(directory.path, 'report.json');
		const readyFd = freeDescriptor();
		let launched;
		try {
			launched = launch(command, args, {
				env: options.env,
				cwd: options.cwd,
				config,
				variables: {PDI_INSPECT_OUT: reportFile, PDI_INSPECT_IMPORTS: options.imports, PDI_INSPECT_RUN: options.run ? '1' : undefined, PDI_INSPECT_READY: options.run ? String(readyFd) : undefined},
				stdio: options.run ? ['inherit', 'inherit', 'inherit', ...Array.from({length: readyFd - 3}, () => null), 'pipe'] : ['ignore', 'ignore', 'inherit'],
				onSignal: 'forward',
				refuseSecureMode: true,
			});
		} catch (error) {
			throw error instanceof SharedLibraryError
				? error.withAdvice(name => `pdi inspect runs a program (to see this library's imports: pdi inspect --imports ${name} -- PROGRAM-THAT-LOADS-IT)`)
				: error;
		}

		const timeout = options.timeout ?? 15_000;
		const limit = deadline(options.run ? undefined : timeout, () => launched.child.kill('SIGKILL'));
		const early = options.run ? reportBeforeMain(launched.child, readyFd, reportFile, command, options, launched.exited) : undefined;
		early?.catch(() => undefined); // awaited once the program has ended
		let exit: LaunchExit;
		try {
			exit = await launched.exited;
		} catch (error) {
			throw new PdiError(`${command}: could not be started: ${fileSystemReason(error)}`, {cause: error});
		} finally {
			limit.cancel();
		}

		// The report before main was checked then.
		let report = await early;
		if (report === undefined) {
			report = await readReport(reportFile, command, exit, limit.expired ? timeout : undefined);
			checkImports(report, command, options);
		}

		return {report, exitCode: exit.code, signal: exit.signal};
	} finally {
		directory.remove();
	}
}

function checkImports(report: ProcessReport, command: string, options: InspectOptions): void {
	if (options.imports !== undefined && !report.objects.some(object => object.imports !== null)) {
		throw new PdiError(`no loaded object of ${command} matches '${options.imports}'`, {exitCode: 1});
	}
}

/**
 * With `run`: the report once the core says it has written it, handed to `onReport` while `main` waits, then `main`
 * let go (or the program ended meanwhile); undefined when the program ended first (or never loaded the core). A report that matches no `imports`, or
 * an `onReport` that throws, ends the program before `main` and rejects once it has ended.
 */
/** `readyFd`: the descriptor of the socket on which the core says its report is there (PDI_INSPECT_READY). */
async function reportBeforeMain(child: ChildProcess, readyFd: number, reportFile: string, command: string, options: InspectOptions, exited: Promise<unknown>): Promise<ProcessReport | undefined> {
	const channel = child.stdio[readyFd] as Duplex;
	const ready = await new Promise<boolean>(resolve => {
		channel.once('data', () => {
			resolve(true);
		});
		channel.once('close', () => {
			resolve(false);
		});
		channel.on('error', () => undefined);
	});
	if (!ready) {
		return undefined;
	}

	try {
		const report = JSON.parse(await readFile(reportFile, 'utf8')) as ProcessReport;
		checkImports(report, command, options);
		// A program killed meanwhile (a Ctrl-C while the report waits for the reader of a FIFO) is not waited for.
		await Promise.race([options.onReport?.(report), exited.catch(() => undefined)]);
		return report;
	} catch (error) {
		child.kill('SIGKILL');
		throw error;
	} finally {
		channel.end('g');
	}
}

/**
 * The core's report, or why the program gave none (`timedOutAfter`: it was killed for taking that long). The core
 * creates the file, empty, as soon as it is loaded: an empty file means the core ran and the program ended before
 * its report (the core ends it with status 2 when it cannot install the config or write the report), a missing one
 * that it never loaded.
 */
async function readReport(reportFile: string, command: string, exit: LaunchExit, timedOutAfter: number | undefined): Promise<ProcessReport> {
	let text: string;
	try {
		text = await readFile(reportFile, 'utf8');
	} catch {
		if (timedOutAfter !== undefined) {
			throw new PdiError(`${command}: no report after ${timedOutAfter} ms; the program did not load the pdi core (setuid programs ignore LD_PRELOAD)`);
		}

		throw new PdiError(exit.signal
			? `${command} was killed by ${exit.signal} before the pdi core was loaded, so there is no report`
			: `${command} ${ended(exit)} without a report from the pdi core, which never ran in it (it ended before the core's start, in a constructor of its own or of a library it loads; or the loader runs it in secure mode, or it clears LD_PRELOAD: such programs cannot be inspected)`);
	}

	if (text === '') {
		throw new PdiError(timedOutAfter !== undefined
			? `${command}: no report after ${timedOutAfter} ms; the pdi core was loaded but did not get to its report`
			: exit.code === 2
				? `${command} exited with status 2 before the report: the pdi core ends a program so when it cannot install the config or write the report (its message is above)`
				: `${command} ${ended(exit)} after the pdi core was loaded, before its report`);
	}

	return JSON.parse(text) as ProcessReport;
}

function ended(exit: LaunchExit): string {
	return exit.signal ? `was killed by ${exit.signal}` : `exited with status ${exit.code}`;
}
