import {readdirSync, readFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {
	AWAIT_RESPONSE,
	COMUX_MAX_CHUNK_LEN,
	COMUX_MAX_CHUNKS,
	COMUX_MAX_CONNS,
	COMUX_MAX_INPUT,
	ComuxError,
	NO_SHUTDOWN,
	checkComuxHead,
	comux,
	comuxFromDescription,
	comuxToDescription,
	parseComux,
	scheduleOrder,
	serializeComux,
	splitRequest,
	validateComux,
	type ComuxDocument,
} from '../src/ts/comux/index.js';
import {PdiError} from '../src/ts/errors.js';
import {root} from './helpers/cli.js';

/** The comux corpus kept in the repository (data/comux-samples, see its README). */
const samples = path.join(root, 'data/comux-samples');

/** Every sample file, as a path relative to the samples directory. */
const sampleFiles = readdirSync(samples, {recursive: true, withFileTypes: true})
	.filter(entry => entry.isFile() && entry.name !== 'README.md')
	.map(entry => path.relative(samples, path.join(entry.parentPath, entry.name)))
	.sort();

/** The samples that are not valid comux files, and why. */
const invalidSamples = new Map([
	['comux_test/comux_bad_cinfo_flags1.txt', 'bad magic at byte 0'],
	['comux_test/comux_bad_cinfo_id1.txt', 'bad magic at byte 0'],
	['comux_test/comux_bad_cinfo_len1.txt', 'bad magic at byte 0'],
	['comux_test/comux_bad_cinfo_sched1.txt', 'bad magic at byte 0'],
	['comux_test/comux_cinfo_valid.txt', 'bad magic at byte 0'], // a chunk header without a file header
	['comux_test/comux_bad_magic1.txt', 'truncated header (only 4 of its 20 bytes) at byte 0'], // "comu"
	['comux_test/comux_bad_magic2.txt', 'bad magic at byte 0'],
	['comux_test/comux_bad_version1.txt', 'truncated header (only 10 of its 20 bytes) at byte 0'],
	['http/comux_http_1c3c_separated.txt', '88 trailing bytes at byte 157'], // says 3 chunks, two more chunk records follow
	['http/comux_http_2c1c.txt', 'connection 0 has no chunk at byte 12'],
	['http/comux_http_2c2c.txt', '102 trailing bytes at byte 188'], // says 2 chunks, the rest of a request follows
	['tests_files/comux_2c1c.txt', 'connection 1 has no chunk at byte 12'],
]);

const validSamples = sampleFiles.filter(file => !invalidSamples.has(file));

function sample(file: string): Uint8Array {
	return new Uint8Array(readFileSync(path.join(samples, file)));
}

type Field = {u32: number} | {u64: bigint} | {bytes: Uint8Array | string};

/** Bytes laid out by hand (little-endian), independently of serializeComux. */
function layout(...fields: Field[]): Uint8Array {
	const parts = fields.map(field => {
		if ('u32' in field) {
			const part = new Uint8Array(4);
			new DataView(part.buffer).setUint32(0, field.u32, true);
			return part;
		}

		if ('u64' in field) {
			const part = new Uint8Array(8);
			new DataView(part.buffer).setBigUint64(0, field.u64, true);
			return part;
		}

		return typeof field.bytes === 'string' ? new TextEncoder().encode(field.bytes) : field.bytes;
	});
	const bytes = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
	let offset = 0;
	for (const part of parts) {
		bytes.set(part, offset);
		offset += part.length;
	}

	return bytes;
}

function header(numConns: number, numChunks: number, version = 0): Field[] {
	return [{bytes: 'comux!!!'}, {u32: version}, {u32: numConns}, {u32: numChunks}];
}

function chunk(conn: number, data: string | Uint8Array, options: {sched?: number; flags?: number; len?: bigint} = {}): Field[] {
	const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
	return [{u32: conn}, {u64: options.len ?? BigInt(bytes.length)}, {u32: options.sched ?? 0}, {u32: options.flags ?? 0}, {bytes}];
}

function comuxError(t: {throws: (fn: () => unknown, expectations: {instanceOf: typeof ComuxError}) => unknown}, fn: () => unknown): ComuxError {
	return t.throws(fn, {instanceOf: ComuxError}) as ComuxError;
}

/** The message parseComux must give for `bytes`. */
function parseMessage(bytes: Uint8Array): string {
	try {
		parseComux(bytes);
	} catch (error) {
		if (error instanceof ComuxError) {
			return error.message;
		}

		throw error;
	}

	return 'valid';
}

test('the samples directory holds the expected corpus', t => {
	t.true(sampleFiles.length >= 33, sampleFiles.join(', '));
	t.true(validSamples.length >= 20);
	for (const file of invalidSamples.keys()) {
		t.true(sampleFiles.includes(file), file);
	}
});

test('every sample not listed as invalid parses, and serializing it gives back its exact bytes', t => {
	for (const file of validSamples) {
		const bytes = sample(file);
		const doc = parseComux(bytes);
		t.is(doc.version, 0, file);
		t.true(doc.chunks.length > 0, file);
		t.deepEqual(serializeComux(doc), bytes, file);
	}
});

test('every sample listed as invalid is rejected with its exact message', t => {
	for (const [file, message] of invalidSamples) {
		const error = comuxError(t, () => parseComux(sample(file)));
		t.is(error.message, message, file);
		t.is(error.exitCode, 3);
		t.true(error instanceof PdiError);
		t.is(`${error.reason} at byte ${error.offset}`, error.message);
	}
});

test('a parsed sample has the chunks its bytes spell', t => {
	const doc = parseComux(sample('http/comux_http_3c4c.txt'));
	t.is(doc.numConns, 3);
	t.deepEqual(doc.chunks.map(({conn, sched, flags, data}) => ({conn, sched, flags, length: data.length})), [
		{conn: 1, sched: 1, flags: 0, length: 77},
		{conn: 0, sched: 0, flags: 0, length: 51},
		{conn: 0, sched: 2, flags: AWAIT_RESPONSE, length: 51},
		{conn: 2, sched: 2, flags: AWAIT_RESPONSE, length: 51},
	]);
	t.is(new TextDecoder().decode(doc.chunks[0]?.data).split('\r\n')[0], 'GET /api/junk HTTP/1.1');
	const noShutdown = parseComux(sample('http/comux_http_1c3c_separated_noshutdown.txt'));
	t.is(noShutdown.chunks[2]?.flags, AWAIT_RESPONSE | NO_SHUTDOWN);
});

/** Where each chunk of a valid file starts and ends, read with a DataView (not with parseComux). */
function chunkLayout(bytes: Uint8Array): Array<{start: number; dataStart: number; end: number}> {
	const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
	const chunks = [];
	let offset = 20;
	for (let i = 0; i < view.getUint32(16, true); i++) {
		const end = offset + 20 + Number(view.getBigUint64(offset + 4, true));
		chunks.push({start: offset, dataStart: offset + 20, end});
		offset = end;
	}

	if (offset !== bytes.length) {
		throw new Error('not a valid layout');
	}

	return chunks;
}

function prefixMessage(length: number, chunks: ReturnType<typeof chunkLayout>): string {
	if (length < 20) {
		return `truncated header (only ${length} of its 20 bytes) at byte 0`;
	}

	for (const [i, {start, dataStart, end}] of chunks.entries()) {
		if (length < dataStart) {
			return `truncated header of chunk ${i} (only ${length - start} of its 20 bytes) at byte ${start}`;
		}

		if (length < end) {
			return `truncated data of chunk ${i} (only ${length - dataStart} of its ${end - dataStart} bytes) at byte ${dataStart}`;
		}
	}

	throw new Error(`${length} is not a proper prefix`);
}

test('every proper prefix of every valid multi-chunk sample is rejected as truncated at the right byte', t => {
	const multiChunk = validSamples.filter(file => parseComux(sample(file)).chunks.length > 1);
	t.true(multiChunk.length >= 8, multiChunk.join(', '));
	let prefixes = 0;
	for (const file of multiChunk) {
		const bytes = sample(file);
		const chunks = chunkLayout(bytes);
		for (let length = 0; length < bytes.length; length++) {
			const expected = prefixMessage(length, chunks);
			const actual = parseMessage(bytes.subarray(0, length));
			if (actual !== expected) {
				t.fail(`${file} cut to ${length} bytes: ${actual}, expected ${expected}`);
				return;
			}

			prefixes++;
		}
	}

	t.true(prefixes > 2000);
	t.is(parseMessage(sample('tests_files/comux_1c2c.txt').subarray(0, 50)), 'truncated header of chunk 1 (only 0 of its 20 bytes) at byte 50');
	t.is(parseMessage(sample('tests_files/comux_1c2c.txt').subarray(0, 71)), 'truncated data of chunk 1 (only 1 of its 13 bytes) at byte 70');
});

test('bad magic is found on the bytes present, before any length check', t => {
	t.is(parseMessage(new Uint8Array()), 'truncated header (only 0 of its 20 bytes) at byte 0');
	t.is(parseMessage(layout({bytes: 'c'})), 'truncated header (only 1 of its 20 bytes) at byte 0');
	t.is(parseMessage(layout({bytes: 'comux!!'})), 'truncated header (only 7 of its 20 bytes) at byte 0');
	t.is(parseMessage(layout({bytes: 'x'})), 'bad magic at byte 0');
	t.is(parseMessage(layout({bytes: 'comuX'})), 'bad magic at byte 0');
	t.is(parseMessage(layout({bytes: 'comux!!?'}, {u32: 0}, {u32: 0}, {u32: 0})), 'bad magic at byte 0');
	t.is(parseMessage(layout({bytes: 'COMUX!!!'}, {u32: 0}, {u32: 0}, {u32: 0})), 'bad magic at byte 0');
	t.is(parseMessage(layout({bytes: 'comux!!!'}, {u32: 0})), 'truncated header (only 12 of its 20 bytes) at byte 0');
	t.is(parseMessage(layout(...header(0, 0))), 'valid');
});

test('parseComux given a file name or text instead of bytes says what it expects, not a bad magic', t => {
	for (const wrong of ['data/comux-samples/get.comux', 42, undefined]) {
		const error = t.throws(() => parseComux(wrong as unknown as Uint8Array), {instanceOf: PdiError});
		t.regex(error.message, /^parseComux: expected the bytes of a comux file \(a Uint8Array: readFileSync\(file\), comux\(\)\.bytes\(\)\), got /);
		t.false(error instanceof ComuxError);
	}
});

test('an input over 256 MiB is rejected after the magic check, naming the limit', t => {
	const huge = new Uint8Array(COMUX_MAX_INPUT + 1);
	huge.set(new TextEncoder().encode('comux!!!'));
	t.is(parseMessage(huge), `input of ${COMUX_MAX_INPUT + 1} bytes exceeds the limit 268435456 at byte 268435456`);
	huge[0] = 0x43;
	t.is(parseMessage(huge), 'bad magic at byte 0');
	const error = comuxError(t, () => {
		checkComuxHead(new TextEncoder().encode('comux!!!'), 1e9);
	});
	t.is(error.message, 'input of 1000000000 bytes exceeds the limit 268435456 at byte 268435456');
	t.is(error.offset, COMUX_MAX_INPUT);
	t.is(error.reason, 'input of 1000000000 bytes exceeds the limit 268435456');
});

test('the header fields out of range are rejected with their offsets', t => {
	t.is(parseMessage(layout(...header(1, 1, 1), ...chunk(0, 'x'))), 'unsupported version 1 at byte 8');
	t.is(parseMessage(layout(...header(1, 1, 0xFFFF_FFFF), ...chunk(0, 'x'))), 'unsupported version 4294967295 at byte 8');
	t.is(parseMessage(layout(...header(COMUX_MAX_CONNS + 1, 1), ...chunk(0, 'x'))), 'num_conns 65537 exceeds the limit 65536 at byte 12');
	t.is(parseMessage(layout(...header(0xFFFF_FFFF, 0xFFFF_FFFF))), 'num_conns 4294967295 exceeds the limit 65536 at byte 12');
	t.is(parseMessage(layout(...header(COMUX_MAX_CONNS, 0))), 'connection 0 has no chunk at byte 12');
	t.is(parseMessage(layout(...header(1, COMUX_MAX_CHUNKS + 1), ...chunk(0, 'x'))), 'num_chunks 1048577 exceeds the limit 1048576 at byte 16');
	t.is(parseMessage(layout(...header(1, COMUX_MAX_CHUNKS), ...chunk(0, 'x'))), 'truncated header of chunk 1 (only 0 of its 20 bytes) at byte 41');
	t.is(parseMessage(layout(...header(0, 0), {bytes: 'x'})), '1 trailing bytes at byte 20');
});

test('the chunk fields out of range are rejected with the chunk index and the field offset', t => {
	const first = chunk(0, 'abc');
	// Chunk 1 starts at 20 + 20 + 3 = 43.
	t.is(parseMessage(layout(...header(2, 2), ...first, ...chunk(2, 'x'))), 'chunk 1: conn_id 2 is not below num_conns 2 at byte 43');
	t.is(parseMessage(layout(...header(2, 2), ...first, ...chunk(0xFFFF_FFFF, 'x'))), 'chunk 1: conn_id 4294967295 is not below num_conns 2 at byte 43');
	t.is(parseMessage(layout(...header(1, 2), ...first, ...chunk(0, '', {len: BigInt(COMUX_MAX_CHUNK_LEN) + 1n}))), 'chunk 1: len 67108865 exceeds the limit 67108864 at byte 47');
	t.is(parseMessage(layout(...header(1, 2), ...first, ...chunk(0, '', {len: 0xFFFF_FFFF_FFFF_FFFFn}))), 'chunk 1: len 18446744073709551615 exceeds the limit 67108864 at byte 47');
	t.is(parseMessage(layout(...header(1, 2), ...first, ...chunk(0, '', {len: 0x1_0000_0000n}))), 'chunk 1: len 4294967296 exceeds the limit 67108864 at byte 47');
	t.is(parseMessage(layout(...header(1, 2), ...first, ...chunk(0, '', {len: BigInt(COMUX_MAX_CHUNK_LEN)}))), 'truncated data of chunk 1 (only 0 of its 67108864 bytes) at byte 63');
	t.is(parseMessage(layout(...header(1, 2), ...first, ...chunk(0, 'x', {flags: 4}))), 'chunk 1: unknown flags 0x4 at byte 59');
	t.is(parseMessage(layout(...header(1, 2), ...first, ...chunk(0, 'x', {flags: 0xDEAD_BEEF}))), 'chunk 1: unknown flags 0xdeadbeef at byte 59');
	t.is(parseMessage(layout(...header(1, 2), ...first, ...chunk(0, 'x', {flags: 3, sched: 0xFFFF_FFFF}))), 'valid');
	// The checks of one chunk go conn_id, len, flags, data.
	t.is(parseMessage(layout(...header(1, 1), ...chunk(1, '', {len: 1n << 40n, flags: 8}))), 'chunk 0: conn_id 1 is not below num_conns 1 at byte 20');
	t.is(parseMessage(layout(...header(1, 1), ...chunk(0, '', {len: 1n << 40n, flags: 8}))), 'chunk 0: len 1099511627776 exceeds the limit 67108864 at byte 24');
	t.is(parseMessage(layout(...header(1, 1), ...chunk(0, '', {len: 5n, flags: 8}))), 'chunk 0: unknown flags 0x8 at byte 36');
	// Chunks are checked in file order, before trailing bytes and missing connections.
	t.is(parseMessage(layout(...header(3, 2), ...chunk(0, 'a', {flags: 16}), ...chunk(5, 'b'), {bytes: 'zz'})), 'chunk 0: unknown flags 0x10 at byte 36');
	t.is(parseMessage(layout(...header(3, 1), ...chunk(0, 'a'), {bytes: 'zz'})), '2 trailing bytes at byte 41');
});

test('the lowest connection without a chunk is named', t => {
	t.is(parseMessage(layout(...header(3, 2), ...chunk(0, 'a'), ...chunk(2, 'b'))), 'connection 1 has no chunk at byte 12');
	t.is(parseMessage(layout(...header(4, 1), ...chunk(2, 'a'))), 'connection 0 has no chunk at byte 12');
	t.is(parseMessage(layout(...header(3, 3), ...chunk(2, 'a'), ...chunk(0, 'b'), ...chunk(1, ''))), 'valid');
});

test('a 1 MiB chunk, 300 chunks on one connection and 2000 connections are accepted', t => {
	const big = new Uint8Array(1024 * 1024).map((_, i) => i * 7);
	const bigFile = layout(...header(1, 1), ...chunk(0, big, {flags: AWAIT_RESPONSE}));
	const bigDoc = parseComux(bigFile);
	t.deepEqual(bigDoc.chunks[0]?.data, big);
	t.deepEqual(serializeComux(bigDoc), bigFile);

	const many = layout(...header(1, 300), ...Array.from({length: 300}, (_, i) => chunk(0, `piece ${i}\n`, {sched: 300 - i})).flat());
	const manyDoc = parseComux(many);
	t.is(manyDoc.chunks.length, 300);
	t.is(new TextDecoder().decode(manyDoc.chunks[299]?.data), 'piece 299\n');
	t.deepEqual(scheduleOrder(manyDoc), Array.from({length: 300}, (_, i) => 299 - i));
	t.deepEqual(serializeComux(manyDoc), many);

	const wide = layout(...header(2000, 2000), ...Array.from({length: 2000}, (_, i) => chunk(1999 - i, `c${i}`)).flat());
	const wideDoc = parseComux(wide);
	t.is(wideDoc.numConns, 2000);
	t.is(wideDoc.chunks[0]?.conn, 1999);
	t.deepEqual(serializeComux(wideDoc), wide);
});

test('serializeComux validates the document with the messages and offsets parsing would give', t => {
	const doc = (chunks: ComuxDocument['chunks'], numConns = 2): ComuxDocument => ({version: 0, numConns, chunks});
	const data = new TextEncoder().encode('abc');
	const message = (value: ComuxDocument): string => comuxError(t, () => serializeComux(value)).message;
	t.is(message(doc([{conn: 0, sched: 0, flags: 0, data}, {conn: 2, sched: 0, flags: 0, data}])), 'chunk 1: conn_id 2 is not below num_conns 2 at byte 43');
	t.is(message(doc([{conn: 0, sched: 0, flags: 0, data}])), 'connection 1 has no chunk at byte 12');
	t.is(message(doc([{conn: 0, sched: 0, flags: 0, data}, {conn: 1, sched: 0, flags: 4, data}])), 'chunk 1: unknown flags 0x4 at byte 59');
	t.is(message({...doc([{conn: 0, sched: 0, flags: 0, data}], 1), version: 1 as 0}), 'unsupported version 1 at byte 8');
	t.is(message(doc([], COMUX_MAX_CONNS + 1)), 'num_conns 65537 exceeds the limit 65536 at byte 12');
	t.is(message(doc([{conn: 0, sched: 0, flags: 0, data}], -1)), 'num_conns -1 is not a u32 at byte 12');
	t.is(message(doc([{conn: 0.5, sched: 0, flags: 0, data}], 1)), 'chunk 0: conn_id 0.5 is not a u32 at byte 20');
	t.is(message(doc([{conn: 0, sched: -1, flags: 0, data}], 1)), 'chunk 0: sched -1 is not a u32 at byte 32');
	t.is(message(doc([{conn: 0, sched: 0, flags: 0, data: new Uint8Array(COMUX_MAX_CHUNK_LEN + 1)}], 1)), 'chunk 0: len 67108865 exceeds the limit 67108864 at byte 24');
	t.is(message(doc(Array.from({length: COMUX_MAX_CHUNKS + 1}, () => ({conn: 0, sched: 0, flags: 0, data})), 1)), 'num_chunks 1048577 exceeds the limit 1048576 at byte 16');
	const noData = comuxError(t, () => serializeComux(doc([{conn: 0, sched: 0, flags: 0, data: 'abc' as unknown as Uint8Array}], 1)));
	t.is(noData.message, 'chunk 0: data is not a Uint8Array');
	t.is(noData.offset, undefined);
	t.is(noData.reason, noData.message);
	t.is(validateComux(doc([{conn: 1, sched: 0, flags: 3, data}, {conn: 0, sched: 9, flags: 0, data: new Uint8Array()}])), 20 + 23 + 20);
	t.deepEqual(serializeComux(doc([], 0)), layout(...header(0, 0)));
});

test('the builder lays chunks out in file order, with UTF-8 strings and sched defaulting to the position', t => {
	const bytes = comux()
		.conn(1, 'GET / HTTP/1.1\r\n')
		.conn(0, new Uint8Array([0, 0xFF]), {awaitResponse: true})
		.conn(1, 'Host: é\r\n\r\n', {awaitResponse: true, noShutdown: true})
		.conn(0, '', {sched: 1, noShutdown: true})
		.bytes();
	t.deepEqual(bytes, layout(
		...header(2, 4),
		...chunk(1, 'GET / HTTP/1.1\r\n', {sched: 0}),
		...chunk(0, new Uint8Array([0, 0xFF]), {sched: 1, flags: 1}),
		...chunk(1, 'Host: \u00E9\r\n\r\n', {sched: 2, flags: 3}),
		...chunk(0, '', {sched: 1, flags: 2}),
	));
	t.is(bytes.length, 20 + 80 + 16 + 2 + 12);
	const doc = parseComux(bytes);
	t.deepEqual(scheduleOrder(doc), [0, 1, 3, 2]);
});

test('the builder takes numConns as an override and refuses invalid documents with a ComuxError', t => {
	t.is(comux().conn(0, 'a').conn(1, 'b').build().numConns, 2);
	t.deepEqual(comux().build(), {version: 0, numConns: 0, chunks: []});
	t.is(comuxError(t, () => comux().conn(0, 'a').numConns(2).build()).message, 'connection 1 has no chunk at byte 12');
	t.is(comuxError(t, () => comux().conn(0, 'a').conn(2, 'b').bytes()).message, 'connection 1 has no chunk at byte 12');
	t.is(comuxError(t, () => comux().conn(1, 'a').numConns(1).bytes()).message, 'chunk 0: conn_id 1 is not below num_conns 1 at byte 20');
	t.is(comuxError(t, () => comux().conn(-1, 'a').bytes()).message, 'chunk 0: conn_id -1 is not a u32 at byte 20');
	// An id that is not an integer is the chunk's, not the count of connections the builder derives from it.
	t.is(comuxError(t, () => comux().conn(0, 'a').conn(1.5, 'b').bytes()).message, 'chunk 1: conn_id 1.5 is not a u32 at byte 41');
	t.is(comuxError(t, () => comux().conn(Number.NaN, 'a').bytes()).message, 'chunk 0: conn_id NaN is not a u32 at byte 20');
	const built = comux().conn(0, 'x', {sched: 7}).build();
	t.deepEqual(built.chunks, [{conn: 0, sched: 7, flags: 0, data: new TextEncoder().encode('x')}]);
});

test('splitRequest cuts a request into pieces by sizes or by a piece size', t => {
	const text = (pieces: Uint8Array[]): string[] => pieces.map(piece => new TextDecoder().decode(piece));
	const request = 'GET / HTTP/1.1\r\nHost: x\r\n\r\n';
	t.deepEqual(text(splitRequest(request, [4, 12])), ['GET ', '/ HTTP/1.1\r\n', 'Host: x\r\n\r\n']);
	t.deepEqual(text(splitRequest(request, [4, 23])), ['GET ', '/ HTTP/1.1\r\nHost: x\r\n\r\n']);
	t.deepEqual(text(splitRequest(request, {size: 10})), ['GET / HTTP', '/1.1\r\nHost', ': x\r\n\r\n']);
	t.deepEqual(text(splitRequest(new TextEncoder().encode('abcd'), {size: 2})), ['ab', 'cd']);
	t.deepEqual(text(splitRequest('', {size: 3})), ['']);
	t.deepEqual(text(splitRequest('abc', [])), ['abc']);
	t.throws(() => splitRequest('abc', [2, 2]), {instanceOf: RangeError});
	t.throws(() => splitRequest('abc', {size: 0}), {instanceOf: RangeError});
	t.throws(() => splitRequest('abc', [-1]), {instanceOf: RangeError});
	const builder = comux();
	for (const piece of splitRequest(request, {size: 8})) {
		builder.conn(0, piece);
	}

	const doc = parseComux(builder.conn(0, '', {awaitResponse: true}).bytes());
	t.is(doc.chunks.length, 5);
	t.is(text(doc.chunks.map(piece => piece.data)).join(''), request);
});

test('scheduleOrder sorts by sched and keeps file order for ties', t => {
	const doc = comux()
		.conn(0, 'a', {sched: 5})
		.conn(0, 'b', {sched: 1})
		.conn(0, 'c', {sched: 5})
		.conn(0, 'd', {sched: 0})
		.conn(0, 'e', {sched: 1})
		.conn(0, 'f', {sched: 0xFFFF_FFFF})
		.build();
	t.deepEqual(scheduleOrder(doc), [3, 1, 4, 0, 2, 5]);
	t.deepEqual(scheduleOrder(parseComux(sample('tests_files/comux_1c3c.txt'))), [0, 2, 1]);
	t.deepEqual(scheduleOrder(parseComux(sample('http/comux_http_3c4c.txt'))), [1, 0, 2, 3]);
	t.deepEqual(scheduleOrder(parseComux(sample('http/comux_http_1c2c.txt'))), [0, 1]);
	t.deepEqual(scheduleOrder({chunks: []}), []);
});

test('a JSON description round-trips every valid sample, with base64 only for data that is not UTF-8', t => {
	for (const file of validSamples) {
		const doc = parseComux(sample(file));
		const description = comuxToDescription(doc);
		t.deepEqual(comuxFromDescription(JSON.parse(JSON.stringify(description))), doc, file);
	}

	const description = comuxToDescription(comux().conn(0, 'h\u00E9\r\n\0').conn(0, new Uint8Array([0xFF, 0xFE]), {awaitResponse: true, sched: 9}).build());
	t.deepEqual(description, {
		version: 0,
		numConns: 1,
		chunks: [
			{conn: 0, sched: 0, awaitResponse: false, noShutdown: false, encoding: 'utf8', data: 'h\u00E9\r\n\0'},
			{conn: 0, sched: 9, awaitResponse: true, noShutdown: false, encoding: 'base64', data: '//4='},
		],
	});
});

test('comuxFromDescription names the field at fault', t => {
	const message = (value: unknown): string => comuxError(t, () => comuxFromDescription(value)).message;
	t.deepEqual(comuxFromDescription({chunks: [{conn: 0, data: '6869', encoding: 'hex'}]}).chunks[0]?.data, new TextEncoder().encode('hi'));
	t.is(message([]), 'a comux description is an object with a chunks array, got an array');
	t.is(message({}), 'chunks: expected an array, got nothing');
	t.is(message({chunks: [{conn: 0, data: 'x', sched: 1, awaitReponse: true}]}), 'chunks[0]: unknown key \'awaitReponse\' (did you mean \'awaitResponse\'?)');
	t.is(message({chunks: [{conn: 0, data: 'x'}, {conn: '1', data: 'x'}]}), 'chunks[1].conn: expected an integer from 0 to 4294967295, got "1"');
	t.is(message({chunks: [{conn: 0, data: 5}]}), 'chunks[0].data: expected a string, got 5');
	t.is(message({chunks: [{conn: 0, data: 'abc', encoding: 'base64'}]}), 'chunks[0].data: not valid base64');
	t.is(message({chunks: [{conn: 0, data: 'abc', encoding: 'hex'}]}), 'chunks[0].data: not valid hex');
	t.is(message({chunks: [{conn: 0, data: 'a', encoding: 'latin1'}]}), 'chunks[0].encoding: expected \'utf8\', \'base64\' or \'hex\', got "latin1"');
	t.is(message({chunks: [{conn: 0, data: 'a', noShutdown: 1}]}), 'chunks[0].noShutdown: expected true or false, got 1');
	t.is(message({version: 1, chunks: []}), 'version: unsupported version 1');
	t.is(message({numConns: 2, chunks: [{conn: 0, data: 'a'}]}), 'numConns: connection 1 has no chunk');
	t.is(message({chunks: [{conn: 1, data: 'a'}]}), 'chunks: connection 0 has no chunk (without numConns the connections are 0 to the highest conn, 1)');
	t.is(message({numConns: 65_537, chunks: [{conn: 0, data: 'a'}]}), 'numConns: num_conns 65537 exceeds the limit 65536');
	t.is(message({numConns: 1, chunks: [{conn: 0, data: 'a'}, {conn: 1, data: 'b'}]}), 'chunks[1].conn: conn_id 1 is not below num_conns 1');
	t.is(message({chunks: [{conn: 65_536, data: 'a'}]}), 'chunks[0].conn: connection 65536 is above 65535 (a comux file holds at most 65536 connections)');
	t.is(message({chunks: [{conn: 0, data: 'a'}, {conn: 0, data: 'a'.repeat(67_108_865)}]}), 'chunks[1].data: len 67108865 exceeds the limit 67108864');
});
