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

const classes: Readonly<Record<string, {test: (character: string) => boolean}>> = {
	alnum: /[\dA-Za-z]/, alpha: /[A-Za-z]/, blank: /[ \t]/, cntrl: {test: (character: string) => character < ' ' || character === '\x7f'}, digit: /\d/, graph: /[!-~]/,
	lower: /[a-z]/, print: /[ -~]/, punct: /[!-/:-@[-`{-~]/, space: /[\t-\r ]/, upper: /[A-Z]/, xdigit: /[\dA-Fa-f]/,
};

/** Whether `character` is in the bracket expression whose inside is `set` (fnmatch's rules, the C locale). */
function inSet(set: string, character: string): boolean {
	const negate = set.startsWith('!') || set.startsWith('^');
	let found = false;
	for (let index = negate ? 1 : 0; index < set.length; index++) {
		const classEnd = set.startsWith('[:', index) ? set.indexOf(':]', index + 2) : -1;
		if (classEnd >= 0) {
			found ||= classes[set.slice(index + 2, classEnd)]?.test(character) ?? false;
			index = classEnd + 1;
			continue;
		}

		const low = set[index] === '\\' && index + 1 < set.length ? set[++index]! : set[index]!;
		const high = set[index + 1] === '-' && index + 2 < set.length ? set[index += 2]! : low;
		found ||= character >= low && character <= high;
	}

	return found !== negate;
}

/** Whether `text` matches `glob` as fnmatch without flags reads it: `*`, `?`, `[...]`, `\\` escapes. */
export function globMatches(glob: string, text: string): boolean {
	let at = 0;
	let star = -1;
	let resume = 0;
	for (let position = 0; position < text.length;) {
		if (glob[at] === '*') {
			star = ++at;
			resume = position;
			continue;
		}

		const end = glob[at] === '[' ? bracketEnd(glob, at) : -1;
		const escaped = glob[at] === '\\' && at + 1 < glob.length;
		const matched = glob[at] === '?' || (end >= 0 ? inSet(glob.slice(at + 1, end), text[position]!) : glob[escaped ? at + 1 : at] === text[position]);
		if (matched && at < glob.length) {
			at = end >= 0 ? end + 1 : at + (escaped ? 2 : 1);
			position++;
		} else if (star >= 0) {
			at = star;
			position = ++resume;
		} else {
			return false;
		}
	}

	while (glob[at] === '*') {
		at++;
	}

	return at === glob.length;
}
