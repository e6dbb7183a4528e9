#!/usr/bin/env node
import {writeFileSync} from 'node:fs';
import {Command, CommanderError} from '@commander-js/extra-typings';
import {PdiError} from '../errors.js';
import {formatReport} from '../inspect/format.js';
import {inspectProgram} from '../inspect/inspect.js';
import {exitStatus} from '../launch/run.js';
import {packageVersion} from '../native/package-root.js';
import {pdiPaths} from '../paths.js';
import {registerComuxCommands} from './comux-command.js';
import {registerComuxReplayCommands} from './comux-replay-command.js';
import {registerConfigCommands} from './config-command.js';
import {registerRunCommand} from './run-command.js';
import {registerTraceCommand} from './trace-command.js';

function emit(text: string, output: string | undefined): void {
	if (output) {
		writeFileSync(output, text);
	} else {
		process.stdout.write(text);
	}
}

function requireProgram(command: string[], usage: string): [string, ...string[]] {
	const [program, ...args] = command;
	if (program === undefined) {
		throw new PdiError(`missing PROGRAM (usage: ${usage})`);
	}

	return [program, ...args];
}

export function createCli(): Command {
	const cli = new Command('pdi')
		.description('Run-time function interposition for Linux/ELF programs')
		.version(packageVersion(), '-V, --version')
		.enablePositionalOptions()
		.exitOverride()
		.configureOutput({
			outputError(message, write) {
				write(`pdi: ${message.replace(/^error: /, '')}`);
			},
		});

	const inspectUsage = 'pdi inspect [-c CONFIG]... [--json] [--imports OBJ] [-o FILE] [--run] -- PROGRAM [ARGS...]';
	cli.command('inspect')
		.description('report the loaded objects and their GOT slots as PROGRAM starts (before main)')
		.usage('[-c CONFIG]... [--json] [--imports OBJ] [-o FILE] [--run] -- PROGRAM [ARGS...]')
		.option('-c, --config <file>', 'install this config first, so the report shows its rules; repeatable', (value: string, previous: string[]) => [...previous, value], [] as string[])
		.option('--json', 'print the report as JSON')
		.option('--imports <object>', 'list import slots only for objects matching OBJ ($main, soname, path or glob)')
		.option('-o, --output <file>', 'write the report to FILE instead of stdout')
		.option('--run', 'let PROGRAM run to completion after the report; exit with its status')
		.argument('[command...]', 'the program and its arguments')
		.passThroughOptions()
		.action(async (command, options) => {
			const [program, ...args] = requireProgram(command, inspectUsage);
			const result = await inspectProgram(program, args, {imports: options.imports, run: options.run, configs: options.config});
			emit(options.json ? JSON.stringify(result.report, null, 2) + '\n' : formatReport(result.report), options.output);
			if (options.run) {
				process.exitCode = exitStatus(result.exitCode, result.signal);
			}
		});

	cli.command('paths')
		.description('where the preload core, the bundled backends and the C headers are')
		.option('--json', 'print as JSON')
		.action(options => {
			const paths = pdiPaths();
			if (options.json) {
				process.stdout.write(JSON.stringify(paths, null, 2) + '\n');
				return;
			}

			const lines = [
				`preload   ${paths.preload}`,
				`include   ${paths.include}`,
				`native    ${paths.nativeDirectory}`,
				...Object.entries(paths.backends).map(([name, file]) => `backend   ${name.padEnd(12)} ${file}`),
			];
			process.stdout.write(lines.join('\n') + '\n');
		});

	registerRunCommand(cli);
	registerTraceCommand(cli);
	registerConfigCommands(cli);
	registerComuxReplayCommands(registerComuxCommands(cli));
	return cli;
}

export async function main(argv: string[]): Promise<number> {
	try {
		await createCli().parseAsync(argv, {from: 'user'});
		return typeof process.exitCode === 'number' ? process.exitCode : 0;
	} catch (error) {
		if (error instanceof CommanderError) {
			return error.exitCode === 0 ? 0 : 2;
		}

		if (error instanceof PdiError) {
			process.stderr.write(`pdi: ${error.message}\n`);
			return error.exitCode;
		}

		process.stderr.write(`pdi: internal error: ${(error as Error).stack ?? String(error)}\n`);
		return 70;
	}
}

process.exitCode = await main(process.argv.slice(2));
