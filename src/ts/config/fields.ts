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
	// As the core's reader (src/native/config/rules.c): no object's name starts with '$', so a misspelt $main or a
	// shell variable would match nothing, and be warned about only when the program runs.
	.refine(value => !value.startsWith('$') || value === '$main', {
		error: issue => `unknown name '${String(issue.input)}' ('$main' names the main program; pdi expands no variables)`,
		params: {labelled: true},
	})
	// As the core's reader: a '[' that nothing closes matches only a name with that '[' in it (lib[m.so.6); an
	// absolute path names its file, '[' and all.
	.refine(value => value.startsWith('/') || !hasUnclosedBracket(value), {
		error: issue => `a '[' without its closing ']' in '${String(issue.input)}' (it would match only a name with a '[' in it)`,
		params: {labelled: true},
	});

/** Whether an object pattern has a '[' that no ']' closes, read as the core's matcher reads it (match.c: a first ']' and one after '!' or '^' belong to the set). */
function hasUnclosedBracket(pattern: string): boolean {
	for (let index = pattern.indexOf('['); index >= 0; index = pattern.indexOf('[', index + 1)) {
		let end = index + 1;
		end += pattern[end] === '!' || pattern[end] === '^' ? 1 : 0;
		end = pattern.indexOf(']', end + 1);
		if (end < 0) {
			return true;
		}

		index = end;
	}

	return false;
}

const functionSpelling = /^[^\s@]+(?:@@?[^\s@]+)?$/;

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
	.refine(value => !functionSpelling.test(value) || !/[*?[]/.test(value), {error: issue => notAPattern(String(issue.input)), params: {labelled: true}});
