import {readFileSync} from 'node:fs';
import path from 'node:path';
import type {NormalizedConfig} from '../config/types.js';
import {entryName} from '../config/field-origins.js';

/** How often one `act` rule saw and changed calls in one process (docs/act.md). */
export type ActCount = {
	/** The process the counts are from (a program that forks reports once per process that exits normally). */
	pid: number;
	/** Where the rule was written: `FILE:LINE`, or `rules[I]` for a config given in memory. */
	rule: string;
	/** The object pattern and the function of the rule. */
	object: string;
	function: string;
	/** Calls of `function` from matching objects that reached the rule. */
	seen: number;
	/** Calls whose conditions held and that the rule acted on. */
	fired: number;
};

/** The variable the act backend appends its counts to, one JSON object per rule and process. */
export const actReportVariable = 'PDI_ACT_REPORT';

/** Whether a config has `act` rules (and so a report worth reading). */
export function hasActRules(config: NormalizedConfig): boolean {
	return config.rules.some(rule => rule.kind === 'act');
}

/** Where a launch whose compiled config is `configFile` has its act report. */
export function actReportFile(configFile: string): string {
	return path.join(path.dirname(configFile), 'act-report.ndjson');
}

/** How counts name the act rules of `config`, in order (the backend numbers them so): by place, or by index among the rules. */
function ruleLabels(config: NormalizedConfig): string[] {
	return config.rules.flatMap((rule, index) => {
		if (rule.kind !== 'act') {
			return [];
		}

		return [rule.origin ? `${rule.origin.file}:${rule.origin.line}` : entryName(rule, `rules[${index}]`)];
	});
}

/**
 * The counts in a report file, each rule named by its place in `config` (the core knows only the
 * compiled file); none when the file is missing (no process reached its exit).
 */
export function readActReport(file: string, config: NormalizedConfig): ActCount[] {
	let text: string;
	try {
		text = readFileSync(file, 'utf8');
	} catch {
		return [];
	}

	const labels = ruleLabels(config);
	const counts: ActCount[] = [];
	for (const line of text.split('\n')) {
		if (line.trim() === '') {
			continue;
		}

		const {pid, rule, index, object, function: name, seen, fired} = JSON.parse(line) as ActCount & {index: number};
		counts.push({pid, rule: labels[index] ?? rule, object, function: name, seen, fired});
	}

	return counts;
}
