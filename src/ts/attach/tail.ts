import {closeSync, openSync, readSync, writeSync} from 'node:fs';

/**
 * Copies what a traced process appends to `file` to the descriptor `fd`
 * (pdi's stderr), polling: an attached process cannot be given pdi's own
 * stderr, and a pipe would kill it with SIGPIPE if pdi went away first.
 */
export function tailFile(file: string, fd: number, intervalMs = 50): {stop(): void} {
	const input = openSync(file, 'r');
	const buffer = Buffer.alloc(64 * 1024);
	let position = 0;
	let open = true;
	// Whole lines only: a line may be read while its write is still under way.
	const copy = (): void => {
		for (let count = readSync(input, buffer, 0, buffer.length, position); count > 0; count = readSync(input, buffer, 0, buffer.length, position)) {
			const end = buffer.lastIndexOf(10, count - 1) + 1;
			if (end === 0) {
				return; // no whole line yet (or one longer than the buffer: the backend's lines are not)
			}

			position += end;
			try {
				for (let at = 0; at < end;) {
					at += writeSync(fd, buffer, at, end - at);
				}
			} catch {
				// stderr closed (a pipe whose reader is gone): the trace goes on unseen until the detach.
			}
		}
	};

	const timer = setInterval(copy, intervalMs);
	return {
		stop() {
			if (!open) {
				return;
			}

			open = false;
			clearInterval(timer);
			copy();
			closeSync(input);
		},
	};
}
