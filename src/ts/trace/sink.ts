import {closeSync, openSync, writeSync} from 'node:fs';
import {decodeRecords} from './events.js';
import type {RingLoss} from './ring.js';
import {TraceSummary} from './summary.js';

/** Where `pdi trace --json` or `-c` puts what the rings deliver: NDJSON lines, or a summary at the end. */
export class EventSink {
	private readonly fd: number;
	private pending = '';
	private readonly summary: TraceSummary | undefined;

	/** `file`: truncated and written; otherwise pdi's own stderr. */
	constructor(mode: 'json' | 'summary', private readonly file?: string) {
		this.fd = file === undefined ? 2 : openSync(file, 'w', 0o644);
		this.summary = mode === 'summary' ? new TraceSummary() : undefined;
	}

	/** A buffer of ring records (src/native/backends/trace/ring.h). */
	add(records: Buffer): void {
		if (this.summary) {
			this.summary.addRecords(records);
			return;
		}

		for (const event of decodeRecords(records)) {
			this.pending += JSON.stringify(event) + '\n';
		}

		if (this.pending.length >= 65_536) {
			this.flush();
		}
	}

	/** Writes the summary (with -c) and what was lost, and closes the file. */
	end(losses: RingLoss[]): void {
		if (this.summary) {
			this.pending += this.summary.format();
		}

		this.flush();
		if (this.file !== undefined) {
			closeSync(this.fd);
		}

		for (const {pid, lost} of losses) {
			process.stderr.write(`pdi: trace: ${lost} event(s) of process ${pid} were lost (its reader had gone, or an event was larger than half the ring)\n`);
		}
	}

	private flush(): void {
		const bytes = Buffer.from(this.pending);
		this.pending = '';
		for (let at = 0; at < bytes.length;) {
			at += writeSync(this.fd, bytes, at);
		}
	}
}
