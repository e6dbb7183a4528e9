/** Index of the `]` that closes the bracket expression opened at `open`, or -1 (fnmatch's rules: `!`/`^`, a first `]`, `[:class:]`, `\\`). */
function bracketEnd(glob: string, open: number): number {
	let index = open + 1;
	index += glob[index] === '!' || glob[index] === '^' ? 1 : 0;
	index += glob[index] === ']' ? 1 : 0;
	for (; index < glob.length && glob[index] !== ']'; index++) {
		const classEnd = glob.startsWith('[:', index) ? glob.indexOf(':]', index + 2) : -1;
		index = classEnd >= 0 ? classEnd + 1 : index + (glob[index] === '\\' ? 1 : 0);
	}

	return index < glob.length ? index : -1;
}

/** Why fnmatch would take `glob` for something else than the user meant (a `[` that nothing closes matches a `[`), or undefined. */
export function globProblem(glob: string): string | undefined {
	for (let index = 0; index < glob.length; index++) {
		if (glob[index] === '\\') {
			index++;
			if (index === glob.length) {
				return 'it ends in a lone \'\\\'';
			}
		} else if (glob[index] === '[') {
			index = bracketEnd(glob, index);
			if (index < 0) {
				return 'a \'[\' without its closing \']\'';
			}
		}
	}

	return undefined;
}

/**
 * Why the act backend's matcher (act.c, which follows fnmatch without its locale) would read `glob` otherwise than
 * it looks, or undefined: the same checks as the core's reader of a text-dialect `arg0~"GLOB"` (act-spec.c), so that
 * JSON and YAML rules are refused alike.
 */
export function actGlobProblem(glob: string): string | undefined {
	for (let index = 0; index < glob.length; index++) {
		if (glob[index] === '\\') {
			if (++index === glob.length) {
				return 'it ends in a lone \'\\\'';
			}
		} else if (glob[index] === '[') {
			index += glob[index + 1] === '!' || glob[index + 1] === '^' ? 2 : 1;
			// A first ']' belongs to the set, as in fnmatch.
			do {
				if (glob.startsWith('[:', index)) {
					return 'character classes such as [:digit:] are not supported: write the range, [0-9]';
				}

				const range = glob[index + 1] === '-' && index + 2 < glob.length && glob[index + 2] !== ']';
				index += index < glob.length ? (range ? 3 : 1) : 0;
			} while (index < glob.length && glob[index] !== ']');
			if (index >= glob.length) {
				return 'a \'[\' without its closing \']\' (\\[ is a literal \'[\')';
			}
		}
	}

	return undefined;
}
