import {constants} from 'node:os';

/** pdi's exit status once the reader of its output has gone: 128+SIGPIPE, what a shell reports for a program SIGPIPE ended. */
export const closedOutputStatus = 128 + constants.signals.SIGPIPE;

let closed = false;

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
 * A write to stdout or stderr that finds the reader gone ends pdi's output
 * there instead of throwing an unhandled 'error' event (a stack trace and
 * status 1): the command runs on to its normal end, cleaning up as always.
 */
export function watchClosedOutput(): void {
	for (const stream of [process.stdout, process.stderr]) {
		stream.on('error', (error: Error) => {
			if (!isClosedPipe(error)) {
				throw error;
			}

			closeOutput();
		});
	}
}
