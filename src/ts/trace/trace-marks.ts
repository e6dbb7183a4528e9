import {existsSync, mkdirSync} from 'node:fs';
import path from 'node:path';
import type {NormalizedConfig} from '../config/types.js';

/** What a traced process leaves for pdi to read once the trace is over; see {@link traceMarks}. */
export type TraceMarks = {
	/** The directory where each traced process image marks the `-e` names it had a call site of (the backend's unseen.c). */
	seen: string;
	/** `PDI_TRACE_SEEN` and `PDI_MATCHED_MARKS`, for the traced program's environment or an observation's session. */
	variables: Record<string, string>;
	/** The patterns of the trace's objects (but `$main` and `*`) that matched no object loaded in any traced process. */
	unmatchedObjects(): string[];
};

/**
 * Two directories of marks in `directory` (the trace's own): the `-e` names each traced process image had a call site
 * of, so that a process after an `exec` does not say it had none of a name an image before it called; and, made by
 * the core, which rules of `config` had their object pattern match an object loaded at start or later, in any
 * process, so that pdi can warn of each pattern that never did.
 */
export function traceMarks(directory: string, config: NormalizedConfig): TraceMarks {
	const seen = path.join(directory, 'seen');
	const matched = path.join(directory, 'matched');
	mkdirSync(seen);
	mkdirSync(matched);
	return {
		seen,
		variables: {PDI_TRACE_SEEN: seen, PDI_MATCHED_MARKS: matched},
		unmatchedObjects: () => config.rules.flatMap((rule, index) => {
			const pattern = rule.object ?? '*';
			return pattern === '$main' || pattern === '*' || existsSync(path.join(matched, String(index))) ? [] : [pattern];
		}),
	};
}

/**
 * The warning for an object pattern that never matched, as the option that gave it is named: trace() and observe()'s
 * `objects`, the CLI's `--object`. `when` follows `was loaded`: ` at start or later`, `, at start or later`...
 */
export function unmatchedWarning(pattern: string, when: string, option: 'objects' | '--object' = 'objects'): string {
	const named = option === '--object' ? `--object '${pattern}'` : `'${pattern}' (objects)`;
	return `pdi: warning: no object matching ${named} was loaded${when}, so nothing of it was traced`;
}
