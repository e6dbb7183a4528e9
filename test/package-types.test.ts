import test from 'ava';
import ts from 'typescript';
import {compileConsumer, consumerProject} from './helpers/consumer.js';

// What a consumer writes: every function of the API, its option types and its errors, from both entry points.
const usage = `
import {
	attach, compileConfig, ConfigError, configJsonSchema, defineConfig, inspectProgram, interpose, loadConfig, mergeConfigs,
	normalizeConfig, objects, observe, PdiError, runProgram, spawn, trace, type ActRule, type CallEvent, type PdiConfig,
} from 'pdi';
import {comux, ComuxError, runComux} from 'pdi/comux';

const rule: ActRule = {act: {function: 'open', do: {return: -1, errno: 'ENOENT'}}};
const config: PdiConfig = defineConfig({rules: [rule]});
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
	console.log(objects(), compileConfig(config), configJsonSchema());
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
];

for (const [name, type, options] of settings) {
	test(`a strict project (${name}, skipLibCheck: false) type-checks with pdi's declarations, which reach none of zod's`, t => {
		const compiled = compileConsumer(consumerProject(type), usage, options);
		t.deepEqual(compiled.errors, []);
		t.deepEqual(compiled.files.filter(file => /\/node_modules\/zod\//.test(file)), []);
		t.true(compiled.files.some(file => file.endsWith('/dist/ts/config/types.d.ts')), 'the config types are read');
	});
}
