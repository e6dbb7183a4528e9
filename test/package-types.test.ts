import {once} from 'node:events';
import test from 'ava';
import ts from 'typescript';
import {compileConsumer, consumerProject} from './helpers/consumer.js';

// What a consumer writes: every function of the API, its option types and its errors, from both entry points;
// exports() renamed, as a CommonJS module must (docs/typescript.md).
const usage = `
import {
	attach, compileConfig, ConfigError, configJsonSchema, defineConfig, exports as exportsOf, inspectProgram, interpose,
	loadConfig, mergeConfigs, normalizeConfig, objects, observe, PdiError, runProgram, spawn, trace, type ActRule, type CallEvent, type ErrnoName,
	type PdiConfig, type SignalName,
} from 'pdi';
import {comux, ComuxError, runComux} from 'pdi/comux';

const errno: ErrnoName = 'ENOENT';
const raised: SignalName = 'SIGUSR1';
const rule: ActRule = {act: {function: 'open', do: {return: -1, errno}}};
const config: PdiConfig = defineConfig({rules: [rule, {act: {function: 'read', do: {signal: raised}}}]});
export async function use(): Promise<void> {
	const child = spawn(config, 'ls', ['/']);
	child.act.then(counts => counts.map(count => count.fired), () => []);
	interpose(config).close();
	const traced = trace('ls', [], {functions: 'open*'});
	for await (const call of traced.calls) {
		const event: CallEvent = call;
		console.log(event.function);
	}

	observe({functions: 'getpid'}, () => undefined).close();
	await runProgram('ls', [], {config: normalizeConfig(config)});
	await inspectProgram('ls');
	await attach(1, mergeConfigs([await loadConfig('a.yaml')]));
	console.log(objects(), exportsOf('libc.so.6'), compileConfig(config), configJsonSchema());
	await runComux(['./server'], comux().conn(0, 'x').bytes());
}

export function why(error: unknown): string {
	return error instanceof ConfigError || error instanceof ComuxError || error instanceof PdiError ? error.message : '';
}
`;

const settings: Array<[string, 'module' | 'commonjs', ts.CompilerOptions]> = [
	['module: commonjs, no esModuleInterop', 'commonjs', {module: ts.ModuleKind.CommonJS, esModuleInterop: false}],
	['module: commonjs, esModuleInterop', 'commonjs', {module: ts.ModuleKind.CommonJS, esModuleInterop: true}],
	['module: nodenext, an ES module package', 'module', {module: ts.ModuleKind.NodeNext}],
	['module: nodenext, verbatimModuleSyntax, exactOptionalPropertyTypes', 'module', {module: ts.ModuleKind.NodeNext, verbatimModuleSyntax: true, exactOptionalPropertyTypes: true}],
	['module: esnext, moduleResolution: bundler', 'module', {module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler}],
	// No target: TypeScript 5 then takes ES5, where a class's #private fields in a declaration file are an error.
	['module: commonjs, no target', 'commonjs', {module: ts.ModuleKind.CommonJS, target: undefined}],
];

for (const [name, type, options] of settings) {
	test(`a strict project (${name}, skipLibCheck: false) type-checks with pdi's declarations, which reach none of zod's`, t => {
		const compiled = compileConsumer(consumerProject(type), usage, options);
		t.deepEqual(compiled.errors, []);
		t.deepEqual(compiled.files.filter(file => /\/node_modules\/zod\//.test(file)), []);
		t.true(compiled.files.some(file => file.endsWith('/dist/ts/config/types.d.ts')), 'the config types are read');
	});
}

test('rules and options written as const, their lists readonly, have the input types: ActRule, PdiConfig\'s rules, and the options of trace(), runProgram(), inspectProgram() and attach(), and a comux document for serializeComux() and validateComux()', t => {
	const compiled = compileConsumer(consumerProject('module'), `
import {attach, defineConfig, inspectProgram, runProgram, trace, type ActRule, type PdiConfig, type TraceOptions} from 'pdi';
import {serializeComux, validateComux} from 'pdi/comux';
const written = {act: {function: 'malloc', when: {call: [2, 3]}, do: {return: 0, errno: 'ENOMEM'}}} as const;
const rule: ActRule = written;
const calls = [1, 4] as const;
const body: ActRule['act'] = {function: 'read', when: {call: calls}, do: {delay: '5ms'}};
const rules: readonly ActRule[] = [written, rule];
const config: PdiConfig = {rules: [written, {act: body}]};
config.rules?.push(written);
defineConfig({rules});
const traced: TraceOptions = {objects: ['$main'], functions: ['open*', 'read']} as const;
trace('ls', ['-l'] as const, traced);
await runProgram('ls', [] as const, {configs: ['a.yaml'] as const, config});
await inspectProgram('ls', [], {configs: ['a.yaml'] as const});
await attach(1, config, {configFiles: ['a.yaml'] as const});
const document = {version: 0, numConns: 1, chunks: [{conn: 0, sched: 0, flags: 0, data: new Uint8Array(1)}]} as const;
validateComux(document);
serializeComux(document);
`, {module: ts.ModuleKind.NodeNext, skipLibCheck: true});
	t.deepEqual(compiled.errors, []);
});

test('spawn()\'s child has the streams its stdio option makes, typed as Node\'s spawn types them: not null for the default pipes, null for \'inherit\' and \'ignore\'', async t => {
	const compiled = compileConsumer(consumerProject('module'), `
import {spawn} from 'pdi';
const config = {rules: []};
spawn(config, 'ls').stdout.on('data', () => undefined);
spawn(config, 'ls', [], {stdio: 'pipe', cwd: '/'}).stderr.on('data', () => undefined);
spawn(config, 'cat', [], {env: {}}).stdin.end('x');
const mixed = spawn(config, 'ls', ['/'], {stdio: ['ignore', 'pipe', 'inherit']});
mixed.stdout.on('data', () => undefined);
// @ts-expect-error: stdin is ignored, so null
mixed.stdin.end();
// @ts-expect-error: with stdio inherited, there is no stream
spawn(config, 'ls', [], {stdio: 'inherit'}).stdout.on('data', () => undefined);
export const counts = spawn(config, 'ls', [], {stdio: ['pipe', 'pipe', 'pipe', 'ipc']}).act;
`, {module: ts.ModuleKind.NodeNext, skipLibCheck: true});
	t.deepEqual(compiled.errors, []);

	// What the types say of the streams is what the child has.
	const {spawn} = await import('../dist/ts/index.js');
	const child = spawn({rules: []}, 'echo', ['piped']);
	const chunks: Buffer[] = [];
	child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
	await once(child, 'close');
	t.is(Buffer.concat(chunks).toString(), 'piped\n');
	const mixed = spawn({rules: []}, 'true', [], {stdio: ['ignore', 'pipe', 'ignore']});
	t.is(mixed.stdin, null);
	t.is(mixed.stderr, null);
	t.not(mixed.stdout, null);
	await mixed.act;
});
