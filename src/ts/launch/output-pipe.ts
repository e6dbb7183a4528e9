import {closeSync} from 'node:fs';
import {Socket} from 'node:net';
import {nativeBinding} from '../native/binding.js';

/**
 * A real pipe (not the Unix socket pair Node's `'pipe'` stdio makes) for a child's stdout or stderr: a server that
 * opens `/dev/stderr` or `/proc/self/fd/2` by name, as nginx's `error_log /dev/stderr;` does, reaches it, where
 * Linux refuses to open a socket that way (ENXIO).
 */
export type OutputPipe = {
	/** The write end, for spawn's `stdio`; {@link closeWriteEnd} once the child has it. */
	readonly writeFd: number;
	/** The read end; `closed` settles once it has given everything and is closed. */
	readonly stream: Socket;
	readonly closed: Promise<void>;
	closeWriteEnd(): void;
};

export function outputPipe(): OutputPipe {
	const [readFd, writeFd] = nativeBinding().pipe();
	let writeOpen = true;
	let stream: Socket;
	try {
		stream = new Socket({fd: readFd, readable: true, writable: false});
	} catch (error) {
		closeSync(readFd);
		closeSync(writeFd);
		throw error;
	}

	stream.on('error', () => undefined);
	const closed = new Promise<void>(resolve => {
		stream.once('close', () => {
			resolve();
		});
	});
	return {
		writeFd,
		stream,
		closed,
		closeWriteEnd() {
			if (writeOpen) {
				writeOpen = false;
				closeSync(writeFd);
			}
		},
	};
}

/** Opens a pipe for each of a child's stdout and stderr, or none when the second cannot be opened. */
export function outputPipes(): [OutputPipe, OutputPipe] {
	const stdout = outputPipe();
	try {
		return [stdout, outputPipe()];
	} catch (error) {
		stdout.closeWriteEnd();
		stdout.stream.destroy();
		throw error;
	}
}
