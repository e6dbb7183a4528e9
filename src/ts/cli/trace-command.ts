import type {Command} from '@commander-js/extra-typings';
import {PdiError} from '../errors.js';
import {runProgram} from '../launch/run.js';

/** `pdi trace [-o FILE] [--object OBJ] [--args N] -- PROGRAM [ARGS...]`: the trace backend on one object's imports. */
export function registerTraceCommand(cli: Command): void {
	cli.command('trace')
		.description('log every imported call of an object (default: the program) with its arguments and result, in-process')
		.usage('[-o FILE] [--object OBJ] [--args N] -- PROGRAM [ARGS...]')
		.option('-o, --output <file>', 'write the trace to FILE (default: stderr)')
		.option('--object <pattern>', 'the object whose imports are traced ($main, a soname, a path or a glob)', '$main')
		.option('--args <n>', 'integer arguments shown per call (0-6)', '3')
		.argument('[command...]', 'the program and its arguments')
		.passThroughOptions()
		.action(async (command, options) => {
			const [program, ...args] = command;
			if (program === undefined) {
				throw new PdiError('missing PROGRAM (usage: pdi trace [-o FILE] [--object OBJ] [--args N] -- PROGRAM [ARGS...])');
			}

			const shown = Number(options.args);
			if (!Number.isInteger(shown) || shown < 0 || shown > 6) {
				throw new PdiError(`--args: expected 0 to 6, got '${options.args}'`);
			}

			const env: NodeJS.ProcessEnv = {...process.env, PDI_TRACE_ARGS: String(shown)};
			if (options.output) {
				env['PDI_TRACE_OUTPUT'] = options.output;
			}

			process.exitCode = await runProgram(program, args, {
				env,
				config: {
					backends: [{name: 'trace', library: 'trace'}],
					rules: [{callback: {object: options.object, backend: 'trace'}}],
				},
			});
		});
}
