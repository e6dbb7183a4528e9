import type {Command} from '@commander-js/extra-typings';
import {PdiError, shown} from '../errors.js';
import {parsePid} from './operands.js';

function collect(value: string, previous: string[]): string[] {
	return [...previous, value];
}

/**
 * `--detach-after` is decimal seconds, a fraction allowed (`0.5`, `.5`): Number() alone would take `0x10` for 16 s,
 * `1e3` for 1000 and ` 1` for 1, spellings that the numeric options of pdi trace and pdi comux refuse. The range is
 * checked with the value (detachAfterSeconds), in the same words.
 */
function checkSecondsSpelling(text: string | undefined): void {
	if (text !== undefined && !/^(?:\d+(?:\.\d*)?|\.\d+)$/.test(text)) {
		throw new PdiError(`--detach-after: ${shown(text)} is not a number of seconds (more than 0, at most 2147483: about 24 days)`);
	}
}

/** `pdi attach PID -c CONFIG [-c CONFIG]... [--detach-after SECONDS]` (docs/attach.md). */
export function registerAttachCommand(cli: Command): void {
	cli.command('attach')
		.description('install the CONFIG files into the running process PID until interrupted (or --detach-after), then restore it')
		.usage('PID -c CONFIG [-c CONFIG]... [--detach-after SECONDS] [-v]')
		.argument('<pid>', 'the process')
		.option('-c, --config <file>', 'a config file (JSON, YAML or text dialect); repeatable', collect, [] as string[])
		.option('--detach-after <seconds>', 'detach after SECONDS')
		.option('-v, --verbose', 'at the detach, print how many calls each act rule saw and acted on')
		.action(async (pid, options) => {
			// The operand is checked as pdi trace checks -p, before anything else, in a message that quotes it.
			parsePid(pid, 'PID');
			checkSecondsSpelling(options.detachAfter);
			// The config readers and the injector's machinery load only for this command.
			const {runAttached} = await import('../attach/run.js');
			process.exitCode = await runAttached(pid, options.config, options.detachAfter, options.verbose === true);
		});
}
