/**
 * An expected failure of pdi itself (bad usage, a program that cannot be
 * instrumented, a missing native build). The CLI prints `pdi: <message>` and
 * exits with `exitCode`, without a stack trace.
 */
export class PdiError extends Error {
	override name = 'PdiError';

	/** Exit status the CLI uses for this error. */
	readonly exitCode: number;

	constructor(message: string, options: {exitCode?: number; cause?: unknown} = {}) {
		super(message, {cause: options.cause});
		this.exitCode = options.exitCode ?? 2;
	}
}
