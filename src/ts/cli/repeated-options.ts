import type {CommandUnknownOpts} from '@commander-js/extra-typings';
import {PdiError} from '../errors.js';

/** An option that may be given several times says so in its help (`-c, --config`, `--object`, `--chunk`). */
const isRepeatable = (description: string) => /\brepeatable\b/.test(description);

/**
 * An option that takes one value, given twice (`pdi inspect --imports A --imports B`, `-o X -o Y`), is refused with
 * `option --imports given twice` (status 2): commander, as getopt, would keep the last and drop the first without a
 * word. The options whose help says "repeatable" collect every value; flags without a value may repeat (`-v -v`).
 */
export function refuseRepeatedValues(command: CommandUnknownOpts): void {
	for (const option of command.options) {
		if ((option.required || option.optional) && !option.variadic && !isRepeatable(option.description)) {
			const parse = option.parseArg as ((value: string, previous: unknown) => unknown) | undefined;
			const name = option.attributeName();
			option.argParser((value: string, previous: unknown) => {
				if (command.getOptionValueSource(name) === 'cli') {
					throw new PdiError(`option ${option.long ?? option.short ?? option.flags} given twice`);
				}

				return parse ? parse(value, previous) : value;
			});
		}
	}

	for (const sub of command.commands) {
		refuseRepeatedValues(sub);
	}
}
