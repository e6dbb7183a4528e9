import {constants, openSync, readSync, statSync} from 'node:fs';
import {Socket} from 'node:net';
import type {Readable} from 'node:stream';

// A FIFO (`mkfifo`, or a shell's `<(gen)`, a pipe named /dev/fd/63) may wait for its writer for ever. It is opened
// without waiting and read through the event loop, never by a blocking open() or read() in the main thread or in
// libuv's thread pool (which process.exit() would wait for): SIGINT, SIGTERM and SIGHUP still end pdi
// (src/ts/cli/main.ts) while no writer has come, as they end `cat FIFO`.

/** What a stream gave until its end: its first `limit` bytes, and how many it gave in all (reading on past the limit stops). */
export type ReadBytes = {bytes: Buffer; length: number};

/**
 * Reads `stream` to its end, keeping at most `limit` bytes; past them it is destroyed and `length` is over the limit.
 * `checkHead`, given the first `headLength` bytes as soon as they are there (or all there are, at the end), may throw
 * to stop the reading at once (an input whose first bytes are no comux file, `yes | pdi comux show -`).
 */
export async function readToEnd(stream: Readable, limit: number, checkHead?: (head: Buffer) => void, headLength = 8): Promise<ReadBytes> {
	return new Promise((resolve, reject) => {
		const chunks: Buffer[] = [];
		let length = 0; // at most `limit` until the chunk that passes it, which ends the reading
		let headChecked = checkHead === undefined;
		const checked = (atEnd: boolean) => {
			if (headChecked || (!atEnd && Math.min(length, limit) < headLength)) {
				return true;
			}

			headChecked = true;
			try {
				checkHead!(Buffer.concat(chunks).subarray(0, headLength));
				return true;
			} catch (error) {
				stream.destroy();
				reject(error instanceof Error ? error : new Error(String(error)));
				return false;
			}
		};

		const finish = () => {
			stream.destroy();
			if (checked(true)) {
				resolve({bytes: Buffer.concat(chunks), length});
			}
		};

		stream.on('data', (chunk: Buffer) => {
			const take = Math.min(chunk.length, limit - length);
			chunks.push(take === chunk.length ? chunk : chunk.subarray(0, take));

			length += chunk.length;
			if (!checked(false)) {
				return;
			}

			if (length > limit) {
				finish();
			}
		});
		stream.once('error', reject);
		stream.once('end', finish);
	});
}

/**
 * Reads the open file `fd` to its end as {@link readToEnd} reads a stream, with blocking reads: for a device such as
 * /dev/zero, which never ends, where a whole read would never return.
 */
export function readDescriptorToEnd(fd: number, limit: number, checkHead?: (head: Buffer) => void, headLength = 8): ReadBytes {
	const chunks: Buffer[] = [];
	let length = 0;
	let headChecked = checkHead === undefined;
	while (length <= limit) {
		const chunk = Buffer.allocUnsafe(Math.max(1, Math.min(1 << 20, limit - length)));
		const read = readSync(fd, chunk, 0, chunk.length, null);
		if (read > 0) {
			chunks.push(chunk.subarray(0, Math.min(read, limit - length)));
			length += read;
		}

		if (!headChecked && (read === 0 || length >= headLength)) {
			headChecked = true;
			checkHead!(Buffer.concat(chunks).subarray(0, headLength));
		}

		if (read === 0) {
			break;
		}
	}

	return {bytes: Buffer.concat(chunks), length};
}

/** Whether `file` names a FIFO (false for anything else, and for a path that cannot be looked at: its open says why). */
export function isFifo(file: string): boolean {
	try {
		return statSync(file).isFIFO();
	} catch {
		return false;
	}
}

/** Reads the FIFO `file` until its last writer closes it, which may be one that has not opened it yet. */
export async function readFifo(file: string, limit: number, checkHead?: (head: Buffer) => void, headLength?: number): Promise<ReadBytes> {
	const fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
	return readToEnd(new Socket({fd, readable: true, writable: false}), limit, checkHead, headLength);
}

/** The text of the FIFO `file`, as UTF-8, all of it ({@link readFifo}). */
export async function readFifoText(file: string): Promise<string> {
	return (await readFifo(file, Number.POSITIVE_INFINITY)).bytes.toString('utf8');
}
