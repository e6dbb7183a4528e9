import {isUtf8} from 'node:buffer';
import {closeSync, constants, createReadStream, openSync, readFileSync, realpathSync} from 'node:fs';
import {readFile, stat} from 'node:fs/promises';
import {Socket} from 'node:net';
import path from 'node:path';
import type {Readable} from 'node:stream';
import {isatty, ReadStream} from 'node:tty';
import {readFifo, readToEnd, type ReadBytes} from '../waiting-input.js';

// The text of a config file. A FIFO (`mkfifo`, or `-c <(gen-config)`, a pipe named /dev/fd/63) or a terminal may
// wait for its writer for ever: it is opened without waiting and read through the event loop, never by a blocking
// open() or read() in libuv's thread pool, which process.exit() would wait for. So SIGINT, SIGTERM and SIGHUP still
// end pdi (src/ts/cli/main.ts) while it waits.

/** The largest config pdi reads (the core's reader has the same limit, src/native/config/source.c): a file past it is no config. */
export const configSizeLimit = 16 * 1024 * 1024;

function tooLarge(): Error {
	return new Error(`larger than ${configSizeLimit / 1024 / 1024} MiB, too large for a config`);
}

/** A config that is not UTF-8 text, at its first byte that cannot be (decoded, it would hold U+FFFD there instead). */
export class NotUtf8Error extends Error {
	/**
	 * `textBeforeNul`: the text with U+FFFD for the bad bytes, when a NUL byte comes before the first of them: the
	 * text dialect's reader names that NUL first, as the core does when it reads the file.
	 */
	constructor(readonly line: number, readonly column: number, byte: number, readonly textBeforeNul?: string) {
		super(`not UTF-8 text (byte 0x${byte.toString(16).padStart(2, '0')}): a config is UTF-8`);
	}
}

/** The offset of the first byte of `bytes` that starts no valid UTF-8 sequence. */
function firstNotUtf8(bytes: Buffer): number {
	for (let at = 0; at < bytes.length;) {
		const byte = bytes[at]!;
		const length = byte < 0x80 ? 1 : (byte >= 0xC2 && byte < 0xE0 ? 2 : (byte >= 0xE0 && byte < 0xF0 ? 3 : (byte >= 0xF0 && byte < 0xF5 ? 4 : 0)));
		if (length === 0 || !isUtf8(bytes.subarray(at, at + length))) {
			return at;
		}

		at += length;
	}

	return bytes.length;
}

function decoded(bytes: Buffer): string {
	if (isUtf8(bytes)) {
		return bytes.toString('utf8');
	}

	const offset = firstNotUtf8(bytes);
	const lineStart = offset === 0 ? 0 : bytes.lastIndexOf(0x0A, offset - 1) + 1;
	const line = bytes.subarray(0, lineStart).reduce((count, byte) => count + (byte === 0x0A ? 1 : 0), 1);
	const nul = bytes.indexOf(0);
	const readable = nul !== -1 && nul < offset ? bytes.toString('utf8') : undefined;
	throw new NotUtf8Error(line, bytes.subarray(lineStart, offset).toString('utf8').length + 1, bytes[offset]!, readable);
}

function limitedText({bytes, length}: ReadBytes): string {
	if (length > configSizeLimit) {
		throw tooLarge();
	}

	return decoded(bytes);
}

async function readAll(stream: Readable): Promise<string> {
	return limitedText(await readToEnd(stream, configSizeLimit));
}

/** The descriptor of pdi's own that `file` names (`/dev/stdin`, `/dev/fd/N`, `/proc/self/fd/N`, `/proc/PID/fd/N` of pdi's PID), if it names one. */
function ownDescriptor(file: string): number | undefined {
	if (file === '/dev/stdin') {
		return 0;
	}

	const match = new RegExp(`^(?:/dev/fd|/proc/(?:self|thread-self|${process.pid})/fd)/(\\d+)$`).exec(file);
	return match ? Number(match[1]) : undefined;
}

/**
 * A socket cannot be opened by name (ENXIO), but pdi can read one of its own descriptors: stdin through
 * process.stdin, which leaves descriptor 0 open for the program pdi starts (Node's child_process `input`, systemd), and
 * any other (`-c /dev/fd/3` with a socket as descriptor 3) as a stream that closes it at its end.
 */
function readSocket(file: string): Promise<string> {
	const fd = ownDescriptor(file);
	if (fd === 0) {
		return readAll(process.stdin);
	}

	if (fd === undefined) {
		throw new Error('a socket, which cannot be opened by name (give it to pdi as a descriptor: -c /dev/fd/N)');
	}

	if (fd <= 2) {
		throw new Error(`pdi's standard ${fd === 1 ? 'output' : 'error'}, a socket: not a config to read`);
	}

	let socket: Socket;
	try {
		socket = new Socket({fd, readable: true, writable: false});
	} catch {
		throw new Error('a socket pdi cannot read as a stream (a datagram socket?)');
	}

	return readAll(socket);
}

/**
 * A pipe named by a descriptor pdi holds for writing (`-c /dev/fd/3 3> >(gen)`, the wrong direction, or `3<>`): pdi
 * would be a writer of the pipe it waits to see closed, and wait for ever.
 */
function refuseOwnWriteEnd(file: string): void {
	const fd = ownDescriptor(file);
	let flags: string | undefined;
	try {
		flags = fd === undefined ? undefined : /^flags:\s*([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1];
	} catch {}

	if (flags !== undefined && (Number.parseInt(flags, 8) & 3) !== constants.O_RDONLY) {
		throw new Error(`a pipe that pdi holds open for writing, so it would wait for its end for ever (give it for reading only: ${fd}< <(gen-config))`);
	}
}

/** Opens a FIFO or a device without waiting; /dev/tty without a controlling terminal (`setsid`, cron) says so. */
function openDevice(file: string): number {
	try {
		return openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
	} catch (error) {
		if (file === '/dev/tty' && (error as NodeJS.ErrnoException).code === 'ENXIO') {
			throw new Error('no such device or address (pdi has no controlling terminal)', {cause: error});
		}

		throw error;
	}
}

/**
 * Reads `file` as UTF-8: a regular file (or anything else that cannot wait) with readFile(); a FIFO or a pipe
 * until its last writer closes it, which may be one that has not opened it yet (a FIFO that never gets one waits
 * until pdi is interrupted); a terminal, or a socket that is one of pdi's descriptors (`/dev/stdin`, `/dev/fd/N`), until end of file. Rejects with the file system's error, or when the text
 * exceeds {@link configSizeLimit}.
 */
export async function readConfigText(file: string): Promise<string> {
	const stats = await stat(file);
	if (stats.isSocket()) {
		return readSocket(file);
	}

	if (!stats.isFIFO() && !stats.isCharacterDevice()) {
		if (stats.size > configSizeLimit) {
			throw tooLarge();
		}

		return decoded(await readFile(file));
	}

	// O_NONBLOCK: the open of a FIFO without a writer returns at once. The kernel reports no hang-up on it until a
	// writer has come and gone, so the event loop waits for the writer, reads what it writes, and ends when it closes.
	if (stats.isFIFO()) {
		refuseOwnWriteEnd(file);
		return limitedText(await readFifo(file, configSizeLimit));
	}

	const fd = openDevice(file);
	if (isatty(fd)) {
		return readAll(new ReadStream(fd));
	}

	// Another device (/dev/null, /dev/zero): it does not wait, but may not end.
	closeSync(fd);
	return readAll(createReadStream(file));
}

/**
 * Where the relative paths of the config file `absolute` start: its directory, but for a name under /dev or /proc
 * (`-c <(gen-config)` is /dev/fd/63, `-c /dev/stdin`) the directory of the file it stands for (`/dev/stdin <
 * app.yaml`), or the current directory when it stands for none (a pipe, a terminal): `library: ./my.so` was
 * looked for as /dev/fd/my.so.
 */
export function configDirectory(absolute: string): string {
	const special = /^\/(?:dev|proc)\//;
	if (!special.test(absolute)) {
		return path.dirname(absolute);
	}

	try {
		const real = realpathSync(absolute);
		if (!special.test(real)) {
			return path.dirname(real);
		}
	} catch {}

	return process.cwd();
}
