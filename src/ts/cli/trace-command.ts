import {closeSync, existsSync, rmSync, writeSync} from 'node:fs';
import {constants} from 'node:os';
import path from 'node:path';
import {Option, type Command} from '@commander-js/extra-typings';
import {fileSystemReason, PdiError, printLine} from '../errors.js';
import {closedByTheShell} from '../launch/inherited.js';
import {launch} from '../launch/launch.js';
import {resolveProgram, SharedLibraryError} from '../launch/program.js';
import {exitStatus, forwardedSignal, receiveSignals} from '../launch/signals.js';
import {temporaryDirectory} from '../launch/temporary.js';
import {traceConfig, tracedObjects, traceVariables, type TraceOptions} from '../trace/options.js';
import {launchConfig} from '../launch/prepared-config.js';
import type {NormalizedConfig} from '../config/types.js';
import {lossMessages, ringDirectory, TraceReader, type TraceReaderEnd} from '../trace/reader.js';
import {runningOnNotice, waitForFollowed} from '../trace/followed.js';
import {SummaryCounter} from '../trace/summary.js';
import {traceMarks, unmatchedWarning} from '../trace/trace-marks.js';
import {pidInOwnNamespace} from '../proc-stat.js';
import {demangledNameWarnings, plainNames, unseenNotice} from '../trace/unseen.js';
import {closedOutputError, isClosedPipe} from './closed-output.js';
import {isFifo, readFifoText} from '../waiting-input.js';
import {checkOutputFile, openOutputDescriptor, standardOutput, truncateOutput} from './output-file.js';
import {parsePid, requireProgram, sayKilledBy, warnSecureMode} from './operands.js';

const usage = '[--json | -c] [-o FILE] [-f] [--object OBJ]... [-e LIST]... [-C] [-T] [-t] [-s N] [--depth N] [--args N] [--prototypes FILE] (-p PID | -- PROGRAM [ARGS...])';

type TraceCliOptions = {
	output?: string; object: string[]; functions?: string; time?: true; timestamp?: true;
	stringSize: string; depth?: string; args: string; prototypes?: string; json?: true; summary?: true; follow?: true; demangle?: true;
	config: string[];
};

/**
 * The trace's config with the `--config` files after it, loaded and merged in order as `pdi run -c` loads them (the
 * schema only then: pdi trace starts without it).
 */
async function withConfigFiles(traced: NormalizedConfig, files: readonly string[]): Promise<NormalizedConfig> {
	if (files.length === 0) {
		return traced;
	}

	const {withUserConfig} = await import('../trace/user-config.js');
	return withUserConfig(traced, await launchConfig(files));
}

/**
 * The backend's settings for the command line's options; errors name the flags. -T and -t are the reader's (the
 * records always carry their times), so they are not among them.
 */
function cliVariables(options: TraceCliOptions, prototypesText?: string): Record<string, string> {
	// The numbers stay text here so that a bad one is quoted as typed.
	const numbers = {stringSize: options.stringSize, depth: options.depth, rawArgs: options.args} as unknown as TraceOptions;
	return traceVariables(
		{...numbers, objects: options.object, functions: options.functions, prototypes: options.prototypes, follow: options.follow, demangle: options.demangle},
		{stringSize: '-s', depth: '--depth', rawArgs: '--args', functions: '-e', prototypes: '--prototypes'},
		prototypesText,
	);
}

/** The text of a `--prototypes` FIFO (`<(gen)`), read through the event loop, so that a signal ends pdi while it waits. */
async function fifoPrototypes(file: string | undefined): Promise<string | undefined> {
	if (file === undefined || !isFifo(file)) {
		return undefined;
	}

	try {
		return await readFifoText(file);
	} catch (error) {
		throw new PdiError(`--prototypes: ${file}: ${fileSystemReason(error)}`, {cause: error});
	}
}

function writeText(fd: number, text: string): void {
	const bytes = Buffer.from(text);
	for (let at = 0; at < bytes.length;) {
		at += writeSync(fd, bytes, at);
	}
}

/**
 * Where the calls go, and what ends it once the program has exited: whether the trace could be written (it throws
 * {@link closedOutputError} when the output's reader has gone); `rings`: the directory of the events' rings.
 * `finish(false)` when nothing ran (the program could not be started, the process not attached): the reader stops,
 * and no summary, notice or loss is said before the error that says why.
 */
type Output = {
	variables: Record<string, string>;
	rings: string;
	/**
	 * Waits until the reader has written what the rings hold, while SIGINT, SIGTERM and SIGHUP give the rest up (and
	 * one second does after `signalled`, a signal that ended the program or the wait): the signal that gave it up.
	 */
	drained(signalled: boolean): Promise<NodeJS.Signals | undefined>;
	finish(ran?: boolean): boolean;
	closed(): boolean;
	/**
	 * Says at once, the first time it finds one, that a write to the output failed (a full disk: not a reader that
	 * has gone, which {@link closed} tells); whether one has. The end does not say it again.
	 */
	sayFailure(): boolean;
	/**
	 * Starts the writing of an output made `held`, emptying its `-o FILE` first (opened without truncation, so that a
	 * trace that never began left an earlier one whole): until then the calls wait in their rings.
	 */
	release(): void;
};

/** A pause after which pdi, told by a signal to stop, gives up the lines its output has not taken yet. */
const graceAfterSignal = 1000;

/** {@link Output.drained}. */
async function drainUntilSignalled(reader: TraceReader, signalled: boolean): Promise<NodeJS.Signals | undefined> {
	let giveUp: () => void = () => undefined;
	const given = new Promise<void>(resolve => {
		giveUp = resolve;
	});
	let signal: NodeJS.Signals | undefined;
	const release = receiveSignals(received => {
		signal ??= received;
		giveUp();
	});
	const grace = signalled ? setTimeout(giveUp, graceAfterSignal) : undefined;
	try {
		await reader.drain(given);
	} finally {
		clearTimeout(grace);
		release();
	}

	return signal;
}

/** The descriptor of `-o FILE` (a named pipe waited for without blocking signals), none for stderr and `-o -`. */
async function outputDescriptor(options: TraceCliOptions): Promise<number | undefined> {
	checkStandardStream(options.output);
	return options.output === undefined || options.output === standardOutput ? undefined : openOutputDescriptor(options.output, {truncate: false});
}

/** The -o FILE that opening it will make (none there yet), which a trace that never begins removes again. */
function outputToMake(options: TraceCliOptions): string | undefined {
	return options.output !== undefined && options.output !== standardOutput && !existsSync(options.output) ? options.output : undefined;
}

/** A program that cannot start, or an attach refused, leaves no -o FILE it made (was: an empty file). */
function removeUnlessBegun(made: string | undefined, begun: boolean): void {
	if (made !== undefined && !begun) {
		rmSync(made, {force: true});
	}
}

/**
 * Refuses a trace to a standard stream the shell closed (`pdi trace -o - ... >&-`): the reader thread writes to the
 * descriptor itself, where Node put /dev/null, so the whole trace vanished and pdi exited with the program's status.
 */
function checkStandardStream(output: string | undefined): void {
	const stream = output === undefined ? 2 : output === standardOutput ? 1 : standardStreamNamed(path.resolve(output));
	if (stream !== undefined && closedByTheShell(stream)) {
		throw new PdiError(`${stream === 1 ? 'standard output' : 'standard error'}: bad file descriptor (the trace would be lost)`);
	}
}

/** 1 or 2 for a path that names pdi's own standard output or error. */
function standardStreamNamed(file: string): 1 | 2 | undefined {
	for (const fd of [1, 2] as const) {
		if ([`/dev/${fd === 1 ? 'stdout' : 'stderr'}`, `/dev/fd/${fd}`, `/proc/self/fd/${fd}`].includes(file)) {
			return fd;
		}
	}

	return undefined;
}

/** Writes the -c table of `ending`'s counts and the notices of names never called; false when the output's reader has gone. */
function writeSummary(counter: SummaryCounter, fd: number, ending: TraceReaderEnd, options: TraceCliOptions, sitesSeen?: string): boolean {
	for (const count of ending.counts) {
		counter.addCount(count);
	}

	counter.setPrograms(ending.programs);
	try {
		writeText(fd, counter.format());
		for (const name of plainNames(options.functions, options.demangle).filter(name => !counter.counted(name))) {
			printLine(unseenNotice(name, sitesSeen === undefined ? 'unknown' : existsSync(path.join(sitesSeen, name)) ? 'uncalled' : 'calls'));
		}
	} catch (error) {
		ending.writeError ??= fileSystemReason(error);
		return !isClosedPipe(error);
	}

	return true;
}

/**
 * The calls go through event rings (docs/trace.md, "Transport") that a native reader thread drains: text or JSON lines
 * straight to the output, or counts per call site for the summary. The traced processes write no line themselves.
 */
function traceOutput(options: TraceCliOptions, directory: string, outputFd: number | undefined, sitesSeen?: string, held = false): Output {
	const rings = ringDirectory(directory);
	// The notices of a process's end (a function -e names that it has no call site of) travel in its ring, after its
	// calls: in text mode they go where its lines go; with --json to pdi's stderr, outside the JSON lines (never to the
	// stderr of a process -p attached to); -c says the same once in its summary.
	// -c shows no value: the backend then decodes no argument and reads no string (a system call each).
	const notices: Record<string, string> = options.summary ? {PDI_TRACE_VALUES: '0'} : {PDI_TRACE_NOTICES: 'ring'};
	const variables = {...rings.variables, ...notices};
	const fd = outputFd ?? (options.output === standardOutput ? 1 : 2);
	const counter = options.summary ? new SummaryCounter() : undefined;
	const text = {time: options.time === true, timestamp: options.timestamp === true};
	const reader = counter
		? TraceReader.toSummary(rings.directory)
		: options.json ? TraceReader.toDescriptor(rings.directory, fd, 2, held) : TraceReader.toText(rings.directory, fd, text, held);
	let finished = false;
	const where = options.output === undefined ? 'the trace to stderr' : options.output === standardOutput ? 'the trace to stdout' : options.output;
	let failureSaid = false;
	return {
		variables,
		rings: rings.directory,
		closed: () => reader.writeErrno() === constants.errno.EPIPE,
		sayFailure() {
			const errno = reader.writeErrno();
			if (!failureSaid && errno !== 0 && errno !== constants.errno.EPIPE && errno !== constants.errno.ECANCELED) {
				failureSaid = true;
				printLine(`pdi: trace: writing ${where} failed: ${reader.writeFailure()}`);
			}

			return failureSaid;
		},
		drained: async signalled => drainUntilSignalled(reader, signalled),
		release() {
			truncateOutput(outputFd);
			reader.release();
		},
		finish(ran = true) {
			if (finished) {
				return true;
			}

			finished = true;
			if (!ran) {
				// A refused attach: the process may have written a notice of its session's end (a name with no call site,
				// as the install stopped before that site), which is not true of a trace that never began.
				reader.discard();
			}

			const ending = reader.finish();
			// ECANCELED: given up after a signal; the output takes nothing more, where a message would wait too.
			if (!ran || ending.writeErrno === constants.errno.ECANCELED) {
				if (fd > 2) {
					closeSync(fd);
				}

				return true;
			}

			const closed = ending.writeErrno === constants.errno.EPIPE || (counter !== undefined && !writeSummary(counter, fd, ending, options, sitesSeen));
			if (fd > 2) {
				closeSync(fd);
			}

			if (closed) {
				throw closedOutputError();
			}

			for (const line of lossMessages(failureSaid ? {...ending, writeError: null} : ending, where)) {
				printLine(line);
			}

			return ending.writeError === null;
		},
	};
}

/**
 * `pdi trace -c pdi.yaml -- PROGRAM`, where -c means --config in run, inspect and attach: a config file taken for the
 * program gets that said, not only that it is no program.
 */
function checkNotConfig(program: string, options: TraceCliOptions): void {
	if (!options.summary || !/\.(?:ya?ml|json|cfg|cmd|conf)$/i.test(program)) {
		return;
	}

	try {
		resolveProgram(program);
	} catch (error) {
		throw error instanceof PdiError
			? new PdiError(`${error.message} (in pdi trace, -c is --summary and takes no value: pdi trace takes no config file; pdi run -c CONFIG runs a program with one)`, {cause: error})
			: error;
	}
}

/** {@link launch}, with advice for a shared library given as the program. */
function launchTraced(...parameters: Parameters<typeof launch>): ReturnType<typeof launch> {
	try {
		return launch(...parameters);
	} catch (error) {
		throw error instanceof SharedLibraryError
			? error.withAdvice(name => `pdi trace runs a program (to trace this library's calls: pdi trace --object ${name} -- PROGRAM-THAT-LOADS-IT)`)
			: error;
	}
}

/** Runs the program traced; its exit status. */
async function runTraced(program: string, args: string[], options: TraceCliOptions): Promise<number> {
	const variables = cliVariables(options, await fifoPrototypes(options.prototypes));
	if (options.output) {
		checkOutputFile(options.output);
	}

	const objects = tracedObjects({objects: options.object});
	const scratch = temporaryDirectory('pdi-trace-');
	const madeOutput = outputToMake(options);
	try {
		const traced = traceConfig(objects, '--object');
		const config = await withConfigFiles(traced, options.config);
		// -f: pdi waits for every followed process that writes a ring, also those that outlive the program (a
		// daemon's child). Each traced process image marks the -e names it has a call site of: with -f pdi says the
		// names no process marked; without, the process says them at its end, but for those an image of it marked
		// before an exec. The core marks each --object pattern that matched an object in some process.
		const marks = traceMarks(scratch.path, traced);
		// -c tells a name imported and never called from one without a call site by the marks.
		// Held, and a file left whole, until the program has started: a program that cannot be kept what was there.
		const output = traceOutput(options, scratch.path, await outputDescriptor(options), marks.seen, true);
		const followed = options.follow ? output.rings : undefined;

		let launched = false;
		try {
			let interrupted: NodeJS.Signals | undefined;
			const {exited} = launchTraced(program, args, {
				stdio: 'inherit',
				config,
				variables: {...variables, ...output.variables, ...marks.variables},
				onSignal: 'forward',
				afterExit: followed === undefined ? undefined : async () => {
					interrupted = await waitForFollowed(followed, true);
				},
			});
			launched = true;
			output.release();
			// The program runs on untraced-looking when its trace cannot be written: the user hears of it at once.
			const polling = setInterval(() => {
				if (output.sayFailure()) {
					clearInterval(polling);
				}
			}, 100);
			const {code, signal} = await exited.finally(() => {
				clearInterval(polling);
			});
			const gaveUp = await output.drained(forwardedSignal() !== undefined || interrupted !== undefined);
			if (!output.finish()) {
				return 2; // the trace asked for is not there, whatever the program did
			}

			if (interrupted ?? gaveUp) {
				const notice = followed === undefined ? undefined : runningOnNotice(followed, (interrupted ?? gaveUp)!);
				if (notice !== undefined) {
					printLine(notice);
				}

				return exitStatus(null, (interrupted ?? gaveUp)!);
			}

			// -c says it of the names it counted no call of.
			if (options.follow && !options.summary) {
				for (const name of plainNames(options.functions, options.demangle).filter(name => !existsSync(path.join(marks.seen, name)))) {
					printLine(unseenNotice(name, 'sites'));
				}
			}

			for (const pattern of marks.unmatchedObjects()) {
				printLine(unmatchedWarning(pattern, ', at start or later', '--object'));
			}

			sayKilledBy(program, signal ?? undefined, exitStatus(code, signal));
			return exitStatus(code, signal);
		} finally {
			output.finish(launched);
			removeUnlessBegun(madeOutput, launched);
		}
	} finally {
		scratch.remove();
	}
}

/** `pdi trace -p PID`: the trace config attached to a running process until interrupted (docs/attach.md). */
async function traceRunning(pidValue: number, options: TraceCliOptions): Promise<number> {
	// Before the pid's check: a usage error is the same for every pid.
	if (options.follow) {
		throw new PdiError('-f/--follow and -p/--pid exclude each other: an attached process is traced alone');
	}

	const {attachNormalized, checkPid, shareWithProcess} = await import('../attach/attach.js');
	const pid = checkPid(pidValue);
	const {detachWhenRunning, watchAttached} = await import('../attach/watch.js');
	const {endMessage} = await import('../attach/run.js');

	// Without -f the backend traces only the process whose pid this is (see traced_process in trace.c), as that
	// process's getpid() gives it: in a pid namespace of its own (a container), not the pid pdi knows it by.
	const variables = {...cliVariables(options, await fifoPrototypes(options.prototypes)), PDI_TRACE_ROOT: String(pidInOwnNamespace(pid))};
	if (options.output) {
		checkOutputFile(options.output);
	}

	const scratch = temporaryDirectory('pdi-trace-');
	const madeOutput = outputToMake(options);
	try {
		// Held until pdi has said that it traces: the first lines would otherwise come before that line.
		const output = traceOutput(options, scratch.path, await outputDescriptor(options), undefined, true);
		const traced = traceConfig(tracedObjects({objects: options.object}), '--object');
		const config = await withConfigFiles(traced, options.config);
		// The core marks each --object pattern that matched an object of the process, then or until the detach.
		const matched = traceMarks(scratch.path, traced);
		shareWithProcess(pid, [scratch.path]);
		const watch = watchAttached(pid);
		let attachedTo = false;
		try {
			const attached = await attachNormalized(pid, config, {...variables, ...output.variables, PDI_MATCHED_MARKS: matched.variables['PDI_MATCHED_MARKS']!});
			attachedTo = true;
			watch.arm(undefined);
			process.stderr.write(`pdi: tracing process ${pid}; Ctrl-C or SIGTERM detaches\n`);
			output.release();
			// An output whose reader has gone (`| head`) ends the trace as an interrupt would: detached, then 141; one
			// that takes no more (a full disk) ends it at once too, said then, with status 2.
			let polling: NodeJS.Timeout | undefined;
			const closed = new Promise<'closed'>(resolve => {
				polling = setInterval(() => {
					if (output.closed() || output.sayFailure()) {
						resolve('closed');
					}
				}, 100);
			});
			const ended = await Promise.race([watch.ended, closed]).finally(() => {
				clearInterval(polling);
			});
			const end = await detachWhenRunning(pid, watch, async () => attached.detach()) ?? ended;
			await output.drained(end !== 'exited');
			const written = output.finish();
			for (const pattern of end === 'closed' ? [] : matched.unmatchedObjects()) {
				printLine(unmatchedWarning(pattern, ` in process ${pid} while it was traced`, '--object'));
			}

			process.stderr.write(endMessage(pid, end === 'closed' ? 'signal' : end));
			return written ? 0 : 2;
		} finally {
			watch.stop();
			output.finish(attachedTo);
			removeUnlessBegun(madeOutput, attachedTo);
		}
	} finally {
		scratch.remove();
	}
}

/** `pdi trace [options] -- PROGRAM [ARGS...]`: the trace backend on the imports of the chosen objects (docs/trace.md). */
export function registerTraceCommand(cli: Command): void {
	cli.command('trace')
		.description('log the imported calls of objects (default: the program) with decoded arguments and results, in-process')
		.usage(usage)
		.option('-o, --output <file>', 'write the trace to FILE, - for stdout (default: stderr)')
		.addOption(new Option('--object <pattern>', 'an object whose imports are traced ($main, a soname, a path or a glob; repeatable)').default([] as string[], '$main').argParser((value: string, previous: string[]) => [...previous, value]))
		.option('-e, --functions <list>', 'comma-separated globs over function names; !GLOB excludes; GLOB@OBJ keeps calls into callee object OBJ; repeatable (the lists add up)', (value: string, previous?: string) => previous === undefined ? value : `${previous},${value}`)
		.option('-T, --time', 'show each call\'s duration')
		.option('-t, --timestamp', 'show each call\'s start, seconds since the trace began')
		.addOption(new Option('-s, --string-size <n>', 'bytes shown of decoded strings (0-4096)').default('32', '32'))
		.option('--depth <n>', 'only calls nested at most N deep (0: outermost only)')
		.addOption(new Option('--args <n>', 'integer arguments shown per call of a function without a prototype (0-6)').default('3', '3'))
		.option('--json', 'NDJSON, one object per call (fields in docs/trace.md), instead of text')
		.option('-f, --follow', 'trace the children too (fork, exec); every line names its pid')
		.option('-C, --demangle', 'show C++ functions by their demangled names (-e then matches them as well as the symbols)')
		.option('-c, --summary', 'no per-call lines; at exit a table per process: calls, errors and time per function')
		.option('--prototypes <file>', 'C declarations that decode the user\'s own functions')
		.option('-p, --pid <pid>', 'trace a running process (attached) until interrupted, instead of starting PROGRAM')
		.option('--config <file>', 'a config the program also runs with, as pdi run -c takes (JSON, YAML or text dialect; repeatable): the trace shows the calls its act rules change as they changed them', (value: string, previous: string[]) => [...previous, value], [] as string[])
		.argument('[command...]', 'the program and its arguments')
		.passThroughOptions()
		.action(async (command, options) => {
			if (options.json && options.summary) {
				throw new PdiError('--json and -c/--summary exclude each other');
			}

			for (const warning of demangledNameWarnings(options.functions, options.demangle, '-e', '-C')) {
				printLine(warning);
			}

			if (options.pid !== undefined) {
				// The value first: `-p abc ls` names 'abc', whatever follows it.
				const pid = parsePid(options.pid, '-p');
				if (command.length > 0) {
					throw new PdiError('-p/--pid traces a running process: no PROGRAM is started with it');
				}

				process.exitCode = await traceRunning(pid, options);
				return;
			}

			const [program, ...args] = requireProgram(command, `pdi trace ${usage}`);
			checkNotConfig(program, options);
			warnSecureMode(program);

			process.exitCode = await runTraced(program, args, options);
		});
}
