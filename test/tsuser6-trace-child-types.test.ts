import test from 'ava';
import ts from 'typescript';
import {trace} from '../src/ts/index.js';
import {compileConsumer, consumerProject} from './helpers/consumer.js';

// trace()'s child is typed by its `stdio` option as spawn()'s (and Node's spawn) type theirs: before, it was a plain
// ChildProcess, so reading a traced program's output with `stdio: 'pipe'` needed `child.stdout!`, and a child
// without streams (the default 'inherit') was not known to have none.
const usage = `
import {trace, type TraceLaunchOptions, type TraceOptions} from 'pdi';
import type {Readable, Writable} from 'node:stream';

const piped = trace('cat', ['/etc/hostname'], {functions: 'read', stdio: 'pipe'});
piped.child.stdout.on('data', (data: Buffer) => data.length);
const input: Writable = piped.child.stdin;
const inherited = trace('cat', ['/etc/hostname']);
const none: null = inherited.child.stdout;
const ignored: null = trace('true', [], {stdio: 'ignore', functions: 'write'}).child.stderr;
const tuple = trace('cat', [], {stdio: ['ignore', 'pipe', 'inherit']});
const output: Readable = tuple.child.stdout;
const noInput: null = tuple.child.stdin;
const options: TraceOptions & TraceLaunchOptions = {stdio: 'pipe'};
const unknown: Readable | null = trace('true', [], options).child.stdout;
export {input, none, ignored, output, noInput, unknown};
`;

test('trace(): the child\'s streams are typed by stdio, from ES modules and CommonJS', t => {
	for (const [type, module] of [['module', ts.ModuleKind.NodeNext], ['commonjs', ts.ModuleKind.CommonJS]] as const) {
		const compiled = compileConsumer(consumerProject(type), usage, {module, exactOptionalPropertyTypes: true});
		t.deepEqual(compiled.errors, [], type);
	}
});

test('trace(): the child has the streams its type says', async t => {
	const inherited = trace('true', [], {functions: 'write', stdio: 'ignore'});
	t.is(inherited.child.stdout, null);
	await inherited.done;
	const piped = trace('cat', [], {functions: 'read', stdio: 'pipe'});
	let output = '';
	piped.child.stdout.on('data', (data: Buffer) => {
		output += data.toString();
	});
	piped.child.stdin.end('hello');
	t.is((await piped.done).status, 0);
	t.is(output, 'hello');
	const tuple = trace('cat', [], {functions: 'read', stdio: ['ignore', 'pipe', 'inherit']});
	t.is(tuple.child.stdin, null);
	tuple.child.stdout.resume();
	t.is((await tuple.done).status, 0);
});

test('spawn(): stdio \'inherit\' and \'ignore\' type the child\'s streams null, and \'pipe\' as streams, as docs/typescript.md says (both were Readable | null)', t => {
	const spawned = `
import {spawn} from 'pdi';
import type {Readable} from 'node:stream';

const inherited: null = spawn({}, 'true', [], {stdio: 'inherit'}).stdout;
const ignored: null = spawn({}, 'true', [], {stdio: 'ignore'}).stderr;
const piped: Readable = spawn({}, 'true', [], {stdio: 'pipe'}).stdout;
const unknown: Readable | null = spawn({}, 'true', [], {stdio: 'inherit' as 'inherit' | 'pipe'}).stdout;
export {inherited, ignored, piped, unknown};
`;
	const compiled = compileConsumer(consumerProject('module'), spawned, {module: ts.ModuleKind.NodeNext, exactOptionalPropertyTypes: true});
	t.deepEqual(compiled.errors, []);
});
