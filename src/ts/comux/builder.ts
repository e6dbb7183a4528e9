import {ComuxError} from './comux-error.js';
import {
	AWAIT_RESPONSE,
	COMUX_MAX_CHUNK_LEN,
	COMUX_MAX_CHUNKS,
	COMUX_MAX_CONNS,
	COMUX_VERSION,
	NO_SHUTDOWN,
	serializeComux,
	validateComux,
	type ComuxChunk,
	type ComuxDocument,
} from './format.js';
import {shown} from '../errors.js';
import {isRecord} from '../is-record.js';
import {nearNameHint} from '../near-name.js';

/** Options of {@link ComuxBuilder.conn}. */
export type ComuxChunkOptions = {
	/** Schedule value (u32); by default the chunk's position, so chunks go in file order. */
	sched?: number;
	/** Set {@link AWAIT_RESPONSE}: read the server's reply after sending this chunk. */
	awaitResponse?: boolean;
	/** Set {@link NO_SHUTDOWN}: keep the write side open after the connection's last chunk. */
	noShutdown?: boolean;
};

const encoder = new TextEncoder();

function toBytes(data: string | Uint8Array): Uint8Array {
	return typeof data === 'string' ? encoder.encode(data) : data;
}

/**
 * The first unpaired UTF-16 surrogate of `text`, spelled `\ud800`; undefined when there is none. UTF-8 has no
 * bytes for one: TextEncoder would write U+FFFD in its place, bytes the caller never gave.
 */
function unpairedSurrogate(text: string): string | undefined {
	// In a `u` expression a pair is one code point, so only a half without its other half matches.
	const match = /[\uD800-\uDFFF]/u.exec(text);
	return match ? `\\u${match[0].charCodeAt(0).toString(16)}` : undefined;
}

const notUtf8 = 'not text that UTF-8 can carry';

const chunkOptionNames = ['sched', 'awaitResponse', 'noShutdown'];

/** A mistyped option of {@link ComuxBuilder.conn} (`{await: true}`, `null`) is an error, not a chunk without flags. */
function checkChunkOptions(chunk: number, options: unknown): void {
	if (!isRecord(options)) {
		throw new ComuxError(`chunk ${chunk}: options: expected an object {sched, awaitResponse, noShutdown}, got ${shown(options)}`);
	}

	for (const [key, value] of Object.entries(options)) {
		if (!chunkOptionNames.includes(key)) {
			throw new ComuxError(`chunk ${chunk}: unknown option '${key}'${nearNameHint(key, chunkOptionNames)}`);
		}

		if (key !== 'sched' && value !== undefined && typeof value !== 'boolean') {
			throw new ComuxError(`chunk ${chunk}: ${key}: expected true or false, got ${shown(value)}`);
		}
	}
}

/**
 * Builds a comux document chunk by chunk:
 *
 * ```ts
 * const bytes = comux()
 * 	.conn(0, 'GET / HTTP/1.1\r\n', {awaitResponse: false})
 * 	.conn(1, 'GET /other HTTP/1.1\r\n\r\n', {awaitResponse: true})
 * 	.conn(0, 'Host: x\r\n\r\n', {awaitResponse: true})
 * 	.bytes();
 * ```
 */
export class ComuxBuilder {
	private readonly chunks: ComuxChunk[] = [];
	private connectionCount: number | undefined;

	/**
	 * Appends a chunk for connection `id`. Strings are sent as UTF-8; a Uint8Array is kept as
	 * given (not copied).
	 *
	 * @throws ComuxError when `data` is neither, or a string with an unpaired surrogate (which UTF-8 cannot carry)
	 */
	conn(id: number, data: string | Uint8Array, options: ComuxChunkOptions = {}): this {
		if (typeof id !== 'number') {
			throw new ComuxError(`chunk ${this.chunks.length}: connection id: expected a number, got ${shown(id)}`);
		}

		// From JavaScript, data may be anything: say both types it may be (build() would have said only Uint8Array).
		const given: unknown = data;
		if (typeof given !== 'string' && !(given instanceof Uint8Array)) {
			throw new ComuxError(`chunk ${this.chunks.length}: data: expected a string or a Uint8Array, got ${shown(given)}`);
		}

		const surrogate = typeof data === 'string' ? unpairedSurrogate(data) : undefined;
		if (surrogate) {
			throw new ComuxError(`chunk ${this.chunks.length}: data: unpaired surrogate ${surrogate}: ${notUtf8} (give a Uint8Array for arbitrary bytes)`);
		}

		checkChunkOptions(this.chunks.length, options);
		const flags = (options.awaitResponse ? AWAIT_RESPONSE : 0) | (options.noShutdown ? NO_SHUTDOWN : 0);
		this.chunks.push({conn: id, sched: options.sched ?? this.chunks.length, flags, data: toBytes(data)});
		return this;
	}

	/** Declares `n` connections; by default, one more than the highest id used (0 without chunks). */
	numConns(n: number): this {
		this.connectionCount = n;
		return this;
	}

	/**
	 * The document, validated like a parsed file.
	 *
	 * @throws ComuxError when it is not valid (a connection without chunks, an id not below numConns, ...)
	 */
	build(): ComuxDocument {
		// Derived from the ids that can be ids: one that is not (1.5, NaN) is then reported as its chunk's conn_id.
		const numConns = this.connectionCount ?? this.chunks.reduce((most, chunk) => Number.isInteger(chunk.conn) ? Math.max(most, chunk.conn + 1) : most, 0);
		// The id at fault, not a num_conns the caller never gave (as `pdi comux build --chunk` and a description say it).
		const tooHigh = this.connectionCount === undefined ? this.chunks.findIndex(chunk => chunk.conn >= COMUX_MAX_CONNS) : -1;
		if (tooHigh >= 0) {
			throw new ComuxError(`chunk ${tooHigh}: connection ${this.chunks[tooHigh]!.conn} is above ${COMUX_MAX_CONNS - 1} (a comux file holds at most ${COMUX_MAX_CONNS} connections)`);
		}

		const doc: ComuxDocument = {version: COMUX_VERSION, numConns, chunks: this.chunks.map(chunk => ({...chunk}))};
		validateComux(doc);
		return doc;
	}

	/**
	 * The document's bytes.
	 *
	 * @throws ComuxError when it is not valid
	 */
	bytes(): Uint8Array {
		return serializeComux(this.build());
	}
}

/** A new, empty {@link ComuxBuilder}. */
export function comux(): ComuxBuilder {
	return new ComuxBuilder();
}

/**
 * Cuts one request into pieces, to send it in several chunks: `sizes` gives the length of each
 * piece (what is left after them becomes one last piece), `{size}` cuts pieces of `size` bytes
 * (the last one may be shorter). Strings are UTF-8 (a cut may fall inside a character). Empty
 * data gives one empty piece. The pieces are views of `data` when it is a Uint8Array.
 *
 * @throws RangeError when a size is not a non-negative integer (`size` must be positive), the sizes add up to more than the data, or a string has an unpaired surrogate
 */
export function splitRequest(data: string | Uint8Array, sizes: readonly number[] | {size: number}): Uint8Array[] {
	const surrogate = typeof data === 'string' ? unpairedSurrogate(data) : undefined;
	if (surrogate) {
		throw new RangeError(`splitRequest: unpaired surrogate ${surrogate}: ${notUtf8} (give a Uint8Array for arbitrary bytes)`);
	}

	const bytes = toBytes(data);
	const pieces: Uint8Array[] = [];
	if ('size' in sizes) {
		const {size} = sizes;
		if (!Number.isSafeInteger(size) || size <= 0) {
			throw new RangeError(`splitRequest: size must be a positive integer, got ${size}`);
		}

		for (let offset = 0; offset < bytes.length; offset += size) {
			pieces.push(bytes.subarray(offset, offset + size));
		}

		return pieces.length > 0 ? pieces : [bytes.subarray(0, 0)];
	}

	let offset = 0;
	for (const size of sizes) {
		if (!Number.isSafeInteger(size) || size < 0) {
			throw new RangeError(`splitRequest: sizes must be non-negative integers, got ${size}`);
		}

		if (offset + size > bytes.length) {
			throw new RangeError(`splitRequest: the sizes add up to more than the ${bytes.length} bytes of data`);
		}

		pieces.push(bytes.subarray(offset, offset + size));
		offset += size;
	}

	if (offset < bytes.length || pieces.length === 0) {
		pieces.push(bytes.subarray(offset));
	}

	return pieces;
}

/** One chunk of a {@link ComuxDescription}. */
export type ComuxChunkDescription = {
	conn: number;
	/** The chunk's bytes, spelled in `encoding`. */
	data: string;
	/** How `data` spells the bytes; `utf8` by default. */
	encoding?: 'utf8' | 'base64' | 'hex';
	/** Schedule value; by default the chunk's position. */
	sched?: number;
	awaitResponse?: boolean;
	noShutdown?: boolean;
};

/**
 * A comux document as JSON: what `pdi comux build --json` reads and `pdi comux show --json` prints.
 * `numConns` defaults to one more than the highest connection id.
 */
export type ComuxDescription = {
	version?: 0;
	numConns?: number;
	chunks: ComuxChunkDescription[];
};

const decoder = new TextDecoder('utf-8', {fatal: true, ignoreBOM: true});
const chunkKeys = new Set(['conn', 'data', 'encoding', 'sched', 'awaitResponse', 'noShutdown']);
const documentKeys = new Set(['version', 'numConns', 'chunks']);

function describe(value: unknown): string {
	return value === undefined ? 'nothing' : JSON.stringify(value);
}

type FieldPath = Array<string | number>;

/** A description field's path as messages spell it: `chunks[2].conn`. */
function label(path: FieldPath): string {
	return path.map((segment, index) => typeof segment === 'number' ? `[${segment}]` : index === 0 ? segment : `.${segment}`).join('');
}

/** The problem `text` of the field at `path`, as `chunks[2].conn: text`; `field` is where it is (the field itself by default). */
function fieldError(path: FieldPath, text: string, field = {path, key: false}): ComuxError {
	return new ComuxError(path.length === 0 ? text : `${label(path)}: ${text}`, undefined, {field});
}

function checkKeys(value: Record<string, unknown>, allowed: Set<string>, path: FieldPath): void {
	for (const key of Object.keys(value)) {
		if (!allowed.has(key)) {
			throw fieldError(path, `unknown key '${key}'${nearNameHint(key, allowed)}`, {path: [...path, key], key: true});
		}
	}
}

function u32Field(value: unknown, path: FieldPath): number {
	if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0xFFFF_FFFF) {
		throw fieldError(path, `expected an integer from 0 to 4294967295, got ${describe(value)}`);
	}

	return value;
}

function booleanField(value: unknown, path: FieldPath): boolean {
	if (value !== undefined && typeof value !== 'boolean') {
		throw fieldError(path, `expected true or false, got ${describe(value)}`);
	}

	return value ?? false;
}

function decodeData(data: unknown, encoding: unknown, chunk: FieldPath): Uint8Array {
	const where = [...chunk, 'data'];
	if (typeof data !== 'string') {
		throw fieldError(where, `expected a string, got ${describe(data)}`);
	}

	switch (encoding ?? 'utf8') {
		case 'utf8': {
			// JSON can spell one (`"\ud800"`); before, it became U+FFFD's three bytes without a word.
			const surrogate = unpairedSurrogate(data);
			if (surrogate) {
				throw fieldError(where, `unpaired surrogate ${surrogate}: ${notUtf8} (use "encoding": "hex" or "base64" for arbitrary bytes)`);
			}

			return encoder.encode(data);
		}

		case 'base64': {
			if (data.length % 4 !== 0 || !/^[A-Za-z\d+/]*={0,2}$/.test(data)) {
				throw fieldError(where, 'not valid base64');
			}

			return new Uint8Array(Buffer.from(data, 'base64'));
		}

		case 'hex': {
			const compact = data.replaceAll(/\s/g, '');
			if (compact.length % 2 !== 0 || !/^[\da-fA-F]*$/.test(compact)) {
				throw fieldError(where, 'not valid hex');
			}

			return new Uint8Array(Buffer.from(compact, 'hex'));
		}

		default: {
			throw fieldError([...chunk, 'encoding'], `expected 'utf8', 'base64' or 'hex', got ${describe(encoding)}`);
		}
	}
}

/**
 * The document a JSON description stands for (see {@link ComuxDescription}), validated.
 *
 * @throws ComuxError naming the field (`chunks[2].conn: ...`) or, for a valid shape that is not a valid document, as {@link validateComux}
 */
export function comuxFromDescription(value: unknown): ComuxDocument {
	if (!isRecord(value)) {
		throw new ComuxError(`a comux description is an object with a chunks array, got ${Array.isArray(value) ? 'an array' : describe(value)}`);
	}

	checkKeys(value, documentKeys, []);
	if (value['version'] !== undefined && value['version'] !== COMUX_VERSION) {
		throw fieldError(['version'], `unsupported version ${describe(value['version'])}`);
	}

	const {chunks} = value;
	if (!Array.isArray(chunks)) {
		throw fieldError(['chunks'], `expected an array, got ${describe(chunks)}`);
	}

	const builder = comux();
	const numConns = value['numConns'] === undefined ? undefined : u32Field(value['numConns'], ['numConns']);
	if (numConns !== undefined) {
		builder.numConns(numConns);
	}

	const conns: number[] = [];
	for (const [index, chunk] of (chunks as unknown[]).entries()) {
		const where = ['chunks', index];
		if (!isRecord(chunk)) {
			throw fieldError(where, `expected an object, got ${describe(chunk)}`);
		}

		checkKeys(chunk, chunkKeys, where);
		const conn = u32Field(chunk['conn'], [...where, 'conn']);
		const data = decodeData(chunk['data'], chunk['encoding'], where);
		if (data.length > COMUX_MAX_CHUNK_LEN) {
			throw fieldError([...where, 'data'], `len ${data.length} exceeds the limit ${COMUX_MAX_CHUNK_LEN}`);
		}

		conns.push(conn);
		builder.conn(conn, data, {
			sched: chunk['sched'] === undefined ? undefined : u32Field(chunk['sched'], [...where, 'sched']),
			awaitResponse: booleanField(chunk['awaitResponse'], [...where, 'awaitResponse']),
			noShutdown: booleanField(chunk['noShutdown'], [...where, 'noShutdown']),
		});
	}

	checkConnections(numConns, conns);
	return builder.build();
}

/**
 * The checks of the format that a description's connection ids and numConns can fail, at the field at fault (the
 * same words as the reader's, without a byte offset, which a description does not have).
 */
function checkConnections(numConns: number | undefined, conns: readonly number[]): void {
	if (numConns !== undefined && numConns > COMUX_MAX_CONNS) {
		throw fieldError(['numConns'], `num_conns ${numConns} exceeds the limit ${COMUX_MAX_CONNS}`);
	}

	if (conns.length > COMUX_MAX_CHUNKS) {
		throw fieldError(['chunks'], `num_chunks ${conns.length} exceeds the limit ${COMUX_MAX_CHUNKS}`);
	}

	for (const [index, conn] of conns.entries()) {
		if (numConns !== undefined && conn >= numConns) {
			throw fieldError(['chunks', index, 'conn'], `conn_id ${conn} is not below num_conns ${numConns}`);
		}

		// Without numConns the connections are 0 to the highest conn.
		if (conn >= COMUX_MAX_CONNS) {
			throw fieldError(['chunks', index, 'conn'], `connection ${conn} is above ${COMUX_MAX_CONNS - 1} (a comux file holds at most ${COMUX_MAX_CONNS} connections)`);
		}
	}

	const used = new Set(conns);
	const count = numConns ?? Math.max(-1, ...conns) + 1;
	for (let conn = 0; conn < count; conn++) {
		if (!used.has(conn)) {
			// numConns says it, or a higher connection id does (numConns defaults to one more than the highest).
			throw numConns === undefined
				? fieldError(['chunks'], `connection ${conn} has no chunk (without numConns the connections are 0 to the highest conn, ${count - 1})`)
				: fieldError(['numConns'], `connection ${conn} has no chunk`);
		}
	}
}

/**
 * The JSON description of a document: every field spelled out, data as UTF-8 text when it is
 * valid UTF-8, else as base64. `comuxFromDescription(comuxToDescription(doc))` equals `doc`.
 */
export function comuxToDescription(doc: ComuxDocument): Required<ComuxDescription> & {chunks: Array<Required<ComuxChunkDescription>>} {
	return {
		version: COMUX_VERSION,
		numConns: doc.numConns,
		chunks: doc.chunks.map(({conn, sched, flags, data}) => {
			let text: string | undefined;
			try {
				text = decoder.decode(data);
			} catch {}

			return {
				conn,
				sched,
				awaitResponse: (flags & AWAIT_RESPONSE) !== 0,
				noShutdown: (flags & NO_SHUTDOWN) !== 0,
				encoding: text === undefined ? 'base64' : 'utf8',
				data: text ?? Buffer.from(data.buffer, data.byteOffset, data.length).toString('base64'),
			};
		}),
	};
}
