import type {Command} from '@commander-js/extra-typings';
import {runProgram} from '../launch/run.js';
import {requireProgram, sayKilledBy, warnSecureMode} from './operands.js';

function collect(value: string, previous: string[]): string[] {
	return [...previous, value];
}

function increase(_: string, previous: number): number {
	return previous + 1;
}

/** `pdi run [-c CONFIG]... [-v] -- PROGRAM [ARGS...]` */
export function registerRunCommand(cli: Command): void {
	cli.command('run')
		.description('run PROGRAM with the interpositions of the CONFIG files (merged in order); exit with its status')
		.usage('[-c CONFIG]... [-v] -- PROGRAM [ARGS...]')
		.option('-c, --config <file>', 'a config file (JSON, YAML or text dialect); repeatable', collect, [] as string[])
		.option('-v, --verbose', 'raise the core\'s log level (repeat for debug)', increase, 0)
		.argument('[command...]', 'the program and its arguments')
		.passThroughOptions()
		.action(async (command, options) => {
			const [program, ...args] = requireProgram(command, 'pdi run [-c CONFIG]... [-v] -- PROGRAM [ARGS...]');
			warnSecureMode(program);
			const {status, signal} = await runProgram(program, args, {configs: options.config, verbosity: typeof options.verbose === 'number' ? options.verbose : 1});
			sayKilledBy(program, signal, status);
			process.exitCode = status;
		});
}
