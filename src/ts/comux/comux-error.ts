import {PdiError} from '../errors.js';

/**
 * A comux file or document that cannot be used: bad magic, an unsupported version, a
 * truncated header or chunk, an id, count or length out of range, unknown flags, trailing
 * bytes, a connection without a chunk.
 *
 * The message is `<reason> at byte <offset>` (the bare reason when no offset applies), the same
 * text the native reader prints after `pdi-comux: `. The CLI prints `pdi: <message>` and exits
 * with status 3.
 */
export class ComuxError extends PdiError {
	override name = 'ComuxError';

	/** Byte offset in the file the problem is at, when there is one. */
	readonly offset: number | undefined;
	/** The message without ` at byte N`. */
	readonly reason: string;
	/**
	 * For a JSON description: the field the problem is in (keys and indexes, `['chunks', 2, 'conn']`),
	 * and whether it is the key itself (an unknown key) rather than its value.
	 */
	readonly field: {path: Array<string | number>; key: boolean} | undefined;

	constructor(reason: string, offset?: number, options: {cause?: unknown; field?: {path: Array<string | number>; key: boolean}} = {}) {
		super(offset === undefined ? reason : `${reason} at byte ${offset}`, {exitCode: 3, cause: options.cause});
		this.offset = offset;
		this.reason = reason;
		this.field = options.field;
	}
}
