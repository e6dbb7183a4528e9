import {accessSync, closeSync, constants, openSync, readdirSync, readSync, statSync, type Stats} from 'node:fs';
import path from 'node:path';
import {Option, type Command} from '@commander-js/extra-typings';
import {compileNormalizedConfig} from '../config/compile.js';
import {COMUX_HANG, COMUX_NOT_SERVING, comuxBackendMaxMs, comuxConfig, openComuxFile, replaysStopping, runComux, startComux, stopReplaysOnSignals, waitComux, type ComuxRunResult, type RunComuxOptions} from '../comux/replay.js';
import {endedByItself, replayForkedOnce, serverStartCounted, startComuxForkServer} from '../comux/fork-server.js';
import {COMUX_MAGIC, parseComux} from '../comux/format.js';
import {escapeControls, fileFailure, PdiError} from '../errors.js';
import {exitStatus} from '../launch/signals.js';
import {maxTimerMs} from '../launch/options.js';
import {checkPreloadable, resolveProgram} from '../launch/program.js';
import {checkOutputFile, standardOutput, writeOutputFile} from './output-file.js';
import {isFifo} from '../waiting-input.js';
import {checkStdin, inputName, naming, readComuxInput} from './comux-command.js';
import {sayKilledBy, withHeldOperands} from './operands.js';
import {aflEnvironment} from './comux-afl.js';

/**
 * The verdict on one replay of `pdi comux replay`; `no-listen`: the server ended, crashed or
 * timed out before it waited for a client, so nothing was replayed.
 */
export type ReplayVerdict = 'ok' | 'exit' | 'invalid' | 'crash' | 'hang' | 'no-listen';

/** One line of the `pdi comux replay` report. */
export type ReplayEntry = {
	file: string;
	verdict: ReplayVerdict;
	status: number | null;
	signal: string | null;
	durationMs: number;
	outputBytes: number;
	/** What the server and the backend wrote on stderr (the reason of an `invalid`, a `no-listen`, ...). */
	stderr: string;
	/** With --fork: the fork server ended before it answered for this file, which never reached the server. */
	unanswered?: true;
};

function verdictOf(result: ComuxRunResult): ReplayVerdict {
	if (result.notServing) {
		return 'no-listen';
	}

	// Before the time limit: a backend that refused the input exited by itself, also when the limit ran out as it did.
	if (result.exitCode === 3 && /^pdi-comux: /m.test(result.stderr)) {
		return 'invalid';
	}

	if (result.timedOut || result.hung) {
		return 'hang';
	}

	if (result.signal) {
		return 'crash';
	}

	return result.exitCode === 0 ? 'ok' : 'exit';
}

/**
 * The SERVER operands, refusing none, and an input operand (`what`: FILE or DIR) that came after `--`: `pdi comux run
 * -- nginx -c x.conf` would take nginx for the comux file and `-c` for the server.
 */
function requireServer(input: string, operands: string[], usage: string, what: string): string[] {
	const server = withHeldOperands(operands);
	const dashes = process.argv.indexOf('--');
	const afterDashes = dashes < 0 ? [] : process.argv.slice(dashes + 1);
	if (afterDashes.length === server.length + 1 && afterDashes[0] === input) {
		throw new PdiError(`missing ${what}: it comes before -- (usage: ${usage})`);
	}

	if (server.length === 0) {
		throw new PdiError(`missing SERVER (usage: ${usage})`);
	}

	return server;
}

function parseTimeout(text: string, option = '--timeout', most = maxTimerMs): number {
	const timeout = Number(text);
	if (!/^\d+$/.test(text) || timeout <= 0 || timeout > most) {
		throw new PdiError(`${option}: expected a positive number of milliseconds up to ${most}, got '${text}'`);
	}

	return timeout;
}

const replyTimeoutHelp = 'a reply with no byte after this long ends it, and the replay ends as a hang (status 5) when the server is still running then (PDI_COMUX_TIMEOUT_MS; 1 to 86400000, default 2000)';

/**
 * `--reply-timeout` as the backend's option, or nothing when it is not given: up to the backend's own limit, which
 * would otherwise refuse it in every server it starts, naming a variable the user never set. Not 0, which the
 * backend takes as a reply that ends at once, before the server could answer, not as no limit.
 */
function replyTimeout(text: string | undefined): number | undefined {
	return text === undefined ? undefined : parseTimeout(text, '--reply-timeout', comuxBackendMaxMs);
}

function startsLikeComux(file: string): boolean {
	const head = Buffer.alloc(COMUX_MAGIC.length);
	try {
		const fd = openSync(file, 'r');
		try {
			return readSync(fd, head, 0, head.length, 0) === head.length && head.equals(COMUX_MAGIC);
		} finally {
			closeSync(fd);
		}
	} catch {
		return false;
	}
}

/**
 * `--log`'s value, checked before anything starts: `--log FILE.comux -- SERVER` (the value left out)
 * would append the log to the comux file and take the server for the input.
 */
function checkLogFile(log: string | undefined, name = '--log'): void {
	if (log === undefined || log === '' || log === 'stderr' || log === '1') {
		return;
	}

	if (name === '--log' && startsLikeComux(log)) {
		throw new PdiError(`--log ${log}: is a comux file, not a log (--log takes a value: --log stderr or --log LOGFILE, then the comux FILE)`);
	}

	try {
		checkOutputFile(log);
		// Opened once as the backend opens it (appending, created when missing), where the checks above cannot tell:
		// `/proc/x.log` is in a directory root may write to. A FIFO or a device is left to the backend.
		if (statSync(log, {throwIfNoEntry: false})?.isFile() ?? true) {
			try {
				closeSync(openSync(log, 'a'));
			} catch (error) {
				throw fileFailure(log, error);
			}
		}
	} catch (error) {
		// Named as the option's, not as the comux FILE's would be.
		throw error instanceof PdiError ? new PdiError(`${name} ${error.message}`, {exitCode: error.exitCode, cause: error}) : error;
	}
}

/**
 * The `PDI_COMUX_*` variables of pdi's environment that every server inherits, where no option sets them, checked
 * as the backend checks them, before any server starts (**was a bug**: each replay ended with the backend's status
 * 2, and `replay` reported `4 files: 4 exit` with status 0).
 */
function checkComuxEnvironment(options: {log?: string | undefined; replyTimeout?: string | undefined}): void {
	for (const [name, given] of [['PDI_COMUX_IDLE_MS', undefined], ['PDI_COMUX_TIMEOUT_MS', options.replyTimeout]] as const) {
		const text = process.env[name];
		if (given === undefined && text !== undefined && text !== '' && (!/^\d+$/.test(text) || Number(text) > comuxBackendMaxMs)) {
			throw new PdiError(`${name}: expected a whole number of milliseconds from 0 to ${comuxBackendMaxMs}, got '${escapeControls(text)}'`);
		}
	}

	if (options.log === undefined) {
		checkLogFile(process.env['PDI_COMUX_LOG'], 'PDI_COMUX_LOG:');
	}
}

/**
 * The status of a replay `--timeout` stopped: a hang, as `replay` counts it, unless the server
 * never waited for a client (it still says so itself).
 */
function stoppedStatus(code: number | null, timeout: number | undefined): number {
	const notServing = code === COMUX_NOT_SERVING;
	process.stderr.write(stoppedLine(notServing, timeout));
	return notServing ? COMUX_NOT_SERVING : COMUX_HANG;
}

/** What `--timeout` did: no replay took long when the server never listened (**was**: "the replay took longer"). */
function stoppedLine(notServing: boolean, timeout: number | undefined): string {
	return notServing
		? `pdi: the server did not wait for a client within ${timeout} ms (--timeout) and was stopped\n`
		: `pdi: the replay took longer than ${timeout} ms and was stopped\n`;
}

/** `pdi comux run FILE -- SERVER [ARGS...]`: one replay, the server's replies on stdout, its status as pdi's. */
function registerRunCommand(comux: Command): void {
	const usage = 'pdi comux run FILE -- SERVER [ARGS...]';
	comux.command('run')
		.description('replay one comux FILE (- for stdin) against SERVER; its replies go to stdout; exit with its status (4: it never waited for a client, 5: it hung)')
		.usage('FILE [--fork] [--no-wait] [--timeout MS] [--reply-timeout MS] [--log FILE] -- SERVER [ARGS...]')
		.option('--no-wait', 'send every chunk without waiting for replies in between (PDI_COMUX_NO_WAIT)')
		.option('--log <file>', 'backend log: stderr or a file (PDI_COMUX_LOG)')
		.option('--timeout <ms>', 'stop the server when the replay takes longer (default: no limit)')
		.option('--reply-timeout <ms>', replyTimeoutHelp)
		.option('--fork', 'fork mode: the replay runs in a child forked from the server at its first wait for a client (PDI_COMUX_FORK)')
		.argument('<file>', 'the comux file, or - for stdin')
		.argument('[server...]', 'the server command and its arguments (after --)')
		.action(async (file, operands, options) => {
			const timeout = options.timeout === undefined ? undefined : parseTimeout(options.timeout);
			const replyTimeoutMs = replyTimeout(options.replyTimeout);
			checkLogFile(options.log);
			checkComuxEnvironment(options);
			const server = requireServer(file, operands, usage, 'FILE');
			if (file === '-') {
				checkStdin();
			}

			// The server before the input, as the other commands check their program first: a wrong one is status 2.
			checkPreloadable(resolveProgram(server[0]!), server[0]);
			const bytes = await checkedInput(file);
			if (options.fork) {
				await runForked(bytes, server, {noWait: !options.wait, log: options.log, replyTimeoutMs, timeout});
				return;
			}

			// Stdin or a FIFO, read already, is piped; a file is the server's stdin.
			const input = file === '-' || isFifo(file) ? bytes : openComuxFile(file);
			stopReplaysOnSignals();
			try {
				const run = startComux(server, [typeof input === 'object' ? 'pipe' : input, 'inherit', 'inherit'], {noWait: !options.wait, log: options.log, replyTimeoutMs});
				if (typeof input === 'object') {
					run.child.stdin?.on('error', () => {}).end(input); // a server that ends before reading it all: EPIPE
				}

				const {code, signal, timedOut} = await waitComux(run, timeout);
				process.stderr.write(run.stoppedBeforeBackend);
				process.exitCode = timedOut ? stoppedStatus(code, timeout) : exitStatus(code, signal);
				if (!timedOut) {
					sayKilledBy(server[0]!, signal ?? undefined, process.exitCode);
				}
			} finally {
				if (typeof input === 'number') {
					closeSync(input);
				}
			}
		});
}

/** Writes to stdout or stderr and resolves once it is written (before a process.exit). */
async function writeOut(stream: NodeJS.WriteStream, data: Uint8Array | string): Promise<void> {
	return new Promise(resolve => {
		stream.write(data, () => {
			resolve();
		});
	});
}

/**
 * A comux FILE of `run`, read and judged before any server starts (a FIFO through the event loop, so that a signal
 * still ends pdi while it has no writer): a missing one is one line, an invalid one `pdi: FILE: REASON at byte N`,
 * status 3, as `show` says it; the backend would judge it the same, but could not name the file.
 */
async function checkedInput(file: string): Promise<Uint8Array> {
	return naming(inputName(file), async () => {
		const bytes = await readComuxInput(file);
		parseComux(bytes);
		return bytes;
	});
}

/** `pdi comux run --fork`: the same replay through a fork server; the replies and messages are printed when it ends. */
async function runForked(input: Uint8Array, server: string[], options: RunComuxOptions): Promise<void> {
	const replaying = replayForkedOnce(server, input, options);
	// Stopped by a signal, it still prints what the server and the backend said, as a replay without --fork does.
	const printed = replaying.then(async result => {
		await Promise.all([writeOut(process.stdout, result.stdout), writeOut(process.stderr, result.stderr)]);
		return result;
	});
	stopReplaysOnSignals(async () => printed);
	const result = await printed;
	process.exitCode = result.timedOut ? stoppedStatus(result.exitCode, options.timeout) : exitStatus(result.exitCode, result.signal);
	if (!result.timedOut) {
		sayKilledBy(server[0]!, result.signal ?? undefined, process.exitCode);
	}
}

/** The note afl-fuzz writes into its crashes/ directory (README.txt, the command line that found them): no input. */
function isAflCrashNote(file: string): boolean {
	if (path.basename(file) !== 'README.txt') {
		return false;
	}

	const start = Buffer.alloc(40);
	let fd: number | undefined;
	try {
		fd = openSync(file, 'r');
		return start.subarray(0, readSync(fd, start)).toString('latin1').startsWith('Command line used to find this crash:');
	} catch {
		return false;
	} finally {
		if (fd !== undefined) {
			closeSync(fd);
		}
	}
}

/** `names` for a one-line message: all of them up to five, else the first four and how many more. */
function someNames(names: readonly string[]): string {
	return names.length > 5 ? `${names.slice(0, 4).join(', ')} and ${names.length - 4} more` : names.join(', ');
}

/** What a directory entry that is neither a file nor a directory is. */
function entryKind(stat: Stats | undefined): string {
	return stat === undefined ? 'a dangling link' : stat.isFIFO() ? 'a FIFO' : stat.isSocket() ? 'a socket' : 'a device';
}

/** An entry of a replayed directory and what it is (undefined: a dangling link); one that cannot be looked at is named. */
function directoryEntry(directory: string, name: string): {name: string; stat: Stats | undefined} {
	try {
		return {name, stat: statSync(path.join(directory, name), {throwIfNoEntry: false})};
	} catch (error) {
		throw fileFailure(path.join(directory, name), error); // a link that loops: `DIR/x: too many levels of symbolic links`
	}
}

/**
 * The regular files of `directory` (links to them too), sorted by name, but afl-fuzz's README.txt in crashes/; none,
 * or one that cannot be read, is an error. Subdirectories are not searched and other entries (a FIFO, a socket, a
 * dangling link) not replayed: a warning names them (not hidden ones, as AFL++'s queue/.state).
 */
function comuxFiles(directory: string): string[] {
	let names: string[];
	try {
		names = readdirSync(directory).sort();
	} catch (error) {
		throw fileFailure(directory, error);
	}

	const entries = names.map(name => directoryEntry(directory, name));
	const files = entries.filter(entry => entry.stat?.isFile()).map(entry => path.join(directory, entry.name)).filter(file => !isAflCrashNote(file));
	const shown = entries.filter(entry => !entry.name.startsWith('.'));
	const subdirectories = shown.filter(entry => entry.stat?.isDirectory()).map(entry => escapeControls(entry.name));
	const others = shown.filter(entry => !entry.stat?.isFile() && !entry.stat?.isDirectory()).map(entry => `${escapeControls(entry.name)} (${entryKind(entry.stat)})`);
	const one = subdirectories.length === 1;
	const notSearched = subdirectories.length === 0 ? '' : `its ${one ? 'subdirectory' : 'subdirectories'} ${someNames(subdirectories)} ${one ? 'is' : 'are'} not searched: replay ${one ? 'it' : 'each'} on its own`;
	const notFiles = others.length === 0 ? '' : `not ${others.length === 1 ? 'a regular file' : 'regular files'}, not replayed: ${someNames(others)}`;
	const skipped = [notSearched, notFiles].filter(part => part !== '').join('; ');
	if (files.length === 0) {
		throw new PdiError(`${directory}: no comux files to replay (the directory has no regular file${skipped === '' ? '' : `; ${skipped}`})`);
	}

	if (skipped !== '') {
		process.stderr.write(`pdi: warning: ${directory}: ${skipped}\n`);
	}

	// Every file is readable before the first server starts: one that is not would end the replay halfway, its report lost.
	for (const file of files) {
		try {
			accessSync(file, constants.R_OK);
		} catch (error) {
			throw fileFailure(file, error);
		}
	}

	return files;
}

/**
 * What `--timeout` did to a replay it stopped, for the report's reason (the server and the backend say nothing of it,
 * or only that a signal 15 stopped the server): as `pdi comux run` says it, or, for a file that a fork server stuck
 * on an earlier one never replayed, that the fork server was stopped.
 */
function stoppedNote(result: ComuxRunResult, timeout: number | undefined): string {
	if (!result.timedOut || timeout === undefined) {
		return '';
	}

	// A child the fork server stopped at its own limit was answered for; a stopped server's files but the one it was
	// on never started (duration 0).
	if (!endedByItself(result) && result.durationMs < timeout) {
		return `pdi: not replayed: the server was stopped after ${timeout} ms on an earlier file (its start or its replay)\n`;
	}

	// With --fork, the files queued while the server started: their limits counted its start, and when it took most
	// of one, the reason says so (**was**: "the replay took longer", for a server whose start took 25 of 30 ms).
	const startMs = serverStartCounted(result);
	return startMs === undefined || startMs * 2 < timeout || result.notServing
		? stoppedLine(result.notServing, timeout)
		: `pdi: the server's start (${startMs} ms) and the replay took longer than ${timeout} ms together and were stopped (with --fork, the first file's time limit counts the server's start, as without it every file's does)\n`;
}

/** Replays each file against a fresh server (or a child forked from one server), one after the other, with a progress bar on a terminal. */
async function replayFiles(files: readonly string[], server: readonly string[], options: RunComuxOptions, progress: boolean, replays: Replays): Promise<void> {
	const showProgress = progress && process.stderr.isTTY && !process.env['CI'];
	const cliProgress = showProgress ? (await import('cli-progress')).default : undefined;
	const bar = cliProgress ? new cliProgress.SingleBar({format: 'replay [{bar}] {value}/{total} {file}', stream: process.stderr}, cliProgress.Presets.shades_classic) : undefined;
	bar?.start(files.length, 0, {file: ''});
	// Ctrl-C ends pdi with process.exit once the replays are stopped: the bar ends first (line wrapping on again, a new line), or the terminal keeps it.
	const stopBar = () => bar?.stop();
	process.once('exit', stopBar);
	replays.stopProgress = stopBar;
	const {report} = replays;
	const forks = options.fork ? startComuxForkServer(server, options) : undefined;
	// The fork server gets the next file before the current one's answer, so that it never waits for pdi.
	let upcoming = forks?.replay(files[0]!);
	for (const [index, file] of files.entries()) {
		if (replaysStopping()) {
			// Ctrl-C: the handler stops the current server and ends pdi; no next one starts meanwhile.
			await new Promise(() => undefined);
		}

		bar?.update(report.length, {file: shownName(file)});
		let result: ComuxRunResult;
		if (forks) {
			const current = upcoming!;
			upcoming = index + 1 < files.length ? forks.replay(files[index + 1]!) : undefined;
			// Its failure (an unreadable file) is thrown when its turn comes, not as an unhandled rejection now.
			upcoming?.catch(() => undefined);
			result = await current;
		} else {
			result = await runComux(server, file, options);
		}

		if (replaysStopping() && !endedByItself(result)) {
			// Stopped by the signal, not ended by itself: it stays out of the report the handler prints. A fork-mode
			// replay that ended before the signal, whose answer pdi read only after it, is reported.
			await new Promise(() => undefined);
		}

		report.push({
			file,
			verdict: verdictOf(result),
			...(result.unanswered ? {unanswered: true} : {}),
			status: result.status,
			signal: result.signal,
			durationMs: Math.round(result.durationMs),
			outputBytes: result.stdout.length,
			stderr: result.stderr + stoppedNote(result, options.timeout),
		});
	}

	await forks?.close();
	bar?.update(report.length, {file: ''});
	process.off('exit', stopBar);
	bar?.stop();
}

/** The replays of one `pdi comux replay`: the report so far, and how to take its progress bar off the terminal. */
type Replays = {report: ReplayEntry[]; stopProgress: () => void; printed: boolean};

/** Prints the report once: when every file is replayed, or when a signal stopped the replays (the files done by then). */
async function printReport(replays: Replays, server: readonly string[], json: boolean, stopped?: NodeJS.Signals): Promise<void> {
	if (replays.printed) {
		return;
	}

	replays.printed = true;
	replays.stopProgress();
	const {report} = replays;
	const crashes = report.filter(entry => entry.verdict === 'crash' || entry.verdict === 'hang').length;
	const notServing = report.filter(entry => entry.verdict === 'no-listen' || entry.unanswered).length;
	// Counted, not failed: an afl-fuzz queue holds invalid inputs (mutants that exit 3 at once) as a matter of course.
	const invalid = report.filter(entry => entry.verdict === 'invalid').length;
	if (json) {
		await writeOut(process.stdout, JSON.stringify({server, files: report, crashes, notServing, invalid, ...(stopped ? {stopped} : {})}, null, 2) + '\n');
	} else if (report.length > 0) {
		await writeOut(process.stdout, formatReplayReport(report));
	}

	process.exitCode = crashes + notServing > 0 ? 1 : 0;
}

/** A file as the report and the progress bar name it: its base name, on one line (a newline in it written `\x0a`). */
function shownName(file: string): string {
	return escapeControls(path.basename(file));
}

/** The `pdi comux replay` report as a table, one line per file, and a count per verdict. */
function formatReplayReport(report: readonly ReplayEntry[]): string {
	const width = Math.max(4, ...report.map(entry => shownName(entry.file).length));
	const lines = [`${'FILE'.padEnd(width)}  VERDICT    STATUS  SIGNAL   TIME(ms)  OUTPUT`];
	for (const entry of report) {
		lines.push(`${shownName(entry.file).padEnd(width)}  ${entry.verdict.padEnd(9)}  ${String(entry.status ?? '-').padEnd(6)}  ${(entry.signal ?? '-').padEnd(7)}  ${String(entry.durationMs).padStart(8)}  ${entry.outputBytes}`);
	}

	const counts = new Map<ReplayVerdict, number>();
	for (const entry of report) {
		counts.set(entry.verdict, (counts.get(entry.verdict) ?? 0) + 1);
	}

	const unanswered = report.filter(entry => entry.unanswered).length;
	const notReached = unanswered === 0 ? '' : ` (${unanswered} never replayed: the fork server ended before it answered for ${unanswered === 1 ? 'it' : 'them'})`;
	lines.push('', `${report.length} file${report.length === 1 ? '' : 's'}: ${[...counts].map(([verdict, count]) => `${count} ${verdict}`).join(', ')}${notReached}`);
	// Why, for each file that did not end well: the last two lines it wrote on stderr (the server's, then the backend's).
	// A crash the server said nothing of is named by its signal (**was**: no line at all).
	const reasons = report.filter(entry => entry.verdict !== 'ok' && (entry.stderr.trim() !== '' || entry.signal !== null));
	if (reasons.length > 0) {
		lines.push('');
		for (const entry of reasons) {
			const said = entry.stderr.trim();
			lines.push(`${shownName(entry.file)}: ${said === '' ? `the server was killed by ${entry.signal} and wrote nothing on stderr` : said.split('\n').slice(-2).join(' / ')}`);
		}
	}

	return lines.join('\n') + '\n';
}

/** `pdi comux replay DIR -- SERVER [ARGS...]`: every file against a fresh server; exit 1 when one crashed, hung or was never served. */
function registerReplayCommand(comux: Command): void {
	const usage = 'pdi comux replay DIR -- SERVER [ARGS...]';
	comux.command('replay')
		.description('replay every file of DIR against a fresh SERVER process each; report status, time and output size per file')
		.usage('DIR [--fork] [--json] [--timeout MS] [--reply-timeout MS] [--no-progress] -- SERVER [ARGS...]')
		.option('--json', 'print the report as JSON')
		.addOption(new Option('--timeout <ms>', 'kill a replay that runs longer (a hang)').default('10000', '10000'))
		.option('--reply-timeout <ms>', replyTimeoutHelp)
		.option('--fork', 'start SERVER once and replay each file in a child forked at its first wait for a client (PDI_COMUX_FORK)')
		.option('--no-progress', 'no progress bar')
		.argument('<dir>', 'a directory of comux files')
		.argument('[server...]', 'the server command and its arguments (after --)')
		.action(async (directory, operands, options) => {
			// The options first, as run does: `--timeout DIR -- SERVER` took DIR for the time ("missing DIR" was wrong).
			const timeout = parseTimeout(options.timeout);
			const replyTimeoutMs = replyTimeout(options.replyTimeout);
			checkComuxEnvironment(options);
			const server = requireServer(directory, operands, usage, 'DIR');
			const files = comuxFiles(directory);
			const replays: Replays = {report: [], stopProgress() {}, printed: false};
			// Ctrl-C: the report of the files replayed by then, and a line saying where it stopped (exit status 128+N).
			stopReplaysOnSignals(async signal => {
				const done = replays.printed;
				await printReport(replays, server, options.json === true, signal);
				if (!done) {
					await writeOut(process.stderr, `pdi: ${signal} stopped the replays after ${replays.report.length} of ${files.length} files${replays.report.length > 0 ? ', reported above' : ''}\n`);
				}
			});
			await replayFiles(files, server, {timeout, replyTimeoutMs, fork: options.fork}, options.progress, replays);
			await printReport(replays, server, options.json === true);
		});
}

/** Adds `run`, `replay` and `config` to the `pdi comux` command group. */
export function registerComuxReplayCommands(comux: Command): void {
	registerRunCommand(comux);
	registerReplayCommand(comux);
	comux.command('config')
		.description('write the compiled config that installs comux-accept (for PDI_CONFIG); with --afl, print the environment for afl-fuzz')
		.option('-o, --output <file>', 'write to FILE instead of stdout (with --afl: the config file, default ./pdi-comux.cfg)')
		.option('--afl', 'write the config to a file and print `export NAME=VALUE` lines for afl-fuzz: AFL_PRELOAD, PDI_CONFIG, the fork server at the first accept and the comux mutator')
		.action(async options => {
			const text = compileNormalizedConfig(comuxConfig());
			if (options.afl) {
				const output = options.output ?? 'pdi-comux.cfg';
				if (output === standardOutput) {
					throw new PdiError('-o -: with --afl the config goes to a file that PDI_CONFIG names, not to stdout (leave out --afl to print it)');
				}

				checkOutputFile(output);
				const file = path.resolve(output);
				// The environment first: a path afl-fuzz cannot take is refused with nothing written; the link its
				// paths may need is made once the config is written.
				const environment = aflEnvironment(file);
				await writeOutputFile(file, text);
				environment.makeLink?.();
				process.stdout.write(environment.text);
			} else if (options.output) {
				await writeOutputFile(options.output, text);
			} else {
				process.stdout.write(text);
			}
		});
}
