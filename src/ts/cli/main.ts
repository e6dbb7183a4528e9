#!/usr/bin/env node
import {Command, CommanderError, InvalidArgumentError, type CommandUnknownOpts} from '@commander-js/extra-typings';
import {ConfigError, placedMessage} from '../config/config-error.js';
import {escapeControls, fileSystemError, PdiError, printLine} from '../errors.js';
import type {ProcessReport} from '../elf/model.js';
import {formatReport} from '../inspect/format.js';
import {inspectProgram} from '../inspect/inspect.js';
import {takeInheritedState} from '../launch/inherited.js';
import {followJobStops} from '../launch/job-stops.js';
import {alsoPassedOn, exitStatus, forwardedSignal, forwardedSignals, forwardingSignals, passOn, sentByTheTerminal, terminalSignalThatEnded} from '../launch/signals.js';
import {removeTemporaryDirectories} from '../launch/temporary.js';
import {packageVersion} from '../native/package-root.js';
import {nearName} from '../near-name.js';
import {pdiPaths} from '../paths.js';
import {registerComuxCommands} from './comux-command.js';
import {registerComuxReplayCommands} from './comux-replay-command.js';
import {registerAttachCommand} from './attach-command.js';
import {registerConfigCommands} from './config-command.js';
import {registerRunCommand} from './run-command.js';
import {registerTraceCommand} from './trace-command.js';
import {closedOutputStatus, failedOutputStatus, isClosedPipe, outputClosed, outputFailed, watchClosedOutput} from './closed-output.js';
import {checkOutputFile, writeOutputFile} from './output-file.js';
import {holdOperands, requireProgram, sayKilledBy} from './operands.js';
import {refuseArgumentsNotUtf8, warnOfBytesReplacedByNpx, warnOfVariablesNotUtf8} from './raw-input.js';
import {refuseRepeatedValues} from './repeated-options.js';
import {followNpmParent} from './npm-parent.js';

async function emit(text: string, output: string | undefined): Promise<void> {
	// A signal passed on to the program ends pdi once the program has ended (128+N), without the output: a Ctrl-C
	// while `pdi inspect -o FIFO` still ran its program would otherwise be spent, and pdi wait for a reader for ever.
	if (forwardedSignal()) {
		throw new PdiError('interrupted');
	}

	if (output) {
		await writeOutputFile(output, text);
	} else {
		process.stdout.write(text);
	}
}

/** An option's value as a message names it, for the short placeholders of the help (`-s, --string-size <n>`). */
const valueNames: Record<string, string> = {n: 'number', ms: 'number of milliseconds', seconds: 'number of seconds', pid: 'process id'};

/** Commander's messages for a bad option value or too many operands, in the words of pdi's own (`--timeout: expected ..., got '...'`). */
function inPdiWords(message: string): string {
	const value = /^option '(\S+)(?:, (\S+))?(?: <([^>]+)>)?' argument '(.*)' is invalid\. (.*)$/.exec(message);
	if (value) {
		const [, first, second, name, argument, reason] = value;
		if (argument === '' && reason === emptyFileName) {
			return `${second ?? first}: the file name is empty`;
		}

		if (argument === '--' && reason === endsTheOptions) {
			return `${second ?? first}: missing ${valueNames[name ?? ''] ?? name ?? 'value'} (the next argument, --, ends the options)`;
		}

		return `${second ?? first}: ${reason!.replace(/\.$/, '')}, got '${argument}'`;
	}

	// `-v=2` is read as -v and an option '-=2': name what was written.
	if (/^unknown option '-=/.test(message)) {
		const written = process.argv.slice(2).find(argument => /^-[A-Za-z]=/.test(argument));
		if (written !== undefined) {
			return `unknown option '${written}' (a short option takes no '=': ${written.slice(0, 2)} alone, or ${written.slice(0, 2)} VALUE for one that takes a value)`;
		}
	}

	const missing = /^option '(\S+)(?:, (\S+))?(?: <([^>]+)>)?' argument missing$/.exec(message);
	if (missing) {
		const [, first, second, name] = missing;
		return `${second ?? first}: missing ${valueNames[name ?? ''] ?? name ?? 'value'}`;
	}

	if (new RegExp(`^command-argument value '' is invalid for argument '(file|dir)'\\. ${emptyFileName}$`).test(message)) {
		return `${message.includes('\'dir\'') ? 'the directory' : 'the file'} name is empty`;
	}

	const operands = /^too many arguments(?: for '(.*)')?\. Expected (\d+) arguments? but got (\d+)\.$/.exec(message);
	if (operands) {
		const [, command, expected, got] = operands;
		return `${command === undefined ? '' : `${command}: `}too many arguments (expected ${expected}, got ${got})`;
	}

	return message;
}

/**
 * For `pdi comux run FILE SERVER -c CONF` (no --): the server's option is read as pdi's, so the
 * unknown-option error says where it belongs. (`run`, `trace` and `inspect` pass everything after
 * the program through; `comux run` and `replay` cannot: their own options may follow FILE or DIR.)
 */
function serverOptionHint(message: string): string {
	const args = process.argv.slice(2);
	const command = args.indexOf('comux');
	const verb = command === -1 ? undefined : args[command + 1];
	if (!/unknown option/.test(message) || (verb !== 'run' && verb !== 'replay') || args.includes('--')) {
		return '';
	}

	return ` (an option of the server? put -- before the server: pdi comux ${verb} ${verb === 'run' ? 'FILE' : 'DIR'} -- SERVER [ARGS...])`;
}

/** `--JSON` for `--json`: commander suggests names a few edits away, and a whole word in capitals is more. */
function caseHint(cli: CommandUnknownOpts, message: string): string {
	const unknown = /^error: unknown option '(--[^'=]+)'$/.exec(message.trimEnd())?.[1];
	if (unknown === undefined || unknown === unknown.toLowerCase()) {
		return '';
	}

	const longNames = (command: CommandUnknownOpts): string[] => [...command.options.map(option => option.long ?? ''), ...command.commands.flatMap(longNames)];
	return longNames(cli).includes(unknown.toLowerCase()) ? ` (did you mean ${unknown.toLowerCase()}? options are lower case)` : '';
}

const endsTheOptions = '-- ends the options';
const emptyFileName = 'empty file name';

/**
 * An option that takes a value, given `--` as that value (`pdi trace -o -- prog`, the value left out), is refused:
 * commander, as getopt, would take `--` for the value (a trace written to a file named `--`, a config read from it)
 * and the next word for the program. So is an empty file name (`-o "$OUT"` with OUT unset).
 */
function refuseDoubleDashValues(command: CommandUnknownOpts): void {
	for (const option of command.options) {
		if (option.required && !option.variadic) {
			const parse = option.parseArg as ((value: string, previous: unknown) => unknown) | undefined;
			option.argParser((value: string, previous: unknown) => {
				if (value === '--') {
					throw new InvalidArgumentError(endsTheOptions);
				}

				// -o '' (an unset shell variable) named the working directory or no file at all: ': no such file or directory'.
				if (value === '' && option.flags.endsWith('<file>')) {
					throw new InvalidArgumentError(emptyFileName);
				}

				return parse ? parse(value, previous) : value;
			});
		}
	}

	// The FILE and DIR operands: '' said ': no such file or directory'.
	for (const argument of command.registeredArguments) {
		if (!argument.variadic && (argument.name() === 'file' || argument.name() === 'dir') && argument.parseArg === undefined) {
			argument.argParser((value: string) => {
				if (value === '') {
					throw new InvalidArgumentError(emptyFileName);
				}

				return value;
			});
		}
	}

	for (const sub of command.commands) {
		refuseDoubleDashValues(sub);
	}
}

/** The usage line of a command group run without a command (commander would print its whole help on stderr). */
let helpForMissingCommand: string | undefined;

export function createCli(): Command {
	const cli = new Command('pdi')
		.description('Run-time function interposition for Linux/ELF programs')
		.version(packageVersion(), '-V, --version')
		.enablePositionalOptions()
		.exitOverride()
		.configureOutput({
			writeErr(text) {
				const usage = /^Usage: (.*)/.exec(text);
				if (usage) {
					helpForMissingCommand = usage[1]!;
				} else {
					process.stderr.write(text);
				}
			},
			outputError(message, write) {
				write(`pdi: ${escapeControls(inPdiWords(message.replace(/^error: /, '').trimEnd().replace(/\n\(Did you mean (.*)\?\)$/, ' (did you mean $1?)').replaceAll('\n', '; ')))}${caseHint(cli, message)}${serverOptionHint(message)}\n`);
			},
		});

	cli.command('inspect')
		.description('report the loaded objects and their GOT slots as PROGRAM starts (before main)')
		.usage('[-c CONFIG]... [--json] [--imports OBJ] [-o FILE] [--run] -- PROGRAM [ARGS...]')
		.option('-c, --config <file>', 'install this config first, so the report shows its rules; repeatable', (value: string, previous: string[]) => [...previous, value], [] as string[])
		.option('--json', 'print the report as JSON')
		.option('--imports <object>', 'list import slots only for objects matching OBJ ($main, soname, path or glob)')
		.option('-o, --output <file>', 'write the report to FILE instead of stdout')
		.option('--run', 'let PROGRAM run to completion after the report; exit with its status')
		.argument('[command...]', 'the program and its arguments')
		.passThroughOptions()
		.action(runInspect);

	cli.command('paths')
		.description('where the preload core, the bundled backends and the C headers are')
		.option('--json', 'print as JSON')
		.action(options => {
			const paths = pdiPaths();
			if (options.json) {
				process.stdout.write(JSON.stringify(paths, null, 2) + '\n');
				return;
			}

			const lines = [
				`preload   ${paths.preload}`,
				`include   ${paths.include}`,
				`native    ${paths.nativeDirectory}`,
				`mutator   ${paths.comuxMutator}`,
				`injector  ${paths.injector}`,
				...Object.entries(paths.backends).map(([name, file]) => `backend   ${name.padEnd(12)} ${file}`),
			];
			process.stdout.write(lines.join('\n') + '\n');
		});

	registerRunCommand(cli);
	registerTraceCommand(cli);
	registerAttachCommand(cli);
	registerConfigCommands(cli);
	registerComuxReplayCommands(registerComuxCommands(cli));
	withUsageOnMissingArguments(cli);
	refuseDoubleDashValues(cli);
	refuseRepeatedValues(cli);
	return cli;
}

/** The subcommands of `command`, without commander's `help`. */
function subcommandNames(command: CommandUnknownOpts): string[] {
	return command.commands.map(other => other.name()).filter(name => name !== 'help');
}

/** What an unknown subcommand's message adds (`pdi config frob`): whose subcommand it is not, and what they are. */
function subcommandsOf(command: CommandUnknownOpts, names: readonly string[]): string {
	return ` of pdi ${names.join(' ')} (${subcommandNames(command).join(', ')})`;
}

/**
 * A missing operand's message ends with the command's usage line, as `pdi run` without PROGRAM does; an unknown
 * subcommand's names the command and its subcommands.
 */
function withUsageOnMissingArguments(command: CommandUnknownOpts, path: readonly string[] = []): void {
	for (const sub of command.commands) {
		const names = [...path, sub.name()];
		const output = sub.configureOutput();
		sub.configureOutput({
			outputError(message, write) {
				const missing = /^error: missing required argument/.test(message);
				const unknown = message.replace(/^(error: unknown command '[^']*')/, `$1${subcommandsOf(sub, names)}`);
				output.outputError?.(missing ? `${message.trimEnd()} (usage: pdi ${names.join(' ')} ${sub.usage()})\n` : unknown, write);
			},
		});
		withUsageOnMissingArguments(sub, names);
	}
}

/**
 * SIGINT, SIGTERM and SIGHUP, and SIGQUIT, SIGUSR1, SIGUSR2 and SIGALRM: while a program started by pdi runs, it
 * gets the signal and pdi exits with its status when it has ended; otherwise pdi removes its temporary files and
 * exits with 128+N at once.
 */
function handleSignals(): void {
	for (const signal of forwardedSignals) {
		process.on(signal, () => {
			if (!forwardingSignals()) {
				removeTemporaryDirectories();
				if (sentByTheTerminal(signal)) {
					// A Ctrl-C whose event came after the program it ended: pdi ends by it too (end()).
					dieBy(signal);
					return;
				}

				process.exit(exitStatus(null, signal));
			}
		});
	}

	for (const signal of alsoPassedOn) {
		process.on(signal, () => {
			// A command that handles the signal itself (comux's replays stop their servers on SIGQUIT) ends pdi then.
			if (process.listenerCount(signal) === 1 && !passOn(signal)) {
				// As the default action would, without a core dump or Node's debugger: 128+N, files removed (an
				// attached process is detached at the exit, docs/attach.md).
				removeTemporaryDirectories();
				process.exit(exitStatus(null, signal));
			}
		});
	}
}

const inspectUsage = 'pdi inspect [-c CONFIG]... [--json] [--imports OBJ] [-o FILE] [--run] -- PROGRAM [ARGS...]';

type InspectCliOptions = {config: string[]; json?: true; imports?: string; output?: string; run?: true};

/** `pdi inspect [-c CONFIG]... [--json] [--imports OBJ] [-o FILE] [--run] -- PROGRAM [ARGS...]`. */
async function runInspect(command: string[], options: InspectCliOptions): Promise<void> {
	const [program, ...args] = requireProgram(command, inspectUsage);
	if (options.output) {
		checkOutputFile(options.output);
	}

	const show = async (report: ProcessReport) => emit(options.json ? JSON.stringify(report, null, 2) + '\n' : formatReport(report), options.output);
	let shown = false;
	// With --run the report is shown before main runs (the program waits for it), not after the program has ended.
	const showFirst = async (report: ProcessReport) => show(report).finally(() => {
		shown = true;
	});
	const result = await inspectProgram(program, args, {imports: options.imports, run: options.run, configs: options.config, onReport: options.run ? showFirst : undefined}).catch((error: unknown) => {
		// The library names its option `imports`; here the user wrote --imports, as the other options' messages say.
		throw error instanceof PdiError && error.message.startsWith('imports: ') ? new PdiError(`--${error.message}`) : error;
	});
	if (!options.run) {
		await show(result.report);
		return;
	}

	process.exitCode = exitStatus(result.exitCode, result.signal);
	// As pdi run says it (was silent: only the status told of a crash).
	sayKilledBy(program, result.signal ?? undefined, process.exitCode);
	if (!shown) {
		// Killed before main while its report waited for the reader of a FIFO (a Ctrl-C): nothing is left to wait for.
		process.exit();
	}
}

const isHelpFlag = (argument: string) => argument === '--help' || argument === '-h';

/**
 * `argv` without a help flag where commander would answer it with the wrong help: after a
 * subcommand a group does not have (`pdi config describe --help` printed `pdi config`'s help; now it
 * is an unknown command), and after `help` itself (`pdi help --help` said a command was missing).
 */
function withoutMisplacedHelp(cli: Command, argv: string[]): string[] {
	const [first, second] = argv;
	const group = cli.commands.find(command => command.name() === first);
	const unknownSubcommand = group !== undefined && group.commands.length > 0 && second !== undefined && !second.startsWith('-')
		&& second !== 'help' && !group.commands.some(command => command.name() === second || command.aliases().includes(second));
	return first === 'help' || unknownSubcommand ? argv.filter(argument => !isHelpFlag(argument)) : argv;
}

/**
 * `pdi help A B` and `pdi A help B` as `pdi A B --help`: commander's help command goes one level down only (`pdi help
 * comux run` printed the help of `pdi comux`), and said a command was missing for a name it did not know. `help` after
 * `help` (`pdi help help`, `pdi config help help`) was an unknown command: it is the help of that level.
 */
function helpArguments(cli: Command, argv: string[]): string[] {
	const find = (parent: CommandUnknownOpts, name: string) => parent.commands.find(sub => sub.name() === name || sub.aliases().includes(name));
	let command: CommandUnknownOpts = cli;
	let index = 0;
	for (; index < argv.length && argv[index] !== 'help'; index++) {
		const sub = find(command, argv[index]!);
		if (sub === undefined) {
			return argv;
		}

		command = sub;
	}

	if (index >= argv.length || command.commands.length === 0) {
		return argv;
	}

	const names = argv.slice(0, index);
	for (const name of argv.slice(index + 1)) {
		// `pdi help help` is the help of the level, which lists `help [command]` (as `pdi help --help`).
		if (name.startsWith('-') || name === 'help') {
			break;
		}

		const sub = find(command, name);
		if (sub === undefined) {
			const near = nearName(name, subcommandNames(command));
			throw new PdiError(`unknown command '${name}'${names.length === 0 ? '' : subcommandsOf(command, names)}${near === undefined ? '' : ` (did you mean ${near}?)`}`);
		}

		names.push(name);
		command = sub;
	}

	return [...names, '--help'];
}

/**
 * Runs the CLI on `argv` (without `node main.js`) and resolves to the exit status; errors are printed as one line.
 * Once the reader of its output has gone (a write found a closed pipe), it prints nothing more and the status is 141.
 */
export async function main(argv: string[]): Promise<number> {
	try {
		refuseArgumentsNotUtf8(argv);
		const startsProgram = ['run', 'trace', 'comux'].includes(argv[0] ?? '') && argv.includes('--');
		if (startsProgram) {
			warnOfVariablesNotUtf8();
		}

		warnOfBytesReplacedByNpx(argv, startsProgram);

		const cli = createCli();
		await cli.parseAsync(withoutMisplacedHelp(cli, helpArguments(cli, holdOperands(argv))), {from: 'user'});
		if (outputClosed()) {
			return closedOutputStatus;
		}

		if (outputFailed()) {
			return failedOutputStatus;
		}

		return typeof process.exitCode === 'number' ? process.exitCode : 0;
	} catch (error) {
		if (outputClosed() || isClosedPipe(error)) {
			return closedOutputStatus;
		}

		if (outputFailed()) {
			return failedOutputStatus;
		}

		if (error instanceof CommanderError) {
			if (error.code === 'commander.help' && error.exitCode !== 0 && helpForMissingCommand) {
				const group = helpForMissingCommand.replace(/ \[options\].*$/, '');
				process.stderr.write(`pdi: missing command (usage: ${helpForMissingCommand}; '${group} --help' lists them)\n`);
			}

			return error.exitCode === 0 ? 0 : 2;
		}

		const signal = forwardedSignal();
		if (signal) {
			return exitStatus(null, signal);
		}

		const failure = error instanceof PdiError ? error : fileSystemError(error);
		if (failure) {
			printLine(`pdi: ${failure.message}`);
			// A config with several problems: each on a line of its own, as a compiler lists its errors.
			for (const issue of failure instanceof ConfigError ? failure.issues.slice(1) : []) {
				printLine(`pdi: ${placedMessage(issue.message, issue)}`);
			}

			return failure.exitCode;
		}

		process.stderr.write(`pdi: internal error: ${(error as Error).stack ?? String(error)}\n`);
		return 70;
	} finally {
		removeTemporaryDirectories();
	}
}

/**
 * Ends pdi with `status`; by the signal itself when the program died of one the terminal sent them both (Ctrl-C):
 * a shell running pdi in a loop then stops the loop, as it does when a program it runs dies of the signal, and goes
 * on when the program handled it and exited (docs/launching.md, "Signals").
 */
function end(status: number): void {
	const signal = terminalSignalThatEnded(status);
	if (signal === undefined) {
		process.exitCode = status;
		return;
	}

	dieBy(signal);
}

/** Ends pdi by `signal`, once what it wrote is out. Its event, should it still be on its way, finds no listener. */
function dieBy(signal: NodeJS.Signals): void {
	process.removeAllListeners(signal);
	process.stdout.write('', () => {
		process.stderr.write('', () => {
			process.kill(process.pid, signal);
		});
	});
}

takeInheritedState();
followJobStops();
handleSignals();
followNpmParent();
watchClosedOutput();
end(await main(process.argv.slice(2)));
