import {PdiError} from '../errors.js';

/** The PROGRAM operand and its arguments, or a one-line error naming the command's usage. */
export function requireProgram(command: string[], usage: string): [string, ...string[]] {
	const [program, ...args] = command;
	if (program === undefined) {
		throw new PdiError(`missing PROGRAM (usage: ${usage})`);
	}

	return [program, ...args];
}
