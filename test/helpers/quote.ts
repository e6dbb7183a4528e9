/**
 * A value for a text-dialect config line (docs/config.md), always in double quotes with `\"` and `\\`:
 * a path holding a blank or a `#` (a checkout under `/home/me/my projects`) is then still one value.
 * Written here, not taken from the compiler, so that the tests do not share its mistakes.
 */
export function textValue(value: string): string {
	return `"${value.replaceAll(/["\\]/g, character => `\\${character}`)}"`;
}

/** A word for `sh -c`: in single quotes, a `'` inside written as `'\''`, so that no character of it is special. */
export function shellWord(value: string): string {
	return `'${value.replaceAll('\'', '\'\\\'\'')}'`;
}
