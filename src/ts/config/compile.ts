import {escapeControls} from '../errors.js';
import {actTokens} from './act-tokens.js';
import {defaultOptions} from './built.js';
import type {Origin} from './config-error.js';
import {entryName, fieldOrigin, type PlacedField} from './field-origins.js';
import {optionNames, optionTable, optionValue} from './options.js';
import type {NormalizedConfig, NormalizedRule} from './types.js';

/**
 * A value as the text dialect reads it back: in double quotes (with `\"` and `\\`) when it is
 * empty or holds a blank, a `#`, a quote or a backslash; as written otherwise.
 */
export function quoteValue(value: string): string {
	return value === '' || /[\s#"\\]/.test(value) ? `"${value.replaceAll(/["\\]/g, character => `\\${character}`)}"` : value;
}

/**
 * The `#@origin` of a statement: its place in the user's file, or for a config given in memory the
 * entry it comes from (`#@origin rules[2]`), which the core's messages then name.
 */
function originLine(origin: Origin | undefined, entry?: string): string[] {
	return origin ? [`#@origin ${escapeControls(origin.file)}:${origin.line}:${origin.column}`] : entry === undefined ? [] : [`#@origin ${entry}`];
}

/** A statement of the compiled text, with the place each of its tokens was written at, when known. */
type PlacedStatement = {tokens: Array<{text: string; origin?: Origin | undefined}>};

/**
 * The statement's lines: its `#@origin`, a `#@field COLUMN FILE:LINE:COL` for each token written at
 * a place of its own (the core's messages about a wrapper or a library then name that place), and
 * the statement, its tokens separated by one blank. Columns count characters, as the core does.
 */
function placedLines(origin: Origin | undefined, entry: string, statement: PlacedStatement): string[] {
	const lines = originLine(origin, entry);
	let column = 1;
	for (const token of statement.tokens) {
		const place = token.origin;
		if (origin && place && (place.file !== origin.file || place.line !== origin.line || place.column !== origin.column)) {
			lines.push(`#@field ${column} ${escapeControls(place.file)}:${place.line}:${place.column}`);
		}

		column += [...token.text].length + 1;
	}

	lines.push(statement.tokens.map(token => token.text).join(' '));
	return lines;
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
				lines.push(...originLine(origin, `options.${name}`), `${key} = ${quoteValue(entry)}`);
			}
		} else {
			lines.push(...originLine(origin, `options.${name}`), `${key} = ${kind === 'boolean' ? (value ? 'on' : 'off') : quoteValue(String(value))}`);
		}
	}

	return lines;
}

/** A rule's statement, its object already an alias or `*`; `backendField` gives the backend's field. */
function ruleStatement(rule: NormalizedRule, object: string, backendField: (backend: string) => string): PlacedStatement {
	// Only the fields the core's own messages can be about (pdi checks the others before the core reads them).
	const placed = (text: string, field: PlacedField) => ({text: quoteValue(text), origin: fieldOrigin(rule, field)});
	if (rule.kind === 'act') {
		// The tokens are written as the dialect reads them (a glob always quoted), not quoted again.
		const tokens = actTokens(rule.when, rule.do).map(({text, field}) => ({text, origin: fieldOrigin(rule, field)}));
		return {tokens: [{text: 'act'}, {text: quoteValue(object), origin: fieldOrigin(rule, 'object')}, placed(rule.function, 'function'), ...tokens]};
	}

	// The object is its alias here, placed at the pattern: the core refuses an object it protects at that field.
	const objectToken = {text: quoteValue(object), origin: fieldOrigin(rule, 'object')};
	return {tokens: rule.kind === 'callback'
		? [{text: 'callback'}, objectToken, {text: '*'}, placed(backendField(rule.backend), 'backend'), ...(rule.handler === undefined ? [] : [placed(rule.handler, 'handler')])]
		: [{text: rule.kind}, objectToken, placed(rule.function, 'function'), placed(backendField(rule.backend), 'backend'), placed(rule.wrapper, 'wrapper')]};
}

/** {@link compileConfig} of `load.ts` for a config that is normalized already; loads no schema. */
export function compileNormalizedConfig(normalized: NormalizedConfig): string {
	const backendNames = new Set(normalized.backends.map(backend => backend.name));
	const wrappersFromObjects = normalized.options.allowUndeclaredWrappers;
	const aliases = new Map<string, string>();
	let aliasCount = 0;
	const lines = [
		'# pdi config compiled by pdi (`pdi config compile`, compileConfig()); edit the source config instead.',
		'# A "#@origin FILE:LINE:COL" comment names the source of the line after it, "#@field COLUMN FILE:LINE:COL" that of one of its words.',
		'[global]',
		...optionLines(normalized),
	];
	for (const warning of normalized.warnings) {
		lines.push(...originLine(warning.origin, warning.entry), `Warning ${quoteValue(warning.message)}`);
	}

	for (const [index, backend] of normalized.backends.entries()) {
		lines.push(...placedLines(backend.origin, entryName(backend, `backends[${index}]`), {tokens: [{text: 'backend'}, {text: backend.name}, {text: '='}, {text: quoteValue(backend.library), origin: fieldOrigin(backend, 'library')}]}));
	}

	const alias = (pattern: string, origin: Origin | undefined, source: string): string => {
		let name = aliases.get(pattern);
		if (name === undefined) {
			do {
				aliasCount++;
			} while (backendNames.has(`o${aliasCount}`));

			name = `o${aliasCount}`;
			aliases.set(pattern, name);
			lines.push(...originLine(origin, source), `object ${name} = ${quoteValue(pattern)}`);
		}

		return name;
	};

	for (const [index, rule] of normalized.rules.entries()) {
		const source = entryName(rule, `rules[${index}]`);
		if (rule.object !== '*') {
			alias(rule.object, rule.origin, source);
		}

		if (rule.kind !== 'act' && wrappersFromObjects && !backendNames.has(rule.backend)) {
			alias(rule.backend, rule.origin, source);
		}
	}

	// Without allow_lib_as_be an undeclared backend stays as written, so that the reader's error names it (it named
	// the alias it was given, 'o2 is an object alias').
	const backendField = (backend: string, origin: Origin | undefined, source: string) => backendNames.has(backend) || !wrappersFromObjects ? backend : alias(backend, origin, source);
	for (const [index, rule] of normalized.rules.entries()) {
		const source = entryName(rule, `rules[${index}]`);
		const object = rule.object === '*' ? '*' : alias(rule.object, rule.origin, source);
		lines.push(...placedLines(rule.origin, source, ruleStatement(rule, object, backend => backendField(backend, rule.origin, source))));
	}

	return lines.join('\n') + '\n';
}
