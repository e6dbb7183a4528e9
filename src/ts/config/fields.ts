import {z} from 'zod';

/** A non-empty string on one line; messages say `expected WHAT`. */
export function singleLine(what: string) {
	const error = `expected ${what}`;
	return z.string({error}).min(1, {error}).regex(/^[^\n\r]*$/, {error: `expected ${what} on one line`});
}

/** A string that matches `pattern`; messages say `expected WHAT`. */
export function word(what: string, pattern: RegExp) {
	const error = `expected ${what}`;
	return z.string({error}).regex(pattern, {error});
}

/** The object field of every rule kind. */
export const objectPattern = singleLine('an object pattern ($main, a soname, a path or a glob)');

/** The function field of relink, redefine and act rules. */
export const functionName = word('a function name (`name`, `name@VERSION` or `name@@VERSION`)', /^[^\s@]+(?:@@?[^\s@]+)?$/);
