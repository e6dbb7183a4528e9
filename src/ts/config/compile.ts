import {actTokens} from './act-tokens.js';
import {defaultOptions} from './built.js';
import type {Origin} from './config-error.js';
import {optionNames, optionTable, optionValue} from './options.js';
import type {NormalizedConfig, NormalizedRule} from './schema.js';

/**
 * A value as the text dialect reads it back: in double quotes (with `\"` and `\\`) when it is
 * empty or holds a blank, a `#`, a quote or a backslash; as written otherwise.
 */
export function quoteValue(value: string): string {
	return value === '' || /[\s#"\\]/.test(value) ? `"${value.replaceAll(/["\\]/g, character => `\\${character}`)}"` : value;
}

function originLine(origin: Origin | undefined): string[] {
	return origin ? [`#@origin ${origin.file}:${origin.line}:${origin.column}`] : [];
}

function optionLines(config: NormalizedConfig): string[] {
	const defaults = defaultOptions();
	const lines: string[] = [];
	for (const name of optionNames) {
		const value = optionValue(config.options, name);
		const origin = config.optionOrigins[name];
		if (origin === undefined && JSON.stringify(value) === JSON.stringify(optionValue(defaults, name))) {
			continue;
		}

		const {key, kind} = optionTable[name];
		if (Array.isArray(value)) {
			for (const entry of value as string[]) {
				lines.push(...originLine(origin), `${key} = ${quoteValue(entry)}`);
			}
		} else {
			lines.push(...originLine(origin), `${key} = ${kind === 'boolean' ? (value ? 'on' : 'off') : quoteValue(String(value))}`);
		}
	}

	return lines;
}

/** A rule's line, its object already an alias or `*`; `backendField` gives the backend's field. */
function ruleLine(rule: NormalizedRule, object: string, backendField: (backend: string) => string): string {
	if (rule.kind === 'act') {
		// The tokens are written as the dialect reads them (a glob always quoted), not quoted again.
		return ['act', quoteValue(object), quoteValue(rule.function), ...actTokens(rule.when, rule.do)].join(' ');
	}

	const fields = rule.kind === 'callback'
		? ['callback', object, '*', backendField(rule.backend), ...(rule.handler === undefined ? [] : [rule.handler])]
		: [rule.kind, object, rule.function, backendField(rule.backend), rule.wrapper];
	return fields.map(field => quoteValue(field)).join(' ');
}

/** {@link compileConfig} of `load.ts` for a config that is normalized already; loads no schema. */
export function compileNormalizedConfig(normalized: NormalizedConfig): string {
	return compileWithSources(normalized).text;
}

/**
 * The compiled text, and for each of its lines (0-based) what it comes from when that has no origin
 * of its own (a config given in memory): `rules[I]` or `backends[I]`, for messages about those lines.
 */
export function compileWithSources(normalized: NormalizedConfig): {text: string; sources: Array<string | undefined>} {
	const sources: Array<string | undefined> = [];
	const backendNames = new Set(normalized.backends.map(backend => backend.name));
	const aliases = new Map<string, string>();
	let aliasCount = 0;
	const lines = [
		'# pdi config compiled by pdi (`pdi config compile`, compileConfig()); edit the source config instead.',
		'# A "#@origin FILE:LINE:COL" comment names the source of the line after it.',
		'[global]',
		...optionLines(normalized),
	];
	for (const warning of normalized.warnings) {
		lines.push(...originLine(warning.origin), `Warning ${quoteValue(warning.message)}`);
	}

	for (const [index, backend] of normalized.backends.entries()) {
		lines.push(...originLine(backend.origin), `backend ${backend.name} = ${quoteValue(backend.library)}`);
		sources[lines.length - 1] = `backends[${index}]`;
	}

	const alias = (pattern: string, origin: Origin | undefined, source: string): string => {
		let name = aliases.get(pattern);
		if (name === undefined) {
			do {
				aliasCount++;
			} while (backendNames.has(`o${aliasCount}`));

			name = `o${aliasCount}`;
			aliases.set(pattern, name);
			lines.push(...originLine(origin), `object ${name} = ${quoteValue(pattern)}`);
			sources[lines.length - 1] = source;
		}

		return name;
	};

	for (const [index, rule] of normalized.rules.entries()) {
		const source = `rules[${index}]`;
		if (rule.object !== '*') {
			alias(rule.object, rule.origin, source);
		}

		if (rule.kind !== 'act' && !backendNames.has(rule.backend)) {
			alias(rule.backend, rule.origin, source);
		}
	}

	for (const [index, rule] of normalized.rules.entries()) {
		const source = `rules[${index}]`;
		const object = rule.object === '*' ? '*' : alias(rule.object, rule.origin, source);
		lines.push(...originLine(rule.origin), ruleLine(rule, object, backend => backendNames.has(backend) ? backend : alias(backend, rule.origin, source)));
		sources[lines.length - 1] = source;
	}

	return {text: lines.join('\n') + '\n', sources};
}
