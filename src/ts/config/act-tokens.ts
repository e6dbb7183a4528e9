import type {ActDo, ActWhen} from './act-types.js';

/** The field of an act rule that a token of its text-dialect line comes from: `when.arg`, `do.return`. */
export type ActField = `when.${keyof ActWhen}` | `do.${keyof ActDo}`;

/** One token of an act line and the field it was written as. */
export type ActToken = {text: string; field: ActField};

/** A rule's tokens for the conditions and actions of the text dialect's `act` line, in a fixed order. */
export function actTokens(when: ActWhen, action: ActDo): ActToken[] {
	const tokens: ActToken[] = [];
	const add = (key: string, value: number | string | undefined, field: ActField) => {
		if (value !== undefined) {
			tokens.push({text: `${key}=${value}`, field});
		}
	};

	add('call', when.call?.join(','), 'when.call');
	add('from', when.from, 'when.from');
	add('times', when.times, 'when.times');
	add('every', when.every, 'when.every');
	add('p', when.probability, 'when.probability');
	add('seed', when.seed, 'when.seed');
	if (when.arg !== undefined && when.matches !== undefined) {
		tokens.push({text: `arg${when.arg}~"${when.matches.replaceAll(/["\\]/g, character => `\\${character}`)}"`, field: 'when.arg'});
	}

	if (when.arg !== undefined) {
		add(`arg${when.arg}`, when.equals, 'when.arg');
	}

	add('return', typeof action.return === 'object' ? `double:${action.return.double}` : action.return, 'do.return');
	add('errno', action.errno, 'do.errno');
	add('delay', action.delay, 'do.delay');
	add('signal', action.signal, 'do.signal');
	if (action.count) {
		tokens.push({text: 'count', field: 'do.count'});
	}

	return tokens;
}
