import {nativeBinding} from '../native/binding.js';
import {ConfigError, type ConfigIssue, type Origin} from './config-error.js';
import type {OptionName} from './options.js';

// The core's reader through the addon, without the schema: verifyConfig() reads a compiled config back
// with it, and text-dialect.ts checks what it returns against the schema.

export type NativeOrigin = {file: string | null; line: number | null; column: number | null};
export type RuleField = 'object' | 'function' | 'backend' | 'wrapper';

/** A rule of the native model; an act rule has no backend and its conditions and actions spelled as in JSON. */
export type NativeRule = {
	kind: 'relink' | 'redefine' | 'callback' | 'act';
	object: string;
	function: string | null;
	backend: string | null;
	wrapper: string | null;
	origin: NativeOrigin;
	fields: Record<RuleField, NativeOrigin>;
	when?: Record<string, unknown>;
	do?: Record<string, unknown>;
};

/** The model the native reader (src/native/config/config.c) hands over through the addon. */
export type NativeModel = {
	/** Every option with its value (the default unless `set`). */
	options: Array<{name: OptionName; value: unknown; set: boolean; origin: NativeOrigin}>;
	backends: Array<{name: string; library: string; origin: NativeOrigin; libraryOrigin: NativeOrigin}>;
	rules: NativeRule[];
	warnings: Array<{message: string; origin: NativeOrigin}>;
};

type NativeFailure = {message: string; origin: NativeOrigin};

/** What the native reader returns: its model, or its first error and every error it found (up to 20). */
export type NativeResult = {config: NativeModel} | {error: NativeFailure; errors: NativeFailure[]; cut: boolean};

export function place(origin: NativeOrigin): Omit<ConfigIssue, 'message'> {
	return {file: origin.file ?? undefined, line: origin.line ?? undefined, column: origin.column ?? undefined};
}

export function originOf(origin: NativeOrigin): Origin | undefined {
	return origin.file !== null && origin.line !== null && origin.column !== null ? {file: origin.file, line: origin.line, column: origin.column} : undefined;
}

/**
 * Reads `text` of the dialect with the core's own reader (`name` names it in messages, `directory`
 * is where its relative paths start) and returns the core's model; throws a {@link ConfigError}
 * at the place of the core's first error, with each statement's error among its issues. With `merging`, a rule's backend need not be declared:
 * the text is one of several configs merged, and verifyConfig() checks the backends after the merge. With `deferWhole`,
 * the checks of the whole (an option over its limit, a handler without cbAllowHandler) are left to the caller when
 * every statement reads (`wholeConfigIssues()` of whole-checks.ts).
 */
export function readNativeModel(text: string, name: string, directory: string, merging = false, deferWhole = false): NativeModel {
	const result = JSON.parse(nativeBinding().readConfig(name, text, directory, merging, deferWhole)) as NativeResult;
	if ('error' in result) {
		const errors = result.errors.length > 0 ? result.errors : [result.error];
		const issues = errors.map(error => ({message: error.message, ...place(error.origin)}));
		// Said last, after the errors of every file (fromIssues keeps a file's issues without a line first).
		const cut = result.cut ? [{message: `${errors.length} errors: the reading stopped there`, file: undefined, line: undefined, column: undefined}] : [];
		throw ConfigError.fromIssues([...issues, ...cut]);
	}

	return result.config;
}
