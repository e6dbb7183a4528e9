import {objectPatternProblem} from '../object-pattern.js';
import {z} from 'zod';

/**
 * No NUL character: the text dialect, which every config is compiled to, cannot hold one. A refinement,
 * not a pattern, so that schema.json stays as it is.
 */
export const hasNoNul = (value: string) => !value.includes('\0');

/** A non-empty string on one line; messages say `expected WHAT`. */
export function singleLine(what: string) {
	const error = `expected ${what}`;
	return z.string({error}).min(1, {error}).regex(/^[^\n\r]*$/, {error: `expected ${what} on one line`})
		.refine(hasNoNul, {error: `expected ${what} without a NUL character`});
}

/** A string that matches `pattern`; messages say `expected WHAT`. */
export function word(what: string, pattern: RegExp) {
	const error = `expected ${what}`;
	return z.string({error}).regex(pattern, {error}).refine(hasNoNul, {error: `expected ${what} without a NUL character`});
}

/** The object field of every rule kind. */
export const objectPattern = singleLine('an object pattern ($main, a soname, a path or a glob)')
	.check(context => {
		// A pattern on two lines, or with a NUL, has had its error above: this one would be a second at the same place.
		if (/[\n\r\0]/.test(context.value)) {
			return;
		}

		const problem = objectPatternProblem(context.value);
		if (problem !== undefined) {
			context.issues.push({code: 'custom', message: problem, input: context.value, params: {labelled: true}});
		}
	});

const functionSpelling = /^[^\s@]+(?:@@?[^\s@]+)?$/;

/** The longest symbol name the core takes, in bytes. */
const maxNameBytes = 8191;

/**
 * The function field's pattern in schema.json: the spelling without glob characters, which the schema checks
 * in one pattern where zod checks them in a refinement (so that a misspelled name gets one message).
 */
export const functionSchemaPatterns = {spelling: functionSpelling.source, withoutGlobs: /^[^\s@*?[]+(?:@@?[^\s@*?[]+)?$/.source};

/**
 * What a glob character in a function field is told (the core's reader says the same,
 * src/native/config/rules.c): no symbol name holds one, and rules name functions exactly.
 */
export function notAPattern(name: string): string {
	return `a function name, not a pattern: '${name}' (rules name functions exactly; pdi trace -e takes globs)`;
}

/** The function field of relink, redefine and act rules: a name, not a glob (checked once it is spelled right). */
export const functionName = word('a function name (`name`, `name@VERSION` or `name@@VERSION`)', functionSpelling)
	.refine(value => !functionSpelling.test(value) || !/[*?[]/.test(value), {error: issue => notAPattern(String(issue.input)), params: {labelled: true}})
	// The core's limit (PDI_SYMBOL_SIZE), said here with the field's path: a wrong wrapper was reported first, its
	// message holding the whole name.
	.refine(value => Buffer.byteLength(value) <= maxNameBytes, {error: issue => `a name of ${Buffer.byteLength(String(issue.input))} bytes; pdi takes names of up to ${maxNameBytes}`, params: {labelled: true}});
