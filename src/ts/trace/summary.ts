import {type CallEvent, recordHeader} from './events.js';

/** TRACE_RECORD_SITE of ring.h. */
const siteFlag = 16;

/** One function's line of a `pdi trace -c` table. */
export type FunctionSummary = {
	function: string;
	calls: number;
	/** Calls whose prototype says they failed (an errno name came with them). */
	errors: number;
	/** Time spent in the calls, in ns; a caller's time includes its traced callees'. */
	totalNs: number;
};

/** One process's line of {@link TraceSummary}: its functions sorted by total time. */
export type ProcessSummary = {
	pid: number;
	functions: FunctionSummary[];
	calls: number;
	errors: number;
	totalNs: number;
};

/** What a trace counted, per process (what `pdi trace -c` prints), and the events it could not record. */
export type TraceSummary = {
	/** By pid, ascending; a process's images before and after `exec` share one entry. */
	processes: ProcessSummary[];
	/** Events lost (0 unless the reader had gone or an event was larger than half its ring). */
	lost: number;
};

/** Per process, per function: calls, errors and total time. */
export class SummaryCounter {
	/** Function names by ring and site address, from site records. */
	private readonly sites = new Map<string, string>();
	private readonly processes = new Map<number, Map<string, FunctionSummary>>();

	add(event: CallEvent): void {
		this.count(event.pid, event.function, event.errno === null ? 0 : 1, event.durationNs);
	}

	/**
	 * The records a reader passed on (src/native/backends/trace/ring.h), read
	 * for what a summary needs only: site records name the function of the
	 * call records that follow them in their ring.
	 */
	addRecords(buffer: Buffer): void {
		for (let at = 0; at + recordHeader <= buffer.length; at += buffer.readUInt32LE(at)) {
			const flags = buffer.readUInt32LE(at + 20);
			const site = `${buffer.readUInt32LE(at + 48)}:${buffer.readUInt32LE(at + 44)}:${buffer.readUInt32LE(at + 40)}`;
			if ((flags & siteFlag) !== 0) {
				const callerLength = buffer.readUInt16LE(at + 52);
				const functionLength = buffer.readUInt16LE(at + 54);
				const start = at + recordHeader + callerLength;
				this.sites.set(site, buffer.toString('latin1', start, start + functionLength));
				continue;
			}

			this.count(
				buffer.readUInt32LE(at + 4),
				this.sites.get(site) ?? '?',
				buffer.readUInt16LE(at + 56) === 0 ? 0 : 1,
				Number(buffer.readBigUInt64LE(at + 32)),
			);
		}
	}

	private count(pid: number, name: string, errors: number, ns: number): void {
		let functions = this.processes.get(pid);
		if (functions === undefined) {
			functions = new Map();
			this.processes.set(pid, functions);
		}

		let entry = functions.get(name);
		if (entry === undefined) {
			entry = {function: name, calls: 0, errors: 0, totalNs: 0};
			functions.set(name, entry);
		}

		entry.calls++;
		entry.errors += errors;
		entry.totalNs += ns;
	}

	/** Each process's functions, sorted by total time (then calls, then name). */
	byProcess(): Map<number, FunctionSummary[]> {
		const result = new Map<number, FunctionSummary[]>();
		for (const [pid, functions] of [...this.processes].sort(([a], [b]) => a - b)) {
			result.set(pid, [...functions.values()].sort((a, b) =>
				b.totalNs - a.totalNs || b.calls - a.calls || a.function.localeCompare(b.function)));
		}

		return result;
	}

	/** The counts as data; `lost` from the reader's end. */
	result(lost: number): TraceSummary {
		const processes: ProcessSummary[] = [];
		for (const [pid, functions] of this.byProcess()) {
			processes.push({
				pid,
				functions,
				calls: functions.reduce((sum, entry) => sum + entry.calls, 0),
				errors: functions.reduce((sum, entry) => sum + entry.errors, 0),
				totalNs: functions.reduce((sum, entry) => sum + entry.totalNs, 0),
			});
		}

		return {processes, lost};
	}

	/** The tables, one per process, as text. */
	format(): string {
		let text = '';
		for (const [pid, functions] of this.byProcess()) {
			const total = functions.reduce((sum, entry) => sum + entry.totalNs, 0);
			const rows = functions.map(entry => [
				entry.function,
				String(entry.calls),
				String(entry.errors),
				seconds(entry.totalNs),
				`${(entry.totalNs / entry.calls / 1000).toFixed(3)}`,
				`${(total === 0 ? 0 : (100 * entry.totalNs) / total).toFixed(2)}`,
			]);
			const header = ['function', 'calls', 'errors', 'seconds', 'usecs/call', '% time'];
			const widths = header.map((title, i) => Math.max(title.length, ...rows.map(row => row[i]!.length)));
			const line = (row: string[]) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ').trimEnd() + '\n';
			text += `pid ${pid}\n${line(header)}${line(widths.map(width => '-'.repeat(width)))}`;
			text += rows.map(row => line(row)).join('');
			const calls = functions.reduce((sum, entry) => sum + entry.calls, 0);
			const errors = functions.reduce((sum, entry) => sum + entry.errors, 0);
			text += line(['total', String(calls), String(errors), seconds(total), '', '100.00']);
		}

		return text;
	}
}

function seconds(ns: number): string {
	return (ns / 1e9).toFixed(6);
}
