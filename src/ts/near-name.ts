/** Edit distance between two short names. */
function distance(a: string, b: string): number {
	let previous = Array.from({length: b.length + 1}, (_, index) => index);
	for (let i = 1; i <= a.length; i++) {
		const row = [i];
		for (let j = 1; j <= b.length; j++) {
			row[j] = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
		}

		previous = row;
	}

	return previous[b.length]!;
}

/**
 * The name among `names` that an unknown `name` most likely meant, for a `did you mean` hint: the same words
 * in another spelling (`max_threads` for `maxThreads`), a prefix either way (`func` for `functions`), or the one
 * name nearest within two edits (`libary`, `confg`; one for a name of three letters, `wen`). Undefined when no name
 * stands out.
 */
export function nearName(name: string, names: Iterable<string>): string | undefined {
	const words = (text: string) => text.toLowerCase().replaceAll(/[_-]/g, '');
	const others = [...names].filter(other => other !== name);
	const spelled = others.find(other => words(other) === words(name));
	if (spelled !== undefined) {
		return spelled;
	}

	const prefixed = others.filter(other => name.length >= 3 && (words(other).startsWith(words(name)) || words(name).startsWith(words(other))));
	if (prefixed.length === 1) {
		return prefixed[0];
	}

	if (name.length < 3) {
		return undefined;
	}

	// A name of three letters is one typing error away at most (`wen` for `when`), a longer one two.
	const most = name.length === 3 ? 1 : 2;
	const distances = others.map(other => ({other, distance: distance(words(other), words(name))})).filter(entry => entry.distance <= most);
	const nearest = Math.min(...distances.map(entry => entry.distance));
	const near = distances.filter(entry => entry.distance === nearest);
	return near.length === 1 ? near[0]!.other : undefined;
}

/** ` (did you mean 'NAME'?)`, or nothing. */
export function nearNameHint(name: string, names: Iterable<string>): string {
	const near = nearName(name, names);
	return near === undefined ? '' : ` (did you mean '${near}'?)`;
}
