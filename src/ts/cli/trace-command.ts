import {mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import type {Command} from '@commander-js/extra-typings';
import type {ProcessReport} from '../elf/model.js';
import {PdiError} from '../errors.js';
import {runProgram} from '../launch/run.js';
import {temporaryDirectory} from '../launch/temporary.js';
import {encodePrototypes, loadPrototypes} from '../trace/prototypes.js';
import {RingCollector} from '../trace/ring.js';
import {EventSink} from '../trace/sink.js';
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

const usage = '[--json | -c] [-o FILE] [-f] [--object OBJ]... [-e LIST] [-T] [-t] [-s N] [--depth N] [--args N] [--prototypes FILE] -- PROGRAM [ARGS...]';

/** A whole number in [low, high] given to `option`, or a one-line error. */
function bounded(option: string, text: string, low: number, high: number): number {
	const value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
	if (!Number.isInteger(value) || value < low || value > high) {
		throw new PdiError(`${option}: expected ${low} to ${high}, got '${text}'`);
	}

	return value;
}

/** Checks a `-e` list (comma-separated globs, `!glob`, `glob@OBJ`) and returns it unchanged. */
function checkFunctions(list: string): string {
	for (const entry of list.split(',')) {
		const [functions, object, extra] = entry.replace(/^!/, '').split('@');
		if (entry === '' || (functions === '' && object === undefined) || object === '' || extra !== undefined) {
			throw new PdiError(`-e: '${entry}' in '${list}' is not a pattern (GLOB, !GLOB, GLOB@OBJECT)`);
		}
	}

	return list;
}

type TraceCliOptions = {
	output?: string; object: string[]; functions?: string; time?: true; timestamp?: true;
	stringSize: string; depth?: string; args: string; prototypes?: string; json?: true; summary?: true; follow?: true;
};

/** The trace backend's settings (src/native/backends/trace/trace.c) for the command's options. */
function backendEnvironment(options: TraceCliOptions): NodeJS.ProcessEnv {
	const env: NodeJS.ProcessEnv = {
		PDI_TRACE_ARGS: String(bounded('--args', options.args, 0, 6)),
		PDI_TRACE_STRING_SIZE: String(bounded('-s', options.stringSize, 0, 4096)),
		PDI_TRACE_TIME: options.time ? '1' : '0',
		PDI_TRACE_TIMESTAMP: options.timestamp ? '1' : '0',
		PDI_TRACE_DEPTH: options.depth === undefined ? '-1' : String(bounded('--depth', options.depth, 0, 1_000_000)),
		PDI_TRACE_FUNCTIONS: options.functions === undefined ? '' : checkFunctions(options.functions),
		PDI_TRACE_PROTOTYPES: options.prototypes === undefined ? '' : encodePrototypes(loadPrototypes(options.prototypes)),
		PDI_TRACE_FOLLOW: options.follow ? '1' : '0',
	};
	if (options.output) {
		checkOutputFile(options.output);
		if (!options.json && !options.summary) {
			env['PDI_TRACE_OUTPUT'] = path.resolve(options.output);
			// Followed processes append to it (each image opens it anew): it starts empty here.
			writeFileSync(env['PDI_TRACE_OUTPUT'], '');
		}
	}

	return env;
}

/**
 * Events through rings in `directory` (docs/trace.md, "Transport") instead of text lines: sets the
 * backend's environment, starts draining, and returns what ends it once the program has exited.
 */
function startRings(directory: string, env: NodeJS.ProcessEnv, mode: 'json' | 'summary', output: string | undefined): () => void {
	const rings = path.join(directory, 'rings');
	mkdirSync(rings, {mode: 0o700});
	Object.assign(env, {PDI_TRACE_RING: rings, PDI_TRACE_RING_READER: String(process.pid)});
	const sink = new EventSink(mode, output === undefined ? undefined : path.resolve(output));
	const collector = new RingCollector(rings, records => {
		sink.add(records);
	});
	collector.start();
	let ended = false;
	return () => {
		if (!ended) {
			ended = true;
			sink.end(collector.finish());
		}
	};
}

/** `pdi trace [options] -- PROGRAM [ARGS...]`: the trace backend on the imports of the chosen objects (docs/trace.md). */
export function registerTraceCommand(cli: Command): void {
	cli.command('trace')
		.description('log the imported calls of objects (default: the program) with decoded arguments and results, in-process')
		.usage(usage)
		.option('-o, --output <file>', 'write the trace to FILE (default: stderr)')
		.option('--object <pattern>', 'an object whose imports are traced ($main, a soname, a path or a glob; repeatable; default $main)', (value: string, previous: string[]) => [...previous, value], [] as string[])
		.option('-e, --functions <list>', 'comma-separated globs over function names; !GLOB excludes; GLOB@OBJ keeps calls into callee object OBJ')
		.option('-T, --time', 'show each call\'s duration')
		.option('-t, --timestamp', 'show each call\'s start, seconds since the program started')
		.option('-s, --string-size <n>', 'bytes shown of decoded strings (0-4096)', '32')
		.option('--depth <n>', 'only calls nested at most N deep (0: outermost only)')
		.option('--args <n>', 'integer arguments shown per call of a function without a prototype (0-6)', '3')
		.option('--json', 'NDJSON, one object per call (fields in docs/trace.md), instead of text')
		.option('-f, --follow', 'trace the program\'s children too (after fork and exec), each line under its own pid')
		.option('-c, --summary', 'no per-call lines; at exit a table per process: calls, errors and time per function')
		.option('--prototypes <file>', 'C declarations that decode the user\'s own functions')
		.argument('[command...]', 'the program and its arguments')
		.passThroughOptions()
		.action(async (command, options) => {
			const [program, ...args] = requireProgram(command, `pdi trace ${usage}`);
			const env: NodeJS.ProcessEnv = {...process.env, ...backendEnvironment(options)};
			const objects = options.object.length > 0 ? [...new Set(options.object)] : ['$main'];

			if (options.json && options.summary) {
				throw new PdiError('--json and -c/--summary exclude each other');
			}

			const scratch = temporaryDirectory('pdi-trace-');
			let stopRings = () => undefined as void;
			try {
				if (options.json || options.summary) {
					stopRings = startRings(scratch.path, env, options.json ? 'json' : 'summary', options.output);
				}

				const reportFile = path.join(scratch.path, 'start.json');
				const checked = objects.length === 1 && objects[0] !== '$main' && objects[0] !== '*' ? objects[0] : undefined;
				if (checked !== undefined) {
					Object.assign(env, {PDI_INSPECT_OUT: reportFile, PDI_INSPECT_IMPORTS: checked, PDI_INSPECT_RUN: '1'});
				}

				process.exitCode = await runProgram(program, args, {
					env,
					config: {
						// A tracer wants deep programs whole: 64 KiB per thread holds about 600 nested calls.
						options: {cbStackSize: traceStackSize},
						backends: [{name: 'trace', library: 'trace'}],
						rules: objects.map(object => ({callback: {object, backend: 'trace'}})),
					},
				});
				stopRings();
				if (checked !== undefined && reportMatched(reportFile) === false) {
					process.stderr.write(`pdi: warning: no object loaded at start matches --object '${checked}', so nothing of it was traced (objects opened later would be)\n`);
				}
			} finally {
				stopRings();
				scratch.remove();
			}
		});
}
