import {closeSync, constants, createReadStream, openSync} from 'node:fs';
import {readFile, stat} from 'node:fs/promises';
import {Socket} from 'node:net';
import type {Readable} from 'node:stream';
import {isatty, ReadStream} from 'node:tty';

// The text of a config file. A FIFO (`mkfifo`, or `-c <(gen-config)`, a pipe named /dev/fd/63) or a terminal may
// wait for its writer for ever: it is opened without waiting and read through the event loop, never by a blocking
// open() or read() in libuv's thread pool, which process.exit() would wait for. So SIGINT, SIGTERM and SIGHUP still
// end pdi (src/ts/cli/main.ts) while it waits.

/** The largest config pdi reads (the core's reader has the same limit, src/native/config/source.c): a file past it is no config. */
export const configSizeLimit = 16 * 1024 * 1024;

function tooLarge(): Error {
	return new Error(`larger than ${configSizeLimit / 1024 / 1024} MiB, too large for a config`);
}

function readAll(stream: Readable): Promise<string> {
	return new Promise((resolve, reject) => {
		const chunks: Buffer[] = [];
		let length = 0;
		stream.on('data', (chunk: Buffer) => {
			length += chunk.length;
			if (length > configSizeLimit) {
				stream.destroy();
				reject(tooLarge());
				return;
			}

			chunks.push(chunk);
		});
		stream.once('error', reject);
		stream.once('end', () => {
			stream.destroy();
			resolve(Buffer.concat(chunks).toString('utf8'));
		});
	});
}

/** Whether `file` names pdi's own descriptor 0. */
function standsForStdin(file: string): boolean {
	return ['/dev/stdin', '/dev/fd/0', '/proc/self/fd/0', `/proc/${process.pid}/fd/0`].includes(file);
}

/**
 * Reads `file` as UTF-8: a regular file (or anything else that cannot wait) with readFile(); a FIFO or a pipe
 * until its last writer closes it, which may be one that has not opened it yet (a FIFO that never gets one waits
 * until pdi is interrupted); a terminal, or a socket as stdin (`/dev/stdin`), until end of file. Rejects with the file system's error, or when the text
 * exceeds {@link configSizeLimit}.
 */
export async function readConfigText(file: string): Promise<string> {
	const stats = await stat(file);
	if (stats.isSocket() && standsForStdin(file)) {
		// A socket cannot be opened by name (ENXIO): stdin from Node's child_process `input`, or from systemd. Node
		// reads it through process.stdin, which leaves descriptor 0 open for the program pdi starts.
		return readAll(process.stdin);
	}

	if (!stats.isFIFO() && !stats.isCharacterDevice()) {
		if (stats.size > configSizeLimit) {
			throw tooLarge();
		}

		return readFile(file, 'utf8');
	}

	// O_NONBLOCK: the open of a FIFO without a writer returns at once. The kernel reports no hang-up on it until a
	// writer has come and gone, so the event loop waits for the writer, reads what it writes, and ends when it closes.
	const fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
	if (stats.isFIFO()) {
		return readAll(new Socket({fd, readable: true, writable: false}));
	}

	if (isatty(fd)) {
		return readAll(new ReadStream(fd));
	}

	// Another device (/dev/null, /dev/zero): it does not wait, but may not end.
	closeSync(fd);
	return readAll(createReadStream(file));
}
