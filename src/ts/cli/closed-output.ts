import {writeSync} from 'node:fs';
import {constants} from 'node:os';
import {fileSystemReason} from '../errors.js';
import {closedByTheShell} from '../launch/inherited.js';

/** pdi's exit status once the reader of its output has gone: 128+SIGPIPE, what a shell reports for a program SIGPIPE ended. */
export const closedOutputStatus = 128 + constants.signals.SIGPIPE;

/** pdi's exit status once it could not write its standard output or error for another reason (a full disk, an I/O error): that of its other failures. */
export const failedOutputStatus = 2;

let closed = false;
let failed = false;

/** Whether `error`, or an error it was caused by, is a write to a pipe whose reader has gone (EPIPE). */
export function isClosedPipe(error: unknown): boolean {
	for (let cause = error; cause instanceof Error; cause = cause.cause) {
		if ((cause as NodeJS.ErrnoException).code === 'EPIPE') {
			return true;
		}
	}

	return false;
}

/** Notes that the reader of pdi's output has gone: pdi ends with {@link closedOutputStatus}, reporting no error. */
function closeOutput(): void {
	closed = true;
	process.exitCode = closedOutputStatus;
}

/** Notes that the reader of pdi's output has gone, and returns the error that ends the command for it (EPIPE, see {@link isClosedPipe}). */
export function closedOutputError(): Error {
	closeOutput();
	return Object.assign(new Error('the reader of the output has gone'), {code: 'EPIPE'});
}

/** Whether {@link closeOutput} was called. */
export function outputClosed(): boolean {
	return closed;
}

/**
 * Notes that pdi could not write `stream` (standard output or error) for a reason other than a gone reader: one line
 * on stderr when that is stdout and stderr can still be written (`pdi: standard output: no space left on device`),
 * once; pdi then ends with {@link failedOutputStatus}.
 */
function failOutput(stream: NodeJS.WriteStream, error: Error): void {
	if (failed) {
		return;
	}

	failed = true;
	process.exitCode = failedOutputStatus;
	if (stream === process.stdout) {
		try {
			writeSync(2, `pdi: standard output: ${fileSystemReason(error)}\n`);
		} catch {
			// Stderr cannot be written either: the status says it.
		}
	}
}

/** Whether a write to stdout or stderr failed for a reason other than a gone reader (see {@link failOutput}). */
export function outputFailed(): boolean {
	return failed;
}

/**
 * A write to stdout or stderr that finds the reader gone ends pdi's output
 * there instead of throwing an unhandled 'error' event (a stack trace and
 * status 1): the command runs on to its normal end, cleaning up as always.
 * Any other failure of such a write (stdout on a full disk, /dev/full) is one
 * line and status 2, not a stack trace either.
 */
export function watchClosedOutput(): void {
	if (closedByTheShell(1)) {
		failWritesToStdout();
	}

	for (const stream of [process.stdout, process.stderr]) {
		stream.on('error', (error: Error) => {
			if (isClosedPipe(error)) {
				closeOutput();
			} else {
				failOutput(stream, error);
			}
		});
	}
}

/**
 * Started with its stdout closed (`pdi ... >&-`), pdi has /dev/null there, where Node put it: its own output (the
 * replies of `pdi comux run --fork`, a report) would vanish with status 0. A write fails instead, as it fails in a
 * program (`ls >&-` says `write error`): one line and status 2.
 */
function failWritesToStdout(): void {
	const closedStream = Object.assign(new Error('EBADF: bad file descriptor'), {code: 'EBADF'});
	process.stdout.write = ((chunk: string | Uint8Array, encoding?: BufferEncoding | ((error?: Error | null) => void), callback?: (error?: Error | null) => void): boolean => {
		if (chunk.length > 0) {
			failOutput(process.stdout, closedStream);
		}

		const done = typeof encoding === 'function' ? encoding : callback;
		if (done !== undefined) {
			process.nextTick(done);
		}

		return true;
	});
}
