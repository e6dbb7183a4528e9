/**
 * What is wrong with an object pattern that no object can match, in the words a rule's object field and
 * `--imports` use, or undefined. As the core's reader (src/native/config/rules.c): no object's name starts with '$',
 * so a misspelt $main or a shell variable would match nothing; a '[' that nothing closes matches only a name with
 * that '[' in it (lib[m.so.6), where an absolute path names its file, '[' and all. Kept apart from the schema, so that
 * commands that check a pattern do not load it.
 */
export function objectPatternProblem(pattern: string): string | undefined {
	if (pattern.startsWith('$') && pattern !== '$main') {
		return `unknown name '${pattern}' ('$main' names the main program; pdi expands no variables)`;
	}

	if (!pattern.startsWith('/') && hasUnclosedBracket(pattern)) {
		return `a '[' without its closing ']' in '${pattern}' (it would match only a name with a '[' in it)`;
	}

	return undefined;
}

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
