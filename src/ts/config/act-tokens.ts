import type {ActDo, ActWhen} from './act-types.js';

/** A rule's tokens for the conditions and actions of the text dialect's `act` line, in a fixed order. */
export function actTokens(when: ActWhen, action: ActDo): string[] {
	const tokens: string[] = [];
	const add = (key: string, value: number | string | undefined) => {
		if (value !== undefined) {
			tokens.push(`${key}=${value}`);
		}
	};

	add('call', when.call?.join(','));
	add('from', when.from);
	add('times', when.times);
	add('every', when.every);
	add('p', when.probability);
	add('seed', when.seed);
	if (when.arg !== undefined && when.matches !== undefined) {
		tokens.push(`arg${when.arg}~"${when.matches.replaceAll(/["\\]/g, character => `\\${character}`)}"`);
	}

	if (when.arg !== undefined) {
		add(`arg${when.arg}`, when.equals);
	}

	add('return', typeof action.return === 'object' ? `double:${action.return.double}` : action.return);
	add('errno', action.errno);
	add('delay', action.delay);
	add('signal', action.signal);
	if (action.count) {
		tokens.push('count');
	}

	return tokens;
}
