import type {ChildProcess} from 'node:child_process';
import {constants} from 'node:os';
import {isMainThread} from 'node:worker_threads';
import {nativeBinding} from '../native/binding.js';
import {followStops} from './job-stops.js';
import {processStat} from '../proc-stat.js';

/** The signals pdi passes on to the programs it runs. */
export const forwardedSignals: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * The signals the `pdi` command also passes on to the program it runs, as sudo does (nginx reopens its logs on
 * SIGUSR1, stops gracefully on SIGQUIT): their default action would end pdi and orphan the program, and SIGUSR1
 * would open Node's debugger on port 9229 instead. Only the command listens to them: in a process that uses pdi as a
 * library they stay its own.
 */
export const alsoPassedOn: readonly NodeJS.Signals[] = ['SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGALRM'];

/** The programs that forwardSignals() passes signals on to now. */
const forwardTargets = new Set<ChildProcess>();

/** Passes `signal` (one of {@link alsoPassedOn}) on to the running programs that did not get it from the terminal too; false when none runs. */
export function passOn(signal: NodeJS.Signals): boolean {
	for (const child of forwardTargets) {
		deliver(signal, child);
	}

	return forwardTargets.size > 0;
}

/** Adds `member` to `members`; `listener` is on the forwarded signals while `members` is not empty. */
function addWhileListening<T>(members: Set<T>, member: T, listener: (signal: NodeJS.Signals) => void): () => void {
	if (members.size === 0) {
		for (const signal of forwardedSignals) {
			process.on(signal, listener);
		}
	}

	members.add(member);
	return () => {
		if (members.delete(member) && members.size === 0) {
			for (const signal of forwardedSignals) {
				process.off(signal, listener);
			}
		}
	};
}

const receivers = new Set<(signal: NodeJS.Signals) => void>();
let lastForwarded: NodeJS.Signals | undefined;

function forward(signal: NodeJS.Signals): void {
	lastForwarded = signal;
	for (const receive of receivers) {
		receive(signal);
	}
}

/**
 * Hands SIGINT, SIGTERM and SIGHUP received by this process to `receive`
 * (which stops what pdi started) until the returned function is called;
 * meanwhile they do not end pdi at once.
 */
export function receiveSignals(receive: (signal: NodeJS.Signals) => void): () => void {
	return addWhileListening(receivers, receive, forward);
}

let fromTheTerminal: NodeJS.Signals | undefined;
let watchingSenders = false;

/** si_code of a signal the kernel sent: the terminal's Ctrl-C and hangup, to the whole foreground process group. */
const sentByTheKernel = 0x80;

/** Whether the addon noted the last `signal` (since the last question) as the terminal's; without it, no. */
function notedAsTheTerminals(signal: NodeJS.Signals): boolean {
	try {
		return watchingSenders && nativeBinding().signalSender(constants.signals[signal]) === sentByTheKernel;
	} catch {
		return false;
	}
}

/**
 * Whether the last `signal` pdi received came from the terminal (Ctrl-C, a hangup) to the process group pdi shares
 * with a program it runs, whether or not its event has reached pdi's JavaScript yet.
 */
export function sentByTheTerminal(signal: NodeJS.Signals): boolean {
	return fromTheTerminal === signal || notedAsTheTerminals(signal);
}

/** The signal that ended a program pdi ran with exit status `status` (128+N), when the terminal sent it (Ctrl-C). */
export function terminalSignalThatEnded(status: number): NodeJS.Signals | undefined {
	const signal = forwardedSignals.find(candidate => exitStatus(null, candidate) === status);
	return signal !== undefined && sentByTheTerminal(signal) ? signal : undefined;
}

/** The process group of process `pid` (field 5 of /proc/PID/stat), or undefined when it cannot be read. */
function processGroup(pid: number | 'self'): string | undefined {
	return processStat(pid)?.[2];
}

/**
 * Whether `signal`, just received, reached `child` as well: the terminal sent it (Ctrl-C, a hangup) to the
 * foreground process group, and the child is still in pdi's. Without the addon pdi cannot tell, and says no.
 */
function reachedTheChildToo(signal: NodeJS.Signals, child: ChildProcess): boolean {
	if (!notedAsTheTerminals(signal)) {
		return false;
	}

	// A child already gone (most often by this very signal) reads as in pdi's group, as it was.
	const group = child.pid === undefined ? undefined : processGroup(child.pid);
	return group === undefined || group === processGroup('self');
}

/** Sends `signal`, just received, to `child`, unless the terminal sent it to both (the child has it already). */
function deliver(signal: NodeJS.Signals, child: ChildProcess): void {
	if (reachedTheChildToo(signal, child)) {
		fromTheTerminal = signal;
	} else {
		child.kill(signal);
	}
}

/**
 * Passes SIGINT, SIGTERM and SIGHUP received by this process on to `child`
 * until the returned function is called (when the child has exited); not
 * one the terminal sent to the process group they share, which the child
 * got itself (docs/launching.md, "Signals").
 */
export function forwardSignals(child: ChildProcess): () => void {
	const release = receiveSignals(signal => {
		deliver(signal, child);
	});
	watchSignalSenders();
	forwardTargets.add(child);
	const unfollow = followStops(child);
	return () => {
		forwardTargets.delete(child);
		unfollow();
		release();
	};
}

/**
 * Notes who sends the forwarded signals from now on (those pdi listens to already: the CLI's), so that one the
 * terminal sends while a program is being started is known as the terminal's too. Without the addon, every signal is
 * passed on.
 */
export function watchSignalSenders(): void {
	try {
		nativeBinding().watchSignalSenders([...forwardedSignals, 'SIGQUIT' as const].map(signal => constants.signals[signal]));
		watchingSenders = true;
	} catch {}
}

/** Whether a program started by pdi is running and receives the signals this process gets. */
export function forwardingSignals(): boolean {
	return receivers.size > 0;
}

/** The last signal passed on to a program started by pdi, if any. */
export function forwardedSignal(): NodeJS.Signals | undefined {
	return lastForwarded;
}

/** Exit status of a child, shell style: its status, or 128+N when signal N ended it. */
export function exitStatus(code: number | null, signal: NodeJS.Signals | null): number {
	if (signal) {
		return 128 + (constants.signals[signal] ?? 0);
	}

	return code ?? 1;
}

const removedOnSignal = new Set<() => void>();

/**
 * A SIGINT, SIGTERM or SIGHUP that nothing else in the process listens to ends it without its 'exit' event: the
 * temporary files given to {@link removeOnSignal} (of the interpose() and observe() sessions still open, of the
 * programs spawn() started that still run) are removed first, then the signal is raised again with its default
 * action, so that the process still ends by it (status 128+N). A process with a listener of its own (runProgram()'s
 * forwarding is one) is left to it.
 */
function removeThenRaise(signal: NodeJS.Signals): void {
	if (process.listenerCount(signal) > 1) {
		return;
	}

	for (const remove of removedOnSignal) {
		remove();
	}

	removedOnSignal.clear();
	for (const fatal of forwardedSignals) {
		process.off(fatal, removeThenRaise);
	}

	process.kill(process.pid, signal);
}

/**
 * Runs `remove` should the process be ended by a signal before the returned function is called. Signals reach only
 * the main thread; a worker's files are removed by the addon when the worker ends.
 */
export function removeOnSignal(remove: () => void): () => void {
	if (!isMainThread) {
		return () => undefined;
	}

	return addWhileListening(removedOnSignal, remove, removeThenRaise);
}
