import {constants, openSync, statSync} from 'node:fs';
import {Socket} from 'node:net';
import type {Readable} from 'node:stream';

// A FIFO (`mkfifo`, or a shell's `<(gen)`, a pipe named /dev/fd/63) may wait for its writer for ever. It is opened
// without waiting and read through the event loop, never by a blocking open() or read() in the main thread or in
// libuv's thread pool (which process.exit() would wait for): SIGINT, SIGTERM and SIGHUP still end pdi
// (src/ts/cli/main.ts) while no writer has come, as they end `cat FIFO`.

/** What a stream gave until its end: its first `limit` bytes, and how many it gave in all (reading on past the limit stops). */
export type ReadBytes = {bytes: Buffer; length: number};

/** Reads `stream` to its end, keeping at most `limit` bytes; past them it is destroyed and `length` is over the limit. */
export async function readToEnd(stream: Readable, limit: number): Promise<ReadBytes> {
	return new Promise((resolve, reject) => {
		const chunks: Buffer[] = [];
		let length = 0; // at most `limit` until the chunk that passes it, which ends the reading
		const finish = () => {
			stream.destroy();
			resolve({bytes: Buffer.concat(chunks), length});
		};

		stream.on('data', (chunk: Buffer) => {
			const take = Math.min(chunk.length, limit - length);
			chunks.push(take === chunk.length ? chunk : chunk.subarray(0, take));

			length += chunk.length;
			if (length > limit) {
				finish();
			}
		});
		stream.once('error', reject);
		stream.once('end', finish);
	});
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
export async function readFifo(file: string, limit: number): Promise<ReadBytes> {
	const fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
	return readToEnd(new Socket({fd, readable: true, writable: false}), limit);
}

/** The text of the FIFO `file`, as UTF-8, all of it ({@link readFifo}). */
export async function readFifoText(file: string): Promise<string> {
	return (await readFifo(file, Number.POSITIVE_INFINITY)).bytes.toString('utf8');
}
