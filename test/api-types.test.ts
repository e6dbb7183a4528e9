import {existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import test from 'ava';
import ts from 'typescript';
import {scratchDirectory} from './helpers/files.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * A consumer's project that imports the built package as `pdi` (dist/ts and its declarations), with the strict
 * compiler options a tooling author sets, ready to type-check snippets.
 */
function consumerProject(): string {
	const project = scratchDirectory('pdi-api-types-');
	mkdirSync(path.join(project, 'node_modules'));
	symlinkSync(root, path.join(project, 'node_modules', 'pdi'));
	writeFileSync(path.join(project, 'package.json'), JSON.stringify({type: 'module'}));
	return project;
}

const project = consumerProject();

/** The compiler's complaints about each of `sources`, modules of the consumer's project, type-checked together (empty: it type-checks). */
function typeErrors(...sources: string[]): string[][] {
	return typeErrorsWith({module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext}, ...sources);
}

/** {@link typeErrors} with other module settings (a CommonJS project's). */
function typeErrorsWith(moduleOptions: ts.CompilerOptions, ...sources: string[]): string[][] {
	const files = sources.map((source, index) => {
		const file = path.join(project, `snippet-${Math.random().toString(36).slice(2)}-${index}.ts`);
		writeFileSync(file, source);
		return file;
	});
	const program = ts.createProgram(files, {
		strict: true,
		exactOptionalPropertyTypes: true,
		noUncheckedIndexedAccess: true,
		types: ['node'],
		typeRoots: [path.join(root, 'node_modules', '@types')],
		skipLibCheck: true,
		...moduleOptions,
		target: ts.ScriptTarget.ES2022,
		noEmit: true,
	});
	return files.map(file => ts.getPreEmitDiagnostics(program, program.getSourceFile(file)).map(diagnostic => ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')));
}

test('an ActRule is an entry of rules, {act: {...}}, as docs/typescript.md writes it: a rule kept in a variable of that type goes into defineConfig()', t => {
	const [valid, invalid] = typeErrors(`
import {defineConfig, spawn, type ActRule} from 'pdi';
const rule: ActRule = {act: {object: '$main', function: 'open', when: {arg: 0, matches: '/etc/*'}, do: {return: -1, errno: 'ENOENT'}}};
const body: ActRule['act'] = {function: 'malloc', when: {call: [2, 3]}, do: {return: 0, errno: 'ENOMEM'}};
const config = defineConfig({rules: [rule, {act: body}]});
spawn(config, 'ls');
`, `
import type {ActRule} from 'pdi';
export const rule: ActRule = {act: {function: 'open', do: {return: -1, errno: 'ENOPE'}}};
`);
	t.deepEqual(valid, []);
	t.not(invalid?.length, 0, 'an errno that is not one is still a type error');
});

test('an act rule\'s do needs an action, as the readers do: do: {} and an errno without return are type errors; each action alone type-checks', t => {
	const [valid, empty, errnoAlone] = typeErrors(`
import type {ActRule} from 'pdi';
export const rules: ActRule[] = [
	{act: {function: 'open', do: {return: -1, errno: 'ENOENT'}}}, {act: {function: 'read', do: {delay: '5ms'}}},
	{act: {function: 'write', do: {signal: 'SIGSEGV'}}}, {act: {function: 'close', do: {count: true}}},
	{act: {function: 'sqrt', do: {return: {double: 'nan'}}}}, {act: {function: 'fork', when: {call: [1]}, do: {return: -1, errno: 'EAGAIN', delay: 10}} as const},
];
`, `
import type {ActRule} from 'pdi';
export const rule: ActRule = {act: {function: 'open', do: {}}};
`, `
import type {ActRule} from 'pdi';
export const rule: ActRule = {act: {function: 'open', do: {errno: 'ENOENT'}}};
`);
	t.deepEqual(valid, []);
	t.not(empty?.length, 0, 'do: {}');
	t.not(errnoAlone?.length, 0, 'do: {errno} without return');
	// Was: "Property 'count' is missing", which sent the user the wrong way.
	t.regex(errnoAlone?.join('\n') ?? '', /Property 'return' is missing/);
});

test('an act rule\'s keys that go together are typed so, as the readers refuse them apart: seed needs probability, matches or equals needs arg, arg one of them, count no other action', t => {
	const rule = (body: string) => `import type {ActRule} from 'pdi';\nexport const rule: ActRule = {act: {function: 'open', ${body}}};\n`;
	const [valid, seed, matches, equals, arg, both, countReturn, countDelay, countSignal] = typeErrors(`
import type {ActRule} from 'pdi';
export const rules: ActRule[] = [
	{act: {function: 'open', when: {probability: 0.5, seed: 4, arg: 0, matches: '/etc/*', call: [1, 2]}, do: {count: true}}},
	{act: {function: 'read', when: {arg: 2, equals: '0x10', from: 3}, do: {delay: 0, count: true}}},
	{act: {function: 'write', when: {probability: 0.1}, do: {delay: '5ms', signal: 'SEGV'}}},
	{act: {function: 'close', when: {arg: 0, equals: 3} as const, do: {return: 0, errno: 'EIO', delay: 1, signal: 'SIGUSR1'}}},
];
`, rule('when: {seed: 4}, do: {count: true}'), rule('when: {matches: \'/etc/*\'}, do: {count: true}'), rule('when: {equals: 3}, do: {count: true}'),
	rule('when: {arg: 1}, do: {count: true}'), rule('when: {arg: 1, matches: \'x\', equals: 3}, do: {count: true}'),
	rule('do: {return: -1, count: true}'), rule('do: {delay: 5, count: true}'), rule('do: {signal: \'SEGV\', count: true}'));
	t.deepEqual(valid, []);
	const text = (errors: string[] | undefined) => errors?.join('\n') ?? '';
	t.regex(text(seed), /Property 'probability' is missing in type '\{ seed: number; \}'/);
	t.regex(text(matches), /Property 'arg' is missing in type '\{ matches: string; \}' but required in type 'ActArgumentMatches'/);
	t.regex(text(equals), /Property 'arg' is missing in type '\{ equals: number; \}' but required in type 'ActArgumentEquals'/);
	t.regex(text(arg), /Property 'matches' is missing in type '\{ arg: number; \}'/);
	t.not(both?.length, 0, 'matches and equals');
	for (const errors of [countReturn, countDelay, countSignal]) {
		t.not(errors?.length, 0, 'count beside another action');
	}
});

test('an act rule\'s delay is a number of milliseconds or an amount and its unit: a text that the reader refuses is a type error', t => {
	const [valid, unit, word] = typeErrors(`
import type {ActRule} from 'pdi';
export const rules: ActRule[] = [{act: {function: 'read', do: {delay: '1.5s'}}}, {act: {function: 'read', do: {delay: '100us'}}}, {act: {function: 'read', do: {delay: 25}}}];
`, ...['5 parsecs', 'soon'].map(delay => `import type {ActRule} from 'pdi';\nexport const rule: ActRule = {act: {function: 'read', do: {delay: '${delay}'}}};\n`));
	t.deepEqual(valid, []);
	// Was: each compiled, and only loading the config refused it. (`5 ms` still does: TypeScript reads `5 ` as a number.)
	for (const errors of [unit, word]) {
		t.regex(errors?.join('\n') ?? '', /is not assignable to type/);
	}
});

test('the type error of do: {errno} without return names the types by name, not intersections of the return value\'s type', t => {
	const [errors] = typeErrors(`
import type {ActRule} from 'pdi';
export const rule: ActRule = {act: {function: 'open', do: {errno: 'ENOENT'}}};
`);
	// Was: "... required in type '{ return: NonNullable<string | number | { double: ... } | undefined>; }'".
	t.is(errors?.join('\n'), 'Type \'{ errno: "ENOENT"; }\' is not assignable to type \'ActDoInput\'.\n  Property \'return\' is missing in type \'{ errno: "ENOENT"; }\' but required in type \'ActDoReturn\'.');
});

test('a CallEvent is a union on abandoned: an abandoned call\'s ret and errno are null to the compiler, as they are at run time', t => {
	const [valid, wrong] = typeErrors(`
import {trace, type ArgumentValue, type CallEvent} from 'pdi';
export function show(event: CallEvent): string {
	if (event.abandoned) {
		const ret: null = event.ret;
		const errno: null = event.errno;
		return String(ret ?? errno);
	}

	const ret: ArgumentValue | null = event.ret;
	const errno: string | null = event.errno;
	return \`\${String(ret)} \${errno ?? ''}\`;
}

for await (const event of trace('ls', [], {}).calls) {
	if (!event.abandoned && event.errno !== null) {
		console.log(event.function, event.errno);
	}
}
`, `
import type {CallEvent} from 'pdi';
export const event: CallEvent = {pid: 1, tid: 1, thread: 0, depth: 0, caller: 'a', callee: null, function: 'f', version: null, args: [], ret: 3, errno: null, startNs: 0, durationNs: 0, abandoned: true};
`);
	t.deepEqual(valid, []);
	t.not(wrong?.length, 0, 'an abandoned call with a ret');
});

test('a type error in a config given to defineConfig() shows the config\'s own types, not String\'s methods', t => {
	const [errors] = typeErrors(`
import {defineConfig} from 'pdi';
export const config = defineConfig({rules: [{act: {function: 'open', do: {errno: 'ENOENT'}}}]});
`);
	t.not(errors?.length, 0);
	// Was: "{ readonly [x: number]: string; readonly toString: {}; readonly charAt: {}; ... 47 more ...; readonly double: ... }".
	t.notRegex(errors?.join('\n') ?? '', /charAt|toString/);
});

test('an act rule\'s signal is a Linux signal name, with or without SIG: Node\'s names of other systems\' signals (SIGBREAK, LOST) are type errors, as the readers refuse them', t => {
	const [valid, ...invalid] = typeErrors(`
import type {ActRule} from 'pdi';
export const rules: ActRule[] = [{act: {function: 'open', do: {signal: 'SIGSEGV'}}}, {act: {function: 'read', do: {signal: 'IOT'}}}, {act: {function: 'write', do: {signal: 'SIGPOLL'}}}];
`, ...['SIGBREAK', 'LOST', 'SIGINFO', 'UNUSED'].map(signal => `
import type {ActRule} from 'pdi';
export const rule: ActRule = {act: {function: 'open', do: {signal: '${signal}'}}};
`));
	t.deepEqual(valid, []);
	t.true(invalid.every(errors => errors.length > 0), JSON.stringify(invalid));
});

test('a rule or a whole config written as const, its lists readonly, is taken by defineConfig(), spawn(), interpose(), runProgram(), compileConfig() and attach(), as docs/typescript.md says', t => {
	const [asConst, mutable] = typeErrors(`
import {attach, compileConfig, defineConfig, interpose, normalizeConfig, runProgram, spawn} from 'pdi';
const rule = {act: {function: 'malloc', when: {call: [2, 3]}, do: {return: 0, errno: 'ENOMEM'}}} as const;
defineConfig({rules: [rule]});
const config = {options: {log: {level: 'info'}}, rules: [rule, {act: {function: 'open', do: {count: true}}}]} as const;
spawn(config, 'ls');
interpose(config).close();
compileConfig(config);
normalizeConfig(config);
await runProgram('ls', [], {config});
await attach(1, config);
`, `
import {defineConfig, type PdiConfig} from 'pdi';
// A PdiConfig itself stays a plain object a program may build up.
const config: PdiConfig = {rules: []};
config.rules?.push({act: {function: 'open', do: {count: true}}});
defineConfig(config).rules?.push({act: {function: 'read', do: {count: true}}});
`);
	t.deepEqual(asConst, []);
	t.deepEqual(mutable, []);
});

test('a CommonJS project whose tsconfig says module: commonjs (moduleResolution node10, which reads no exports map) finds the types of pdi and of pdi/comux', t => {
	const source = `
import {trace} from 'pdi';
import {comux, runComux} from 'pdi/comux';
export const run = async () => runComux(['./server'], comux().conn(0, 'x').bytes(), {timeout: 1000});
export const traced = trace('ls', [], {functions: 'open*'});
`;
	const [commonJs] = typeErrorsWith({module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10, esModuleInterop: true}, source);
	t.deepEqual(commonJs, []);
	const [nodeNext] = typeErrors(source);
	t.deepEqual(nodeNext, []);
});

test('package.json\'s exports map names only conditions Node and TypeScript resolve, and every file it names is built', t => {
	const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {exports: Record<string, string | Record<string, string>>};
	const known = new Set(['types', 'import', 'require', 'node', 'default']);
	for (const [entry, target] of Object.entries(manifest.exports)) {
		const conditions: Array<[string, unknown]> = typeof target === 'string' ? [['default', target]] : Object.entries(target);
		for (const [condition, file] of conditions) {
			t.true(known.has(condition), `${entry}: unknown condition ${condition}`);
			t.true(typeof file === 'string' && existsSync(path.join(root, file)), `${entry}: ${condition}: ${String(file)}`);
		}
	}
});

test('the typed errors of DESIGN §3b, ConfigError and ComuxError, are both exported by \'pdi\' (ComuxError as the same class as pdi/comux\'s)', async t => {
	const [errors] = typeErrors(`
import {ComuxError, ConfigError, PdiError} from 'pdi';
import {parseComux} from 'pdi/comux';
export function where(error: unknown): string {
	if (error instanceof ConfigError) {
		return \`\${error.file}:\${error.line}:\${error.column}\`;
	}

	return error instanceof ComuxError ? \`byte \${error.offset}\` : error instanceof PdiError ? error.message : '';
}

where(() => parseComux(new Uint8Array(3)));
`);
	t.deepEqual(errors, []);
	const main = await import(path.join(root, 'dist/ts/index.js')) as Record<string, unknown>;
	const comux = await import(path.join(root, 'dist/ts/comux/index.js')) as {ComuxError: unknown; parseComux: (bytes: Uint8Array) => unknown};
	t.is(main['ComuxError'], comux.ComuxError);
	const error = t.throws(() => comux.parseComux(new TextEncoder().encode('comux!!!')));
	t.true(error instanceof (main['ComuxError'] as new () => Error));
});

test('a project that lists no ambient types (types: [], TypeScript 6\'s default) still gets Node\'s types for pdi\'s declarations, which use ChildProcess, Buffer and NodeJS.ProcessEnv', t => {
	// Each @ts-expect-error holds only while the type is Node's: a type nobody provides is an any (the declaration's
	// own error is not reported with skipLibCheck), and the directive is then unused, itself an error.
	const [types] = typeErrorsWith({module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, types: [], typeRoots: undefined}, `
import {runProgram, trace} from 'pdi';
// @ts-expect-error: a ChildProcess's pid is a number
export const pid: string = trace('ls', [], {functions: 'open*'}).child.pid;
// @ts-expect-error: env is a NodeJS.ProcessEnv, of strings
export const status = runProgram('ls', [], {env: {PATH: 5}});
`);
	t.deepEqual(types, []);
	const [comuxAlone] = typeErrorsWith({module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, types: [], typeRoots: undefined}, `
import {runComux} from 'pdi/comux';
const result = await runComux(['./server'], '/tmp/x.comux');
// @ts-expect-error: stdout is a Buffer
export const replies: string = result.stdout;
`);
	t.deepEqual(comuxAlone, []);
});

/** The fenced TypeScript blocks of a document, each with the line it starts at. */
function typeScriptBlocks(document: string): Array<{line: number; source: string}> {
	const markdown = readFileSync(path.join(root, document), 'utf8');
	return [...markdown.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map(match => ({line: markdown.slice(0, match.index).split('\n').length, source: match[1] ?? ''}));
}

test('the TypeScript examples of README.md and docs/ type-check as a consumer\'s modules, as written', t => {
	// docs/act.md's example is an ava test of a native addon of its own: it imports ava and that addon.
	const documents = ['README.md', 'docs/typescript.md', 'docs/trace.md', 'docs/inspect.md', 'docs/comux.md'];
	const blocks = documents.flatMap(document => typeScriptBlocks(document).map(block => ({...block, document})));
	t.true(blocks.length >= documents.length);
	const errors = typeErrors(...blocks.map(block => block.source));
	t.deepEqual(blocks.map((block, index) => ({at: `${block.document}:${block.line}`, errors: errors[index]})), blocks.map(block => ({at: `${block.document}:${block.line}`, errors: []})));
});

test('every function docs/typescript.md names, `name(...)`, is exported by pdi or pdi/comux', async t => {
	const markdown = readFileSync(path.join(root, 'docs/typescript.md'), 'utf8');
	// Methods of what the functions return, the callback a caller passes, and CommonJS's require.
	const notExports = new Set(['close', 'detach', 'replay', 'onCall', 'onReport', 'require']);
	const named = new Set([...markdown.matchAll(/`([A-Za-z_]\w*)\(/g)].map(match => match[1] ?? '').filter(name => !notExports.has(name)));
	const main = await import(path.join(root, 'dist/ts/index.js')) as Record<string, unknown>;
	const comux = await import(path.join(root, 'dist/ts/comux/index.js')) as Record<string, unknown>;
	t.true(named.size > 15);
	t.deepEqual([...named].filter(name => typeof main[name] !== 'function' && typeof comux[name] !== 'function'), []);
});
