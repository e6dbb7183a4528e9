import {readdirSync} from 'node:fs';
import path from 'node:path';
import {nativeBinding} from '../native/binding.js';

/** Events a traced process could not record, by the ring it wrote. */
export type RingLoss = {pid: number; lost: number};

/**
 * Drains the event rings that traced processes create in `directory`
 * (one per process and exec, src/native/backends/trace/ring.h) while
 * they run, on the event loop: busy rings are read again at once, idle
 * ones every millisecond. A full ring makes its writer wait, so what
 * keeps up here is what keeps the trace lossless.
 */
export class RingCollector {
	private readonly open = new Map<string, unknown>();
	private timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
	private stopped = false;

	constructor(private readonly directory: string, private readonly onRecords: (records: Buffer) => void) {}

	/** Starts reading; each ring's records go to `onRecords` in its order (decodeRecords of events.ts makes events of them). */
	start(): void {
		this.schedule(false);
	}

	/** Reads what remains (call once every traced process has exited), closes the rings and says what was lost. */
	finish(): RingLoss[] {
		this.stopped = true;
		if (this.timer !== undefined) {
			clearTimeout(this.timer as NodeJS.Timeout);
			clearImmediate(this.timer as NodeJS.Immediate);
		}

		this.poll();
		const losses: RingLoss[] = [];
		const binding = nativeBinding();
		for (const [name, handle] of this.open) {
			const lost = binding.traceRingLost(handle);
			if (lost > 0) {
				losses.push({pid: Number.parseInt(name, 10), lost});
			}

			binding.traceRingClose(handle);
		}

		this.open.clear();
		return losses;
	}

	private schedule(busy: boolean): void {
		if (this.stopped) {
			return;
		}

		const next = () => {
			this.schedule(this.poll());
		};

		this.timer = busy ? setImmediate(next) : setTimeout(next, 1);
	}

	/** One pass over every ring; whether any had events. */
	private poll(): boolean {
		const binding = nativeBinding();
		for (const name of readdirSync(this.directory)) {
			if (name.endsWith('.ring') && !this.open.has(name)) {
				const handle = binding.traceRingOpen(path.join(this.directory, name));
				if (handle !== null) {
					this.open.set(name, handle);
				}
			}
		}

		let busy = false;
		for (const handle of this.open.values()) {
			for (let records = binding.traceRingRead(handle); records !== null; records = binding.traceRingRead(handle)) {
				busy = true;
				this.onRecords(records);
			}
		}

		return busy;
	}
}
