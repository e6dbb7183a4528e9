import {readFileSync} from 'node:fs';
import path from 'node:path';
import type {Command} from '@commander-js/extra-typings';
import type {ProcessReport} from '../elf/model.js';
import {PdiError} from '../errors.js';
import {runProgram} from '../launch/run.js';
import {temporaryDirectory} from '../launch/temporary.js';
import {checkOutputFile} from './output-file.js';
import {requireProgram} from './operands.js';

/** Callback stack per thread for `pdi trace` (the default 1 KiB holds about 9 nested calls). */
const traceStackSize = 65_536;

/** Whether the core's start-up report (inspect mode) found an object matching the traced pattern. */
function reportMatched(reportFile: string): boolean | undefined {
	try {
		const report = JSON.parse(readFileSync(reportFile, 'utf8')) as ProcessReport;
		return report.objects.some(object => object.imports !== null);
	} catch {
		return undefined;
	}
}

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
			const [program, ...args] = requireProgram(command, 'pdi trace [-o FILE] [--object OBJ] [--args N] -- PROGRAM [ARGS...]');

			const shown = Number(options.args);
			if (!Number.isInteger(shown) || shown < 0 || shown > 6) {
				throw new PdiError(`--args: expected 0 to 6, got '${options.args}'`);
			}

			const env: NodeJS.ProcessEnv = {...process.env, PDI_TRACE_ARGS: String(shown)};
			if (options.output) {
				checkOutputFile(options.output);
				env['PDI_TRACE_OUTPUT'] = path.resolve(options.output);
			}

			const scratch = temporaryDirectory('pdi-trace-');
			try {
				const reportFile = path.join(scratch.path, 'start.json');
				const alwaysMatches = options.object === '$main' || options.object === '*';
				if (!alwaysMatches) {
					Object.assign(env, {PDI_INSPECT_OUT: reportFile, PDI_INSPECT_IMPORTS: options.object, PDI_INSPECT_RUN: '1'});
				}

				process.exitCode = await runProgram(program, args, {
					env,
					config: {
						// A tracer wants deep programs whole: 64 KiB per thread holds about 600 nested calls.
						options: {cbStackSize: traceStackSize},
						backends: [{name: 'trace', library: 'trace'}],
						rules: [{callback: {object: options.object, backend: 'trace'}}],
					},
				});
				if (!alwaysMatches && reportMatched(reportFile) === false) {
					process.stderr.write(`pdi: warning: no object loaded at start matches --object '${options.object}', so nothing of it was traced (objects opened later would be)\n`);
				}
			} finally {
				scratch.remove();
			}
		});
}
