import type {CallEvent} from './events.js';

/** One function's line of a `pdi trace -c` table. */
export type FunctionSummary = {
	function: string;
	calls: number;
	/** Calls whose prototype says they failed (an errno was shown). */
	errors: number;
	totalNs: number;
};

/** Per process, per function: calls, errors and total time (what `pdi trace -c` prints). */
export class TraceSummary {
	private readonly processes = new Map<number, Map<string, FunctionSummary>>();

	add(event: CallEvent): void {
		let functions = this.processes.get(event.pid);
		if (functions === undefined) {
			functions = new Map();
			this.processes.set(event.pid, functions);
		}

		let entry = functions.get(event.function);
		if (entry === undefined) {
			entry = {function: event.function, calls: 0, errors: 0, totalNs: 0};
			functions.set(event.function, entry);
		}

		entry.calls++;
		entry.errors += event.errno === null ? 0 : 1;
		entry.totalNs += event.durationNs ?? 0;
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
