import {PdiError, shown} from '../errors.js';
import {nearNameHint} from '../near-name.js';

/** What an option must be: a check, and how a message says what was expected. */
export type OptionType = [check: (value: unknown) => boolean, expected: string];

export const isObject = (value: unknown) => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The longest time a Node timer holds, in milliseconds (about 24.8 days): the bound of every time limit pdi keeps with one. */
export const maxTimerMs = 2_147_483_647;

/** A time limit: a whole number of milliseconds from `low` to `high` ({@link maxTimerMs} unless given). */
export function milliseconds(low: number, high = maxTimerMs): OptionType {
	return [value => Number.isInteger(value) && (value as number) >= low && (value as number) <= high, `a whole number of milliseconds (${low} to ${high})`];
}

/**
 * Refuses options that are not an object, an option `types` does not know (a misspelled `confg`, with a
 * `did you mean` hint) and a value of the wrong type, with a {@link PdiError} naming it. `undefined` is an
 * option left out.
 */
export function checkOptions(options: unknown, types: Readonly<Record<string, OptionType>>): void {
	if (!isObject(options)) {
		throw new PdiError(`options: expected an object, got ${shown(options)}`);
	}

	const known = Object.keys(types);
	for (const [key, value] of Object.entries(options as object)) {
		const type = types[key];
		if (type === undefined) {
			throw new PdiError(`unknown option '${key}'${nearNameHint(key, known)}; the options are ${known.join(', ')}`);
		}

		if (value !== undefined && !type[0](value)) {
			throw new PdiError(`${key}: expected ${type[1]}, got ${shown(value)}`);
		}
	}
}

const stdioNames = new Set(['pipe', 'overlapped', 'ignore', 'inherit']);

/** One entry of Node's stdio array: a name, a file descriptor, a stream, or null/undefined for the default. */
function isStdioEntry(entry: unknown): boolean {
	return entry === null || entry === undefined || (typeof entry === 'string' && stdioNames.has(entry)) || (Number.isInteger(entry) && (entry as number) >= 0)
		|| (typeof entry === 'object' && typeof (entry as {pipe?: unknown}).pipe === 'function');
}

/** Node's stdio option as spawn() takes it, checked here so that a wrong one is named as `stdio`. */
export const stdioOption: OptionType = [
	value => (typeof value === 'string' && stdioNames.has(value)) || (Array.isArray(value) && value.every(entry => isStdioEntry(entry))),
	'\'pipe\', \'inherit\', \'ignore\' or an array of them, file descriptors, streams or null (Node\'s stdio option)',
];
