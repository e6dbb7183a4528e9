import {escapeControls} from '../errors.js';
import type {CallEvent} from './events.js';
import type {RingLoss, RingProgram, SiteCount} from './reader.js';

/** The widest the function column grows (names longer have a line of their own). */
const nameColumnCap = 48;

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
	/**
	 * The programs the process ran, in order (its executable's path, as `/proc/PID/exe` named it): one, or one per
	 * image when it called `exec`. Empty when not known.
	 */
	programs: string[];
	functions: FunctionSummary[];
	/** The process's calls, all functions together (the table's `total` line). */
	calls: number;
	/** Its calls whose prototype says they failed. */
	errors: number;
	/** The time spent in its calls, in ns (a caller's includes its traced callees'). */
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
	private readonly processes = new Map<number, Map<string, FunctionSummary>>();
	private readonly programs = new Map<number, string[]>();

	/** Notes what each ring's process image ran (a reader's end), for the tables' `pid N (PROGRAM)` lines. */
	setPrograms(rings: readonly RingProgram[]): void {
		this.programs.clear();
		for (const {pid, program} of [...rings].sort((a, b) => a.openedNs - b.openedNs)) {
			const programs = this.programs.get(pid) ?? [];
			if (program !== '') {
				programs.push(program);
			}

			this.programs.set(pid, programs);
		}
	}

	add(event: CallEvent): void {
		this.count(event.pid, event.function, event.errno === null ? 0 : 1, event.durationNs);
	}

	/** Counts a summary reader made at one call site (src/native/addon/trace-drain.c). */
	/** Whether some process made a call of `name` that was counted. */
	counted(name: string): boolean {
		return [...this.processes.values()].some(functions => functions.has(name));
	}

	addCount(site: SiteCount): void {
		this.count(site.pid, site.function, site.errors, site.totalNs, site.calls);
	}

	private count(pid: number, name: string, errors: number, ns: number, calls = 1): void {
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

		entry.calls += calls;
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

	/** The counts as data, with what the rings lost and ran (a reader's end). */
	result({losses, programs}: {losses: readonly RingLoss[]; programs: readonly RingProgram[]}): TraceSummary {
		this.setPrograms(programs);
		const lost = losses.reduce((sum, loss) => sum + loss.lost, 0);
		const processes: ProcessSummary[] = [];
		for (const [pid, functions] of this.byProcess()) {
			processes.push({
				pid,
				programs: this.programs.get(pid) ?? [],
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
		// Said, not left blank: an empty summary would read as a trace that never ran.
		let text = this.processes.size === 0 ? 'no calls traced\n' : '';
		for (const [pid, functions] of this.byProcess()) {
			const total = functions.reduce((sum, entry) => sum + entry.totalNs, 0);
			const rows = functions.map(entry => [
				escapeControls(entry.function),
				String(entry.calls),
				String(entry.errors),
				seconds(entry.totalNs),
				`${(entry.totalNs / entry.calls / 1000).toFixed(3)}`,
				`${(total === 0 ? 0 : (100 * entry.totalNs) / total).toFixed(2)}`,
			]);
			const header = ['function', 'calls', 'errors', 'seconds', 'usecs/call', '% time'];
			// A name past the column's cap (a demangled C++ template, 160 characters) has a line of its own, its numbers
			// under the columns on the next: the table keeps its width (was as wide as the longest name).
			const widths = header.map((title, i) => Math.max(title.length, ...rows.map(row => Math.min(row[i]!.length, i === 0 ? nameColumnCap : Infinity))));
			const line = (row: string[]) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ').trimEnd() + '\n';
			text += `${this.processTitle(pid)}\n${line(header)}${line(widths.map(width => '-'.repeat(width)))}`;
			text += rows.map(row => (row[0]!.length > widths[0]! ? `${row[0]!}\n${line(['', ...row.slice(1)])}` : line(row))).join('');
			const calls = functions.reduce((sum, entry) => sum + entry.calls, 0);
			const errors = functions.reduce((sum, entry) => sum + entry.errors, 0);
			text += line(['total', String(calls), String(errors), seconds(total), '', '100.00']);
		}

		return text;
	}

	/** `pid 42 (/usr/bin/ls)`; after an exec, `pid 42 (/usr/bin/dash, then /usr/bin/ls)`. */
	private processTitle(pid: number): string {
		const programs = this.programs.get(pid) ?? [];
		return programs.length === 0 ? `pid ${pid}` : `pid ${pid} (${programs.map(program => escapeControls(program)).join(', then ')})`;
	}
}

function seconds(ns: number): string {
	return (ns / 1e9).toFixed(6);
}
