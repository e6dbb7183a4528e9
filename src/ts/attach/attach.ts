import {chownSync, existsSync, readdirSync, readFileSync, readlinkSync, statSync} from 'node:fs';
import path from 'node:path';
import {requireConfig} from '../config/load.js';
import type {NormalizedConfig, PdiConfigInput} from '../config/types.js';
import type {ProcessReport} from '../elf/model.js';
import {PdiError, shown} from '../errors.js';
import {actReportFile, actReportVariable, hasActRules, readActReport, type ActCount} from '../launch/act-report.js';
import {checkOptions, isObject, type OptionType} from '../launch/options.js';
import {launchConfig, prepareConfig, type PreparedConfig} from '../launch/prepared-config.js';
import {temporaryDirectory} from '../launch/temporary.js';
import {removeOnSignal} from '../launch/signals.js';
import {detachNow, endedWhileAttaching, refusedAsStopped, runInjector} from './inject.js';
import {coreMapped, processRuns} from '../proc-stat.js';

/** A config installed into a running process by {@link attach}. */
export type Attachment = {
	/** The process attached to. */
	readonly pid: number;
	/**
	 * Closes the session in the process: every slot gets its old value back, the backends finish (their reports, as
	 * at an exit), the core stays loaded there and inert. Resolves at once when the process has ended. Idempotent.
	 */
	detach(): Promise<void>;
	/**
	 * The counts of the config's `act` rules ({@link ActCount}, as `spawn()`'s `child.act`), settled when
	 * {@link detach} has finished (the rules report when their session closes), or when the process has ended first
	 * (they reported at its exit; read, `act` checks every 200 ms whether the process runs, which keeps Node
	 * running). Empty without act rules.
	 */
	readonly act: Promise<ActCount[]>;
};

/** Options of {@link attach} beyond the config. */
export type AttachOptions = {
	/** Config files (JSON, YAML, text dialect) merged before `config`, as `pdi attach -c`. */
	configFiles?: readonly string[] | undefined;
	/** Variables set in the process before its backends start (PDI_TRACE_*, PDI_COUNT_OUTPUT, ...); put back as they were at detach (a variable the process had gets its value back). */
	variables?: Readonly<Record<string, string>> | undefined;
	/**
	 * The thread (kernel thread id) to borrow for the calls of the attach and of the detach; by default pdi picks one
	 * stopped at a safe point, preferably blocked in a system call. For tests that interrupt each kind of call.
	 */
	thread?: number | undefined;
};

/** Throws unless `pid` names a process: a positive integer and a /proc entry. */
export function checkPid(pid: unknown): number {
	// A string as the CLI takes a PID: decimal digits without a leading 0 ('05' is no process 5).
	const value = typeof pid === 'number' ? pid : typeof pid === 'string' && /^[1-9]\d{0,9}$/.test(pid) ? Number(pid) : Number.NaN;
	if (!Number.isSafeInteger(value) || value <= 0 || value > 0x7F_FF_FF_FF) {
		throw new PdiError(`pid: expected a process id (an integer from 1 to 2147483647), got ${shown(pid)}`);
	}

	if (!existsSync(`/proc/${value}`)) {
		throw new PdiError(`no such process: ${value}`);
	}

	refuseThreadId(value);
	refuseEmulated(value);
	return value;
}

/**
 * Throws for the id of a thread that is not its process's first (`/proc/TID` exists, though `/proc` does not list it):
 * pdi attaches to whole processes, and would otherwise name the process by that thread.
 */
function refuseThreadId(id: number): void {
	let status: string;
	try {
		status = readFileSync(`/proc/${id}/status`, 'latin1');
	} catch {
		return;
	}

	const owner = Number(/^Tgid:\s+(\d+)$/m.exec(status)?.[1]);
	if (owner > 0 && owner !== id) {
		throw new PdiError(`${id} is a thread of process ${owner}, not a process: attach to process ${owner} (every thread of it is attached to)`);
	}
}

/**
 * Throws for a process that qemu-user runs (to the kernel, the process is qemu): before its config is read, so that a
 * config's backend built for the emulated architecture is not what the user hears of first. The injector says the same.
 */
function refuseEmulated(pid: number): void {
	let program: string;
	try {
		program = readlinkSync(`/proc/${pid}/exe`);
	} catch {
		return; // another user's process, a kernel thread: the injector tells
	}

	if (path.basename(program).startsWith('qemu-')) {
		throw new PdiError(`process ${pid} runs under ${program}: ${emulatedAdvice}`);
	}
}

const emulatedAdvice = 'attaching would enter the emulator, not the program it runs; start the program under qemu with pdi\'s core for its architecture instead (docs/launching.md, "Programs of another architecture")';

/**
 * Throws for the process that attaches: it traced or changed its own calls, its trace feeding on itself (`pdi trace -p
 * $$` under `exec`); a process cannot stop itself to be attached to.
 */
function refuseOwnProcess(pid: number): void {
	if (pid === process.pid) {
		throw new PdiError(`process ${pid} is the one attaching: pdi cannot attach to the process it runs in (in Node, interpose() installs a config from inside)`);
	}
}

/** The owner of process `pid`; a process that has ended since {@link checkPid} found it has ended while pdi attached. */
function processOwner(pid: number): {uid: number; gid: number} {
	try {
		return statSync(`/proc/${pid}`);
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
			throw new PdiError(endedWhileAttaching(pid));
		}

		throw error;
	}
}

/**
 * Files pdi made for the target (the config, trace output and rings) are
 * private to this user; a root pdi attached to another user's process hands
 * them over to that user, who must read and write them.
 */
export function shareWithProcess(pid: number, files: readonly string[]): void {
	if (process.geteuid?.() !== 0) {
		return;
	}

	const {uid, gid} = processOwner(pid);
	if (uid === 0) {
		return;
	}

	const share = (file: string): void => {
		chownSync(file, uid, gid);
		if (statSync(file).isDirectory()) {
			for (const entry of readdirSync(file)) {
				share(path.join(file, entry));
			}
		}
	};

	for (const file of files) {
		share(file);
	}
}

/** The variables that name a file a backend writes (docs/attach.md). */
const outputFileVariables = new Set(['PDI_COUNT_OUTPUT', 'PDI_TRACE_OUTPUT', actReportVariable]);

/**
 * `variables` with a relative file name of {@link outputFileVariables} made absolute against this process's working
 * directory: the caller names the file, as a `pdi run` names one in the directory the program starts in; the
 * attached process's own directory is none of the caller's business (and pdi reads the act report from here).
 */
function anchoredVariables(variables: Readonly<Record<string, string>>): Record<string, string> {
	return Object.fromEntries(Object.entries(variables).map(([name, value]) =>
		[name, outputFileVariables.has(name) && value !== '' && !path.isAbsolute(value) ? path.resolve(value) : value]));
}

function variableText(variables: Readonly<Record<string, string>>): string {
	return Object.entries(variables).map(([name, value]) => {
		if (!/^[A-Za-z_]\w*$/.test(name) || value.includes('\n') || value.includes('\0')) {
			throw new PdiError(`the variable ${name} cannot be passed to an attached process (a name of letters, digits and _, a value of one line)`);
		}

		return `${name}=${value}`;
	}).join('\n');
}

/** What each option of {@link attach} must be, and how a message says so. */
const attachOptionTypes: Record<keyof AttachOptions, OptionType> = {
	configFiles: [value => Array.isArray(value) && value.every(entry => typeof entry === 'string'), 'an array of config file names'],
	variables: [value => isObject(value) && Object.values(value as object).every(entry => typeof entry === 'string'), 'an object of variables with string values'],
	thread: [value => Number.isSafeInteger(value) && (value as number) > 0, 'a thread id (a positive whole number)'],
};

/**
 * Installs `config` into the running process `pid` (docs/attach.md): pdi's
 * injector stops one of its threads for a moment, loads the pdi core there
 * with the process's own `dlopen` and opens a session with the config, as
 * `pdi run` would have at start. The other threads keep running.
 *
 * ```ts
 * const attached = await attach(pid, {backends: [{name: 'count', library: 'count'}],
 * 	rules: [{relink: {object: '$main', function: 'write', backend: 'count', wrapper: 'count_write'}}]});
 * ...
 * await attached.detach();
 * ```
 *
 * Rejects with a {@link PdiError} of one line for an unknown option or one of the
 * wrong type, and when the process cannot be attached to (no such process, not permitted, static or foreign program) or
 * the config does not install there.
 */
export async function attach(pid: number, config?: PdiConfigInput | NormalizedConfig, options: AttachOptions = {}): Promise<Attachment> {
	checkOptions(options, attachOptionTypes);
	// Left out, the config comes from options.configFiles alone; null is a lost config, as for spawn() and interpose().
	if (config !== undefined) {
		requireConfig(config);
	}

	const target = checkPid(pid);
	const normalized = await launchConfig(options.configFiles, config);
	if (normalized === undefined) {
		throw new PdiError('attach: no config to install');
	}

	return attachNormalized(target, normalized, options.variables ?? {}, options.thread);
}

/** {@link attach} of a config already normalized (the trace config of `pdi trace -p`). */
export async function attachNormalized(pid: number, config: NormalizedConfig, given: Readonly<Record<string, string>>, thread?: number): Promise<Attachment> {
	refuseOwnProcess(pid);
	const variables = anchoredVariables(given);
	const prepared = prepareConfig(config);
	// The act backend writes the counts of the session's rules there when the session closes (docs/act.md).
	const actReport = hasActRules(config) ? variables[actReportVariable] ?? actReportFile(prepared.file) : undefined;
	const text = variableText(actReport === undefined ? variables : {...variables, [actReportVariable]: actReport});
	try {
		shareWithProcess(pid, [path.dirname(prepared.file)]);
		await runInjector(pid, ['open', prepared.file, text], thread);
	} catch (error) {
		prepared.remove();
		throw alreadyTraced(error, pid, config) ?? error;
	}

	return openAttachment(pid, prepared, actReport === undefined ? undefined : () => readActReport(actReport, config), thread);
}

/**
 * The bundled trace backend's refusal of a second trace in one process (its ring and output are its own: `pdi trace
 * -p` on a program `pdi trace` runs took them over, both traces lost calls, and a slot stayed held), in words.
 */
function alreadyTraced(error: unknown, pid: number, config: NormalizedConfig): PdiError | undefined {
	const refused = error instanceof PdiError ? /backend '([^']*)': refused to initialise \(pdi_be_init returned 2\)$/.exec(error.message) : null;
	const backend = refused ? config.backends.find(candidate => candidate.name === refused[1]) : undefined;
	if (backend === undefined || (backend.library !== 'trace' && path.basename(backend.library) !== 'pdi-backend-trace.so')) {
		return undefined;
	}

	const reader = endedTraceReader(pid);
	// A trace whose pdi ended without detaching (killed, or a Ctrl-C of pdi trace -f that left a daemon running) stays
	// in the process, inert: "its calls are in that trace" was false then.
	return new PdiError(reader === undefined
		? `process ${pid} is traced already (by pdi trace, trace() or observe()): one trace at a time in a process, and nothing was changed in it; its calls are in that trace`
		: `process ${pid} keeps the trace of a pdi trace that has ended (process ${reader}, its reader, is gone): a trace that ends without detaching stays in the process, inert, and a process takes one trace at a time; nothing was changed in it: restart it to trace it again`, {cause: error});
}

/**
 * The pid of the reader of the trace ring that process `pid` maps, when that reader (the pdi process whose trace
 * directory, `pdi-trace-READER_...`, holds the ring) no longer runs; undefined when it runs or cannot be told.
 */
function endedTraceReader(pid: number): number | undefined {
	let maps: string;
	try {
		maps = readFileSync(`/proc/${pid}/maps`, 'utf8');
	} catch {
		return undefined;
	}

	const reader = /\/pdi-trace-(\d+)_[^/\n]*\/rings\/\d+-\d+\.ring(?: \(deleted\))?$/m.exec(maps)?.[1];
	return reader !== undefined && !existsSync(`/proc/${reader}`) ? Number(reader) : undefined;
}

/** The detaches of the attachments still open, run as this process exits, before its temporary files go. */
const attachmentsAtExit = new Set<() => void>();
let listeningAtExit = false;

function detachAtExit(detach: () => void): void {
	if (!listeningAtExit) {
		listeningAtExit = true;
		process.prependListener('exit', () => {
			for (const detachOne of attachmentsAtExit) {
				detachOne();
			}
		});
	}

	attachmentsAtExit.add(detach);
}

/** How often a process whose `act` counts are awaited is checked for its end (as `pdi attach` checks it). */
const endPollMs = 200;

/**
 * The {@link Attachment} of a session opened in `pid`: `detach()` closes it; `counts` reads its act report. Its
 * `act`, once read, also settles when the process ends without a detach (its rules reported at its exit): until
 * then a timer waits for that end, so that awaiting `act` keeps Node running as awaiting a child's exit does.
 */
function openAttachment(pid: number, prepared: PreparedConfig, counts: (() => ActCount[]) | undefined, thread: number | undefined): Attachment {
	// An attachment this process never detached is detached as it ends (normally, or by a signal that pdi's listener
	// handles): the process it changed runs on as before, not with rules whose files are gone and that nothing could
	// ever remove. The directory goes too, as spawn()'s does.
	let detaching: Promise<void> | undefined;
	const detachAtEnd = (): void => {
		if (detaching === undefined && processRuns(pid)) {
			detaching = Promise.resolve();
			detachNow(pid, thread);
		}
	};

	detachAtExit(detachAtEnd);
	const forget = removeOnSignal(() => {
		detachAtEnd();
		prepared.remove();
	});
	let settleCounts: (counts: ActCount[]) => void = () => undefined;
	const act = new Promise<ActCount[]>(resolve => {
		settleCounts = resolve;
	});
	let poll: NodeJS.Timeout | undefined;
	const finish = () => {
		settleCounts(counts === undefined ? [] : counts());
		forget();
		prepared.remove();
	};
	const detach = async (): Promise<void> => {
		clearInterval(poll);
		detaching ??= (async () => {
			attachmentsAtExit.delete(detachAtEnd);
			try {
				// A process that ran another program (exec) since has dropped the session with the image it lived in.
				if (processRuns(pid) && coreMapped(pid)) {
					await runInjector(pid, ['close'], thread);
				}
			} catch (error) {
				if (refusedAsStopped(error)) {
					// A process stopped by a signal: nothing changed in it, and the attachment stays whole, to be detached
					// again once it runs (or as this process ends). Before, every later detach() gave this same failure.
					attachmentsAtExit.add(detachAtEnd);
					detaching = undefined;
					throw error;
				}

				finish();
				throw error;
			}

			finish();
		})();
		return detaching;
	};

	return {
		pid,
		get act() {
			if (detaching === undefined && poll === undefined) {
				poll = setInterval(() => {
					if (!processRuns(pid)) {
						detach().catch(() => undefined);
					}
				}, endPollMs);
			}

			return act;
		},
		detach,
	};
}

/**
 * The import report of a running process (the same JSON as `pdi inspect --json`), written by the pdi core
 * loaded there: the slots as they are now. Loads the core (inert) if it is not there yet.
 */
export async function attachedReport(pid: number, imports = '', thread?: number): Promise<ProcessReport> {
	const target = checkPid(pid);
	refuseOwnProcess(target);
	const scratch = temporaryDirectory('pdi-attach-');
	try {
		shareWithProcess(target, [scratch.path]);
		const file = path.join(scratch.path, 'report.json');
		await runInjector(target, ['report', file, imports], thread);
		return JSON.parse(readFileSync(file, 'utf8')) as ProcessReport;
	} finally {
		scratch.remove();
	}
}
