import test from 'ava';
import ts from 'typescript';
import {inspectProgram, observe, runProgram, trace} from '../src/ts/index.js';
import {comux} from '../src/ts/comux/builder.js';
import {runComux, type RunComuxOptions} from '../src/ts/comux/replay.js';
import {compileConsumer, consumerProject} from './helpers/consumer.js';
import {echoServerPath} from './helpers/servers.js';

// A consumer compiled with exactOptionalPropertyTypes passes its own optional values on (`{cwd}` with a
// `cwd?: string` of its own): each option of runProgram(), trace(), observe(), inspectProgram(), attach(), runComux() and
// startComuxForkServer() takes
// `undefined` as "left out", as Node's spawn() options do and as pdi's functions treat it at run time.
const usage = `
import {attach, inspectProgram, observe, runProgram, trace, type AttachOptions, type RunOptions, type TraceOptions} from 'pdi';
import {runComux, startComuxForkServer} from 'pdi/comux';

export async function wrapper(cwd?: string, env?: NodeJS.ProcessEnv, functions?: string, size?: number, files?: string[]): Promise<void> {
	const run: RunOptions = {cwd, env, configs: files, verbosity: size, stdio: undefined, config: undefined};
	await runProgram('true', [], run);
	const traced = trace('true', [], {cwd, env, functions, stringSize: size, depth: size, rawArgs: size, follow: undefined, demangle: undefined, objects: undefined, prototypes: undefined, stdio: undefined});
	await traced.done;
	const options: TraceOptions = {functions, stringSize: size};
	observe(options, () => undefined).close();
	await inspectProgram('true', [], {cwd, env, configs: files, imports: functions, run: undefined, timeout: size});
	const attachOptions: AttachOptions = {configFiles: files, variables: undefined, thread: size};
	await (await attach(1, undefined, attachOptions)).detach();
	const comuxOptions = {cwd, env, timeout: size, idleMs: size, replyTimeoutMs: size, noWait: undefined, exitImmediate: undefined, log: functions, fork: undefined};
	await runComux(['true'], '', comuxOptions);
	await startComuxForkServer(['true'], {cwd, timeout: size}).close();
}
`;

test('an option given as undefined type-checks under exactOptionalPropertyTypes, from ES modules and CommonJS', t => {
	for (const [type, module] of [['module', ts.ModuleKind.NodeNext], ['commonjs', ts.ModuleKind.CommonJS]] as const) {
		const compiled = compileConsumer(consumerProject(type), usage, {module, exactOptionalPropertyTypes: true});
		// Before, each call was TS2379/TS2375: 'undefined' is not assignable to type 'string' (and so on).
		t.deepEqual(compiled.errors, [], type);
	}
});

test('an option given as undefined is left out at run time', async t => {
	const cwd: string | undefined = undefined;
	t.is((await runProgram('true', [], {cwd, env: undefined, verbosity: undefined, stdio: undefined})).status, 0);
	const traced = trace('true', [], {cwd, functions: undefined, stringSize: undefined, stdio: 'ignore'});
	t.is((await traced.done).status, 0);
	t.deepEqual(observe({functions: 'getpid', depth: undefined}, () => undefined).close().lost, 0);
	t.is(typeof (await inspectProgram('true', [], {cwd, timeout: undefined})).report, 'object');
	const comuxOptions: RunComuxOptions = {cwd, env: undefined, timeout: undefined, replyTimeoutMs: undefined, fork: undefined};
	const replayed = await runComux([echoServerPath, 'accept', '0'], comux().conn(0, 'hi\n', {awaitResponse: true}).bytes(), comuxOptions);
	t.is(replayed.status, 0, replayed.stderr);
	t.true(replayed.stdout.toString().endsWith('hi\n'));
});
