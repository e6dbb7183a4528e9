import {execFile} from 'node:child_process';
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import test from 'ava';
import {builtConfig, defaultOptions} from '../src/ts/config/built.js';
import {normalizeConfig} from '../src/ts/config/load.js';
import {comuxConfig, comuxFunctions} from '../src/ts/comux/replay.js';
import {comux} from '../src/ts/comux/index.js';
import {traceConfig, traceMaxStubs, traceMaxThreads} from '../src/ts/trace/options.js';
import {cliPath, root} from './helpers/cli.js';
import {echoServerPath} from './helpers/servers.js';

const recorder = path.join(root, 'test/fixtures/startup/record-modules.mjs');

/** The bundled packages a loaded file of the CLI holds (esbuild marks each module with a `// node_modules/NAME/...` line). */
function packagesIn(url: string): string[] {
	if (!url.startsWith('file:')) {
		return [];
	}

	const text = readFileSync(fileURLToPath(url), 'utf8');
	return [...new Set([...text.matchAll(/^\/\/ node_modules\/((?:@[^/\n]+\/)?[^/\n]+)\//gm)].map(match => match[1]!))];
}

/** Runs the pdi bin with every module it loads recorded; resolves to its exit code and the packages those modules hold. */
async function loadedPackages(args: readonly string[], cwd: string): Promise<{code: number; stderr: string; packages: string[]}> {
	const record = path.join(cwd, `modules-${Math.random().toString(36).slice(2)}.txt`);
	writeFileSync(record, '');
	const {code, stderr} = await new Promise<{code: number; stderr: string}>(resolve => {
		execFile(process.execPath, ['--import', recorder, cliPath, ...args], {cwd, env: {...process.env, PDI_TEST_MODULES_FILE: record}, timeout: 60_000}, (error, _stdout, stderr) => {
			resolve({code: error ? (typeof error.code === 'number' ? error.code : 128) : 0, stderr});
		});
	});
	const urls = readFileSync(record, 'utf8').split('\n').filter(url => url.includes('/dist/cli/'));
	return {code, stderr, packages: [...new Set(urls.flatMap(url => packagesIn(url)))].sort()};
}

test('pdi comux run and pdi trace start without the schema, the YAML reader or the progress bar', async t => {
	const directory = mkdtempSync(path.join(tmpdir(), 'pdi-startup-'));
	t.teardown(() => {
		rmSync(directory, {recursive: true, force: true});
	});
	const input = path.join(directory, 'in.comux');
	writeFileSync(input, comux().conn(0, 'hello\n').bytes());

	const run = await loadedPackages(['comux', 'run', input, '--', echoServerPath, 'epoll', '0'], directory);
	t.is(run.code, 0, run.stderr);
	t.deepEqual(run.packages, ['@commander-js/extra-typings', 'commander']);

	const traced = await loadedPackages(['trace', '-c', '-o', path.join(directory, 'trace.txt'), '--', '/bin/true'], directory);
	t.is(traced.code, 0, traced.stderr);
	t.deepEqual(traced.packages, ['@commander-js/extra-typings', 'commander']);
});

test('a YAML config loads the schema and the YAML reader when it is read, and a text config the schema alone', async t => {
	const directory = mkdtempSync(path.join(tmpdir(), 'pdi-startup-'));
	t.teardown(() => {
		rmSync(directory, {recursive: true, force: true});
	});
	writeFileSync(path.join(directory, 'c.yaml'), 'options: {maxThreads: 64}\n');
	writeFileSync(path.join(directory, 'c.cfg'), 'max_threads = 64\n');

	const yaml = await loadedPackages(['config', 'check', 'c.yaml'], directory);
	t.is(yaml.code, 0, yaml.stderr);
	t.deepEqual(yaml.packages, ['@commander-js/extra-typings', 'commander', 'yaml', 'zod']);

	const text = await loadedPackages(['config', 'check', 'c.cfg'], directory);
	t.is(text.code, 0, text.stderr);
	t.deepEqual(text.packages, ['@commander-js/extra-typings', 'commander', 'zod']);
});

test('the configs pdi builds without the schema are what the schema makes of them', t => {
	t.deepEqual(defaultOptions(), normalizeConfig({}).options);
	t.deepEqual(comuxConfig(), normalizeConfig({
		backends: [{name: 'comux', library: 'comux-accept'}],
		rules: comuxFunctions.map(name => ({redefine: {function: name, backend: 'comux', wrapper: `comux_${name}`}})),
	}));
	const objects = ['$main', 'libc.so.6', '/usr/lib/*', '*'];
	t.deepEqual(traceConfig(objects), normalizeConfig({
		options: {cbStackSize: 65_536, cbMaxStubs: traceMaxStubs, maxThreads: traceMaxThreads},
		backends: [{name: 'trace', library: 'trace'}],
		rules: objects.map(object => ({callback: {object, backend: 'trace'}})),
	}));
});

test('an object pattern on two lines is refused by the built config as by the schema', t => {
	const built = t.throws(() => traceConfig(['a\nb']));
	const schema = t.throws(() => normalizeConfig({backends: [{name: 'trace', library: 'trace'}], rules: [{callback: {object: 'a\nb', backend: 'trace'}}]}));
	t.is(built?.message, schema?.message);
	t.throws(() => builtConfig({backends: [], rules: [{kind: 'callback', object: '', backend: 'b', handler: undefined}]}), {message: /expected an object pattern/});
});
