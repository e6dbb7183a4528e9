import {PdiError, printLine, shown} from '../errors.js';
import {resolveProgram, secureModeReason} from '../launch/program.js';
import {forwardedSignal, terminalSignalThatEnded} from '../launch/signals.js';

/** More operands after `--` than this are held out of commander's parsing (see {@link holdOperands}). */
const operandsParsed = 10_000;
const heldMark = '[the arguments pdi holds]';
let held: string[] = [];

/**
 * `argv` with the operands after `--` beyond the first {@link operandsParsed} replaced by one mark: commander spreads
 * the rest of a command line into one function call's arguments, which overflows the stack from about 120,000
 * (`pdi run -- prog $(seq 130000)` was an internal error, where the kernel takes about 146,000 such arguments).
 * {@link requireProgram} and {@link withHeldOperands} put them back.
 */
export function holdOperands(argv: string[]): string[] {
	const dashes = argv.indexOf('--');
	if (dashes < 0 || argv.length - dashes - 1 <= operandsParsed) {
		return argv;
	}

	held = argv.slice(dashes + 1 + operandsParsed);
	return [...argv.slice(0, dashes + 1 + operandsParsed), heldMark];
}

/** `operands` (the PROGRAM or SERVER operands as commander gave them) with the held ones back in place of the mark. */
export function withHeldOperands(operands: string[]): string[] {
	return operands.at(-1) === heldMark && held.length > 0 ? [...operands.slice(0, -1), ...held] : operands;
}

/** The PROGRAM operand and its arguments, or a one-line error naming the command's usage. */
export function requireProgram(command: string[], usage: string): [string, ...string[]] {
	const [program, ...args] = withHeldOperands(command);
	if (program === undefined) {
		throw new PdiError(`missing PROGRAM (usage: ${usage})`);
	}

	return [program, ...args];
}

/**
 * Warns, in one line, when PROGRAM is set-user-ID or set-group-ID to someone else: the loader runs it in secure mode,
 * ignoring LD_PRELOAD, so it would run without pdi and nothing would say so. Problems resolving it are left to the launch.
 */
export function warnSecureMode(command: string): void {
	let reason;
	try {
		reason = secureModeReason(resolveProgram(command));
	} catch {
		return;
	}

	if (reason !== undefined) {
		printLine(`pdi: warning: ${command} is ${reason}: the loader runs it in secure mode, which ignores LD_PRELOAD, so it runs without pdi`);
	}
}

/**
 * A process id given on the command line (decimal, 1 to 2^31 - 1), in a message that names where it was given (`-p`
 * of pdi trace, the PID operand of pdi attach) and quotes the value, so that an empty or blank one shows; a process
 * that does not exist is `no such process: N` (checkPid, after this).
 */
export function parsePid(text: string, name: string): number {
	const pid = /^[1-9]\d{0,9}$/.test(text) ? Number(text) : Number.NaN;
	if (!(pid <= 0x7F_FF_FF_FF)) {
		throw new PdiError(`${name}: expected a process id (a decimal integer from 1 to 2147483647), got ${shown(text)}`);
	}

	return pid;
}

/** Signals whose death a shell does not announce either: the user's own Ctrl-C, and a reader that went away. */
const unannouncedSignals: ReadonlySet<NodeJS.Signals> = new Set(['SIGINT', 'SIGPIPE']);

/**
 * Says, in one line, that PROGRAM died of `signal`: the shell that runs pdi sees only pdi's status (128+N) and prints
 * no `Segmentation fault` line of its own, so without this a crash under pdi went by in silence. Not for SIGINT and
 * SIGPIPE, as a shell says nothing of those, nor when the terminal's signal ended PROGRAM (pdi then ends by it too,
 * and the shell speaks), nor when pdi passed the signal on (whoever sent it to pdi knows; and pdi's stderr may be a
 * pipe nobody reads any more).
 */
export function sayKilledBy(program: string, signal: NodeJS.Signals | undefined, status: number): void {
	if (signal !== undefined && !unannouncedSignals.has(signal) && terminalSignalThatEnded(status) === undefined && forwardedSignal() !== signal) {
		printLine(`pdi: ${program} was killed by ${signal}`);
	}
}
