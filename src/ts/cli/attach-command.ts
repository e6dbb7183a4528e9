import type {Command} from '@commander-js/extra-typings';
import {parsePid} from './operands.js';

function collect(value: string, previous: string[]): string[] {
	return [...previous, value];
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
			// The config readers and the injector's machinery load only for this command.
			const {runAttached} = await import('../attach/run.js');
			process.exitCode = await runAttached(pid, options.config, options.detachAfter, options.verbose === true);
		});
}
