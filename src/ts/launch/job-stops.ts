import type {ChildProcess} from 'node:child_process';
import {constants} from 'node:os';
import {nativeBinding} from '../native/binding.js';
import {processStat} from '../proc-stat.js';

/**
 * Whether pdi runs as a job of a shell with job control: it leads its process group and has a controlling terminal.
 * Such a shell waits for its jobs to stop as well as to end; another parent only waits for the end, and a pdi stopped
 * under it would stay stopped when someone continued the program alone.
 */
function jobOfAShell(): boolean {
	const fields = processStat('self') ?? [];
	return Number(fields[2]) === process.pid && Number(fields[4]) !== 0;
}

function stopped(pid: number): boolean {
	return processStat(pid)?.[0] === 'T';
}

let jobControl = false;

/** Makes this process follow its programs' stops (the `pdi` command; a library caller's process is left alone). */
export function followJobStops(): void {
	jobControl = true;
}

const signalNames = new Map(Object.entries(constants.signals).map(([name, number]) => [number, name as NodeJS.Signals]));

/**
 * While `child` runs: when it stops by itself (`raise(SIGSTOP)`, `kill -TSTP` sent to it alone) and pdi is a job of
 * an interactive shell, pdi stops by the same signal, so that the shell shows the job stopped and gives its prompt
 * back, as without pdi (before, the terminal hung until Ctrl-Z and `fg`); when pdi is continued, so is the child, if
 * it is still stopped (`fg` and `bg` continue the whole job already). A stop the terminal sent (Ctrl-Z) stopped pdi
 * too. Only in the `pdi` command ({@link followJobStops}). Returns the function that stops following.
 */
export function followStops(child: ChildProcess): () => void {
	const {pid} = child;
	if (!jobControl || pid === undefined || !jobOfAShell()) {
		return () => undefined;
	}

	let binding;
	try {
		binding = nativeBinding();
	} catch {
		return () => undefined;
	}

	const onChild = (): void => {
		const signal = binding.childStopSignal(pid);
		if (signal !== null && stopped(pid)) {
			// SIGSTOP for a stop signal pdi has a handler for (none today), which would keep it from stopping.
			const name = signalNames.get(signal);
			process.kill(process.pid, name !== undefined && process.listenerCount(name) === 0 ? name : 'SIGSTOP');
		}
	};

	const onContinue = (): void => {
		if (stopped(pid)) {
			child.kill('SIGCONT');
		}
	};

	process.on('SIGCHLD', onChild);
	process.on('SIGCONT', onContinue);
	// A program that stopped before the listener was there (at its first instruction, say) is stopped already.
	onChild();
	return () => {
		process.off('SIGCHLD', onChild);
		process.off('SIGCONT', onContinue);
	};
}
