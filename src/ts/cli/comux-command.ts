import {closeSync, fstatSync, openSync, readFileSync, readSync, type Stats} from 'node:fs';
import {InvalidArgumentError, type Command} from '@commander-js/extra-typings';
import {comux, comuxFromDescription, comuxToDescription} from '../comux/builder.js';
import {ComuxError} from '../comux/comux-error.js';
import {
	AWAIT_RESPONSE,
	COMUX_HEADER_SIZE,
	COMUX_MAGIC,
	COMUX_MAX_CONNS,
	COMUX_MAX_INPUT,
	NO_SHUTDOWN,
	checkComuxHead,
	parseComux,
	serializeComux,
	type ComuxDocument,
} from '../comux/format.js';
import {findJsonSyntaxProblem, lineAndColumn} from '../config/json-syntax.js';
import {fileFailure, PdiError} from '../errors.js';
import {isFifo, readDescriptorToEnd, readFifo, readToEnd, type ReadBytes} from '../waiting-input.js';
import {standardOutput, writeOutputFile} from './output-file.js';

const previewLength = 40;

/**
 * Refuses a standard input that is a directory (`- < /tmp`) in the words of a FILE that is one: read as a stream it
 * gave no bytes ('truncated header at byte 0', an empty JSON description), and the backend said so with status 3.
 */
export function checkStdin(): void {
	let isDirectory = false;
	try {
		isDirectory = fstatSync(0).isDirectory();
	} catch {}

	if (isDirectory) {
		throw new PdiError('stdin: is a directory');
	}
}

async function readStdin(limit: number, checkHead?: (head: Buffer) => void, headLength?: number): Promise<ReadBytes> {
	checkStdin();
	return readToEnd(process.stdin, limit, checkHead, headLength);
}

/** An input file as messages name it: `stdin` for `-`. */
export function inputName(file: string): string {
	return file === '-' ? 'stdin' : file;
}

/** Throws as the parser would when the first bytes there are of an input are not the comux magic (more may follow). */
function checkMagic(head: Uint8Array): void {
	checkComuxHead(head, COMUX_HEADER_SIZE);
}

/** What an input of `length` bytes read up to `limit` gave: its bytes, or the parser's error for one too long. */
function withinLimit({bytes, length}: ReadBytes): Uint8Array {
	if (length > COMUX_MAX_INPUT) {
		checkComuxHead(bytes, length);
	}

	return bytes;
}

/**
 * The bytes of a comux file (`-` is stdin). An input over {@link COMUX_MAX_INPUT} is rejected after reading only
 * its start (for stdin, a FIFO or a device: without keeping the rest), one that does not start as a comux file as
 * soon as its first bytes are read (`yes | pdi comux show -`, /dev/zero), with the parser's message.
 */
export async function readComuxInput(file: string): Promise<Uint8Array> {
	return withinLimit(await readBounded(file, COMUX_MAX_INPUT, checkMagic));
}

/**
 * An input (`-` is stdin) read no further than past its `most`th byte: stdin, a FIFO (through the event loop) or a
 * device until then, `checkHead` given their first bytes as soon as they are there; of a regular file larger than
 * `most`, only the first 8 bytes, with its size as `length`.
 */
async function readBounded(file: string, most: number, checkHead?: (head: Buffer) => void, headLength?: number): Promise<ReadBytes> {
	if (file === '-') {
		return readStdin(most + 1, checkHead, headLength);
	}

	if (isFifo(file)) {
		return readFifo(file, most + 1, checkHead, headLength).catch((error: unknown) => {
			throw error instanceof ComuxError ? error : fileFailure(file, error);
		});
	}

	return readFileWithin(file, (fd, stat) => {
		if (!stat.isFile()) {
			return readDescriptorToEnd(fd, most + 1, checkHead, headLength);
		}

		if (stat.size <= most) {
			return {bytes: readFileSync(fd), length: stat.size};
		}

		const head = Buffer.alloc(COMUX_MAGIC.length);
		readSync(fd, head, 0, head.length, 0);
		return {bytes: head, length: stat.size};
	});
}

/** Opens `file` and hands its descriptor to `read`; a failure of the file system names the file. */
function readFileWithin<T>(file: string, read: (fd: number, stat: Stats) => T): T {
	let fd: number;
	try {
		fd = openSync(file, 'r');
	} catch (error) {
		throw fileFailure(file, error);
	}

	try {
		return read(fd, fstatSync(fd));
	} catch (error) {
		if (error instanceof PdiError) {
			throw error;
		}

		throw fileFailure(file, error);
	} finally {
		closeSync(fd);
	}
}

/** The most bytes of a JSON description read: a longer one could not be one string in Node. */
const descriptionLimit = 500 * 1024 * 1024;

/** Where a JSON description's first token cannot start any JSON value (`yes`, /dev/zero), its syntax error, as soon as it is read. */
function jsonHeadChecker(name: string): (head: Buffer) => void {
	return head => {
		const text = head.toString('utf8');
		const first = text.search(/[^ \t\r\n]/);
		if (first >= 0 && !/[{["\-\dtfn]/.test(text[first]!)) {
			throwJsonSyntaxError(name, text.slice(0, first + 1));
		}
	};
}

function throwJsonSyntaxError(name: string, text: string): void {
	const problem = findJsonSyntaxProblem(text);
	if (problem) {
		const {line, column} = lineAndColumn(text, problem.offset);
		// An invalid input, as a description with a wrong field is (status 3), not a bad argument.
		throw new ComuxError(`${name}:${line}:${column}: JSON syntax error: ${problem.reason}`);
	}
}

async function readText(file: string): Promise<string> {
	const {bytes, length} = await readBounded(file, descriptionLimit, jsonHeadChecker(inputName(file)), 4096);
	if (length > descriptionLimit) {
		throw new ComuxError(`${inputName(file)}: a JSON description longer than ${descriptionLimit} bytes`);
	}

	return bytes.toString('utf8');
}

/** `await,noshut`, `await`, `noshut` or `-`. */
export function formatFlags(flags: number): string {
	const names = [(flags & AWAIT_RESPONSE) !== 0 && 'await', (flags & NO_SHUTDOWN) !== 0 && 'noshut'].filter(Boolean);
	return names.length > 0 ? names.join(',') : '-';
}

/** Printable ASCII as is, `\\`, `\r`, `\n`, `\t`, `\0` and `\xHH` for the rest. */
export function escapeBytes(bytes: Uint8Array): string {
	let text = '';
	for (const byte of bytes) {
		switch (byte) {
			case 0x5C: {
				text += '\\\\';
				break;
			}

			case 0x0D: {
				text += '\\r';
				break;
			}

			case 0x0A: {
				text += '\\n';
				break;
			}

			case 0x09: {
				text += '\\t';
				break;
			}

			case 0x00: {
				text += '\\0';
				break;
			}

			default: {
				text += byte >= 0x20 && byte < 0x7F ? String.fromCodePoint(byte) : `\\x${byte.toString(16).padStart(2, '0')}`;
			}
		}
	}

	return text;
}

const simpleEscapes = new Map([['r', 0x0D], ['n', 0x0A], ['t', 0x09], ['\\', 0x5C], ['0', 0x00]]);

/** The bytes of DATA with C escapes: `\r \n \t \\ \xHH \0`; everything else as UTF-8. */
export function unescapeData(text: string): Uint8Array {
	const parts: Uint8Array[] = [];
	const encoder = new TextEncoder();
	let literal = 0;
	for (let i = 0; i < text.length; i++) {
		if (text[i] !== '\\') {
			continue;
		}

		parts.push(encoder.encode(text.slice(literal, i)));
		const next = text[i + 1];
		const simple = next === undefined ? undefined : simpleEscapes.get(next);
		if (simple !== undefined) {
			parts.push(Uint8Array.of(simple));
			i++;
		} else if (next === 'x' && /^[\da-fA-F]{2}$/.test(text.slice(i + 2, i + 4))) {
			parts.push(Uint8Array.of(Number.parseInt(text.slice(i + 2, i + 4), 16)));
			i += 3;
		} else {
			const escape = next === 'x' ? text.slice(i, i + 4) : text.slice(i, i + 2);
			throw new PdiError(`bad escape '${escape}' in '${text}' (known: \\r \\n \\t \\\\ \\xHH \\0)`);
		}

		literal = i + 1;
	}

	parts.push(encoder.encode(text.slice(literal)));
	return new Uint8Array(Buffer.concat(parts));
}

function table(rows: string[][], rightAligned: ReadonlySet<number>): string {
	const widths: number[] = [];
	for (const row of rows) {
		for (const [column, cell] of row.entries()) {
			widths[column] = Math.max(widths[column] ?? 0, cell.length);
		}
	}

	return rows.map(row => row.map((cell, column) => {
		if (column === row.length - 1) {
			return cell;
		}

		const width = widths[column] ?? 0;
		return rightAligned.has(column) ? cell.padStart(width) : cell.padEnd(width);
	}).join('  ').trimEnd() + '\n').join('');
}

/** What `pdi comux show` prints: the header, then one line per chunk in file order. */
export function formatComux(doc: ComuxDocument, size: number): string {
	const dataBytes = doc.chunks.reduce((sum, chunk) => sum + chunk.data.length, 0);
	const header = [
		`version      ${doc.version}`,
		`num_conns    ${doc.numConns}`,
		`num_chunks   ${doc.chunks.length}`,
		`total bytes  ${size}`,
		`data bytes   ${dataBytes}`,
	].join('\n') + '\n';
	if (doc.chunks.length === 0) {
		return header;
	}

	const rows = [
		['index', 'conn', 'sched', 'flags', 'length', 'preview'],
		...doc.chunks.map(({conn, sched, flags, data}, index) => [
			String(index),
			String(conn),
			String(sched),
			formatFlags(flags),
			String(data.length),
			escapeBytes(data.subarray(0, previewLength)) + (data.length > previewLength ? '...' : ''),
		]),
	];
	return header + '\n' + table(rows, new Set([0, 1, 2, 4]));
}

function parseCount(value: string): number {
	if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > COMUX_MAX_CONNS) {
		throw new InvalidArgumentError(`expected a number of connections from 1 to ${COMUX_MAX_CONNS}`);
	}

	return Number(value);
}

function collect(value: string, previous: string[] = []): string[] {
	return [...previous, value];
}

/**
 * `read()`, its ComuxError naming `name` first (a file, stdin, the --chunk arguments); the byte
 * offset is kept for a comux file, dropped for a description (a place in a file nobody wrote).
 */
export async function naming<T>(name: string, read: () => T | Promise<T>, offsets = true): Promise<T> {
	try {
		return await read();
	} catch (error) {
		if (error instanceof ComuxError) {
			throw new ComuxError(`${name}: ${error.reason}`, offsets ? error.offset : undefined, {cause: error});
		}

		throw error;
	}
}

async function documentFromJson(file: string): Promise<ComuxDocument> {
	const name = inputName(file);
	const text = await readText(file);
	throwJsonSyntaxError(name, text);
	const value = JSON.parse(text) as unknown;
	try {
		return comuxFromDescription(value);
	} catch (error) {
		if (!(error instanceof ComuxError)) {
			throw error;
		}

		// A field's problem at the field, as a config's: `FILE:LINE:COL: chunks[1].conn: ...`.
		const {field} = error;
		const place = field && (await import('../config/structured.js')).placeInDocument(text, field.path, field.key);
		throw new ComuxError(`${name}${place ? `:${place.line}:${place.column}` : ''}: ${error.reason}`, undefined, {cause: error});
	}
}

async function documentFromChunks(specs: readonly string[], options: {await?: boolean; shutdown: boolean; numConns?: number}): Promise<ComuxDocument> {
	const builder = comux();
	for (const spec of specs) {
		const match = /^(\d+):/.exec(spec);
		if (!match) {
			throw new PdiError(`--chunk '${spec}': expected CONN:DATA, CONN a connection id`);
		}

		// A bad argument (status 2), not an invalid input: before, 'num_conns 100000000000 is not a u32' with status 3.
		const conn = Number(match[1]);
		if (conn >= COMUX_MAX_CONNS) {
			throw new PdiError(`--chunk '${spec}': connection ${match[1]} is above ${COMUX_MAX_CONNS - 1} (a comux file holds at most ${COMUX_MAX_CONNS} connections)`);
		}

		let data: Uint8Array;
		try {
			data = unescapeData(spec.slice(match[0].length));
		} catch (error) {
			throw error instanceof PdiError ? new PdiError(`--chunk '${spec}': ${error.message}`, {cause: error}) : error;
		}

		builder.conn(conn, data, {awaitResponse: options.await, noShutdown: !options.shutdown});
	}

	if (options.numConns !== undefined) {
		builder.numConns(options.numConns);
	}

	return naming('--chunk arguments', () => builder.build(), false);
}

/**
 * Adds the `comux` command group with `show FILE` and `build`, and returns it, so that other
 * subcommands (`run`, `replay`) can be attached to it. An invalid comux input throws its
 * {@link ComuxError} (the CLI prints `pdi: <message>` and exits 3).
 */
export function registerComuxCommands(cli: Command): Command {
	const group = cli.command('comux')
		.description('read, write and replay comux files (several client connections of one conversation in one file)');

	group.command('show')
		.description('validate FILE and print its header and a table of its chunks (an invalid file exits 3, naming the byte)')
		.argument('<file>', 'the comux file; - for stdin')
		.option('--json', 'print a JSON description instead (the input format of `pdi comux build --json`)')
		.action(async (file, options) => {
			const name = inputName(file);
			const bytes = await naming(name, async () => readComuxInput(file));
			const doc = await naming(name, () => parseComux(bytes));
			process.stdout.write(options.json ? JSON.stringify(comuxToDescription(doc), null, 2) + '\n' : formatComux(doc, bytes.length));
		});

	group.command('build')
		.description('write a comux file from a JSON description or from --chunk arguments')
		.usage('[-o FILE] (--json FILE | --chunk CONN:DATA... [--await] [--no-shutdown] [--num-conns N])')
		.option('-o, --output <file>', 'write to FILE instead of stdout')
		.option('--json <file>', 'the JSON description ({"numConns"?, "chunks": [{"conn", "data", "encoding"?, "sched"?, "awaitResponse"?, "noShutdown"?}]}); - for stdin')
		.option('--chunk <conn:data>', 'a chunk of connection CONN; DATA understands \\r \\n \\t \\\\ \\xHH \\0; repeatable, in file and schedule order', collect)
		.option('--await', 'set AWAIT_RESPONSE on every --chunk')
		.option('--no-shutdown', 'set NO_SHUTDOWN on every --chunk')
		.option('--num-conns <n>', 'number of connections for --chunk (default: highest CONN + 1)', parseCount)
		.action(async options => {
			const chunks = options.chunk ?? [];
			if (options.json !== undefined && chunks.length > 0) {
				throw new PdiError('give either --json FILE or --chunk arguments, not both');
			}

			if (options.json === undefined && chunks.length === 0) {
				throw new PdiError('nothing to build: give --json FILE or at least one --chunk CONN:DATA');
			}

			// They were ignored with --json: a file built without the AWAIT_RESPONSE asked for, and nothing said.
			const chunkOnly = [options.await && '--await', options.shutdown === false && '--no-shutdown', options.numConns !== undefined && '--num-conns'].filter(Boolean);
			if (options.json !== undefined && chunkOnly.length > 0) {
				throw new PdiError(`${chunkOnly.join(', ')}: for --chunk arguments only; a --json description says it itself (awaitResponse, noShutdown, numConns)`);
			}

			const file = options.output === standardOutput ? undefined : options.output;
			if (file === undefined && process.stdout.isTTY) {
				throw new PdiError('refusing to write a binary comux file to a terminal; use -o FILE or redirect stdout');
			}

			const doc = options.json === undefined ? await documentFromChunks(chunks, options) : await documentFromJson(options.json);
			const output = serializeComux(doc);
			if (file === undefined) {
				process.stdout.write(output);
			} else {
				await writeOutputFile(file, output);
			}
		});

	return group;
}
