import {PdiError, shown} from '../errors.js';
import {ComuxError} from './comux-error.js';

/**
 * The comux format: one conversation of several client connections in one file.
 *
 * ```
 * header  magic "comux!!!" (8 bytes) | version u32 (= 0) | num_conns u32 | num_chunks u32
 * chunk   conn_id u32 | len u64 | sched u32 | flags u32 | data (len bytes)      × num_chunks
 * ```
 *
 * All integers are little-endian, without padding. The limits and the error messages are the
 * native reader's (`src/native/backends/comux-accept/comux.c`), byte for byte.
 */

/** The 8 bytes every comux file starts with: `comux!!!`. */
export const COMUX_MAGIC: Uint8Array = new Uint8Array([0x63, 0x6F, 0x6D, 0x75, 0x78, 0x21, 0x21, 0x21]);
/** The only version there is. */
export const COMUX_VERSION = 0;
/** Size of the file header: magic, version, num_conns, num_chunks. */
export const COMUX_HEADER_SIZE = 20;
/** Size of a chunk header: conn_id, len, sched, flags. */
export const COMUX_CHUNK_HEADER_SIZE = 20;

/** Chunk flag: after sending the chunk, read the server's reply and write it to stdout. */
export const AWAIT_RESPONSE = 0x1;
/** Chunk flag: do not shut down the write side after the connection's last chunk. */
export const NO_SHUTDOWN = 0x2;
/** Every flag bit that means something; any other bit is invalid. */
export const COMUX_KNOWN_FLAGS = AWAIT_RESPONSE | NO_SHUTDOWN;

/** Most connections a file may declare. */
export const COMUX_MAX_CONNS = 65_536;
/** Most chunks a file may declare. */
export const COMUX_MAX_CHUNKS = 1_048_576;
/** Longest chunk data: 64 MiB. */
export const COMUX_MAX_CHUNK_LEN = 67_108_864;
/** Largest file: 256 MiB. */
export const COMUX_MAX_INPUT = 268_435_456;

/** One chunk: `data` to send on connection `conn` at schedule position `sched`. */
export type ComuxChunk = {
	/** Connection id, below the document's `numConns`. */
	conn: number;
	/** Schedule value (u32): chunks are sent in ascending `sched`, equal values in file order. */
	sched: number;
	/** {@link AWAIT_RESPONSE} | {@link NO_SHUTDOWN}. */
	flags: number;
	data: Uint8Array;
};

/** A whole comux file: its connections and its chunks in file order. */
export type ComuxDocument = {
	version: 0;
	/** Number of connections; each of 0..numConns-1 has at least one chunk. */
	numConns: number;
	chunks: ComuxChunk[];
};

/** What the functions that read a document take: a {@link ComuxDocument}, also one written `as const` (its chunks readonly). */
export type ReadonlyComuxDocument = {
	readonly version: 0;
	readonly numConns: number;
	readonly chunks: readonly ComuxChunk[];
};

const maxU32 = 0xFFFF_FFFF;

function readU32(bytes: Uint8Array, offset: number): number {
	return ((bytes[offset] ?? 0) | (bytes[offset + 1] ?? 0) << 8 | (bytes[offset + 2] ?? 0) << 16 | (bytes[offset + 3] ?? 0) << 24) >>> 0;
}

function readU64(bytes: Uint8Array, offset: number): bigint {
	return BigInt(readU32(bytes, offset)) | BigInt(readU32(bytes, offset + 4)) << 32n;
}

function writeU32(bytes: Uint8Array, offset: number, value: number): void {
	bytes[offset] = value & 0xFF;
	bytes[offset + 1] = value >>> 8 & 0xFF;
	bytes[offset + 2] = value >>> 16 & 0xFF;
	bytes[offset + 3] = value >>> 24 & 0xFF;
}

function writeU64(bytes: Uint8Array, offset: number, value: number): void {
	writeU32(bytes, offset, value % 0x1_0000_0000);
	writeU32(bytes, offset + 4, Math.floor(value / 0x1_0000_0000));
}

/** A value of any type in a message; `String()` throws for some (an object without a prototype). */
function show(value: unknown): string {
	try {
		return String(value);
	} catch {
		return typeof value;
	}
}

function isU32(value: unknown): value is number {
	return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= maxU32;
}

/**
 * Checks what can be checked from the first bytes of an input and its total length: the magic
 * on the bytes present, the size limit, a header too short. {@link parseComux} starts with this;
 * a reader that does not want to load an over-long input can call it with the first 8 bytes.
 *
 * @throws ComuxError
 */
export function checkComuxHead(head: Uint8Array, length: number): void {
	const present = Math.min(length, head.length, COMUX_MAGIC.length);
	for (let i = 0; i < present; i++) {
		if (head[i] !== COMUX_MAGIC[i]) {
			throw new ComuxError('bad magic', 0);
		}
	}

	if (length < COMUX_MAGIC.length) {
		throw truncated('header', 0, length, COMUX_HEADER_SIZE);
	}

	if (length > COMUX_MAX_INPUT) {
		throw new ComuxError(`input of ${length} bytes exceeds the limit ${COMUX_MAX_INPUT}`, COMUX_MAX_INPUT);
	}

	if (length < COMUX_HEADER_SIZE) {
		throw truncated('header', 0, length, COMUX_HEADER_SIZE);
	}
}

/** A part the file ends inside of: the offset is where the part starts, the message says how much of it is there. */
function truncated(part: string, start: number, present: number, size: number): ComuxError {
	return new ComuxError(`truncated ${part} (only ${present} of its ${size} bytes)`, start);
}

/**
 * Parses and validates a whole comux file. The chunks' data are copies (plain Uint8Arrays, even
 * when `bytes` is a Buffer), not views of `bytes`.
 *
 * @throws ComuxError naming the first problem and its byte offset, in the native reader's words; a `PdiError` when
 * `bytes` is not a Uint8Array (a string, a file name: read the file first)
 */
export function parseComux(bytes: Uint8Array): ComuxDocument {
	const given: unknown = bytes;
	if (!(given instanceof Uint8Array)) {
		// A file name or text would read as a bad magic at byte 0, which blames a file the caller never gave.
		throw new PdiError(`parseComux: expected the bytes of a comux file (a Uint8Array: readFileSync(file), comux().bytes()), got ${shown(given)}`);
	}

	const {length} = bytes;
	checkComuxHead(bytes, length);
	const version = readU32(bytes, 8);
	if (version !== COMUX_VERSION) {
		throw new ComuxError(`unsupported version ${version}`, 8);
	}

	const numConns = readU32(bytes, 12);
	if (numConns > COMUX_MAX_CONNS) {
		throw new ComuxError(`num_conns ${numConns} exceeds the limit ${COMUX_MAX_CONNS}`, 12);
	}

	const numChunks = readU32(bytes, 16);
	if (numChunks > COMUX_MAX_CHUNKS) {
		throw new ComuxError(`num_chunks ${numChunks} exceeds the limit ${COMUX_MAX_CHUNKS}`, 16);
	}

	const seen = new Uint8Array(numConns);
	const chunks: ComuxChunk[] = [];
	let offset = COMUX_HEADER_SIZE;
	for (let i = 0; i < numChunks; i++) {
		if (length - offset < COMUX_CHUNK_HEADER_SIZE) {
			throw truncated(`header of chunk ${i}`, offset, length - offset, COMUX_CHUNK_HEADER_SIZE);
		}

		const conn = readU32(bytes, offset);
		const len = readU64(bytes, offset + 4);
		const sched = readU32(bytes, offset + 12);
		const flags = readU32(bytes, offset + 16);
		if (conn >= numConns) {
			throw new ComuxError(`chunk ${i}: conn_id ${conn} is not below num_conns ${numConns}`, offset);
		}

		if (len > BigInt(COMUX_MAX_CHUNK_LEN)) {
			throw new ComuxError(`chunk ${i}: len ${len} exceeds the limit ${COMUX_MAX_CHUNK_LEN}`, offset + 4);
		}

		if ((flags & ~COMUX_KNOWN_FLAGS) !== 0) {
			throw new ComuxError(`chunk ${i}: unknown flags 0x${flags.toString(16)}`, offset + 16);
		}

		const size = Number(len);
		const start = offset + COMUX_CHUNK_HEADER_SIZE;
		if (length - start < size) {
			throw truncated(`data of chunk ${i}`, start, length - start, size);
		}

		chunks.push({conn, sched, flags, data: new Uint8Array(bytes.subarray(start, start + size))});
		seen[conn] = 1;
		offset = start + size;
	}

	if (offset < length) {
		throw new ComuxError(`${length - offset} trailing bytes`, offset);
	}

	const missing = seen.indexOf(0);
	if (missing !== -1) {
		throw new ComuxError(`connection ${missing} has no chunk`, 12);
	}

	return {version: COMUX_VERSION, numConns, chunks};
}

/**
 * Checks a document the way {@link parseComux} checks a file, in the same order and with the same
 * messages, each with the offset the problem would have in the serialized file (plus checks a
 * file cannot fail: fields that are not u32 integers, data that is not a Uint8Array). Returns
 * the size of the serialized file.
 *
 * @throws ComuxError
 */
export function validateComux(doc: ReadonlyComuxDocument): number {
	// A document from JavaScript may be anything; an unknown keeps Array.isArray from narrowing chunks to any[].
	const chunks: unknown = typeof doc === 'object' && doc !== null ? doc.chunks : undefined;
	if (!Array.isArray(chunks)) {
		throw new ComuxError('a comux document needs a chunks array');
	}

	let size = COMUX_HEADER_SIZE;
	for (const [i, chunk] of doc.chunks.entries()) {
		if (typeof chunk !== 'object' || chunk === null || !(chunk.data instanceof Uint8Array)) {
			throw new ComuxError(`chunk ${i}: data is not a Uint8Array`);
		}

		size += COMUX_CHUNK_HEADER_SIZE + chunk.data.length;
	}

	if (size > COMUX_MAX_INPUT) {
		throw new ComuxError(`input of ${size} bytes exceeds the limit ${COMUX_MAX_INPUT}`, COMUX_MAX_INPUT);
	}

	if (doc.version !== COMUX_VERSION) {
		throw new ComuxError(`unsupported version ${show(doc.version)}`, 8);
	}

	const {numConns} = doc;
	if (!isU32(numConns)) {
		throw new ComuxError(`num_conns ${show(numConns)} is not a u32`, 12);
	}

	if (numConns > COMUX_MAX_CONNS) {
		throw new ComuxError(`num_conns ${numConns} exceeds the limit ${COMUX_MAX_CONNS}`, 12);
	}

	if (doc.chunks.length > COMUX_MAX_CHUNKS) {
		throw new ComuxError(`num_chunks ${doc.chunks.length} exceeds the limit ${COMUX_MAX_CHUNKS}`, 16);
	}

	const seen = new Uint8Array(numConns);
	let offset = COMUX_HEADER_SIZE;
	for (const [i, {conn, sched, flags, data}] of doc.chunks.entries()) {
		if (!isU32(conn)) {
			throw new ComuxError(`chunk ${i}: conn_id ${show(conn)} is not a u32`, offset);
		}

		if (conn >= numConns) {
			throw new ComuxError(`chunk ${i}: conn_id ${conn} is not below num_conns ${numConns}`, offset);
		}

		if (data.length > COMUX_MAX_CHUNK_LEN) {
			throw new ComuxError(`chunk ${i}: len ${data.length} exceeds the limit ${COMUX_MAX_CHUNK_LEN}`, offset + 4);
		}

		if (!isU32(sched)) {
			throw new ComuxError(`chunk ${i}: sched ${show(sched)} is not a u32`, offset + 12);
		}

		if (!isU32(flags)) {
			throw new ComuxError(`chunk ${i}: flags ${show(flags)} is not a u32`, offset + 16);
		}

		if ((flags & ~COMUX_KNOWN_FLAGS) !== 0) {
			throw new ComuxError(`chunk ${i}: unknown flags 0x${flags.toString(16)}`, offset + 16);
		}

		seen[conn] = 1;
		offset += COMUX_CHUNK_HEADER_SIZE + data.length;
	}

	const missing = seen.indexOf(0);
	if (missing !== -1) {
		throw new ComuxError(`connection ${missing} has no chunk`, 12);
	}

	return size;
}

/**
 * The bytes of a document, after {@link validateComux}: `serializeComux(parseComux(b))` is `b`.
 *
 * @throws ComuxError when the document is not one {@link parseComux} would accept
 */
export function serializeComux(doc: ReadonlyComuxDocument): Uint8Array {
	const bytes = new Uint8Array(validateComux(doc));
	bytes.set(COMUX_MAGIC, 0);
	writeU32(bytes, 8, COMUX_VERSION);
	writeU32(bytes, 12, doc.numConns);
	writeU32(bytes, 16, doc.chunks.length);
	let offset = COMUX_HEADER_SIZE;
	for (const {conn, sched, flags, data} of doc.chunks) {
		writeU32(bytes, offset, conn);
		writeU64(bytes, offset + 4, data.length);
		writeU32(bytes, offset + 12, sched);
		writeU32(bytes, offset + 16, flags);
		bytes.set(data, offset + COMUX_CHUNK_HEADER_SIZE);
		offset += COMUX_CHUNK_HEADER_SIZE + data.length;
	}

	return bytes;
}

/** Chunk indices in the order they are sent: ascending `sched`, equal values in file order. */
export function scheduleOrder(doc: Pick<ReadonlyComuxDocument, 'chunks'>): number[] {
	// Array.prototype.sort is stable (ES2019), so ties keep file order.
	return doc.chunks
		.map(({sched}, index) => ({sched, index}))
		.sort((a, b) => a.sched - b.sched)
		.map(({index}) => index);
}
