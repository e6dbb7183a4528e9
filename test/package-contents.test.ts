import {execFileSync} from 'node:child_process';
import {createRequire} from 'node:module';
import {readFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {root} from './helpers/cli.js';

/** The files `npm pack` puts in the package, as paths inside it (no scripts run: the checkout is built). */
function packedFiles(): Set<string> {
	const output = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore']});
	const [pack] = JSON.parse(output) as Array<{files: Array<{path: string}>}>;
	return new Set((pack?.files ?? []).map(file => file.path));
}

const files = packedFiles();

test('every source map in the package names sources the package holds, so stack traces and go-to-definition reach pdi\'s TypeScript', t => {
	// src/native's .map files are linker version scripts.
	const maps = [...files].filter(file => /\.(?:js|d\.ts)\.map$/.test(file));
	t.true(maps.some(file => file.endsWith('.js.map')) && maps.some(file => file.endsWith('.d.ts.map')));
	const missing = maps.flatMap(map => {
		const {sources} = JSON.parse(readFileSync(path.join(root, map), 'utf8')) as {sources: string[]};
		return sources.map(source => path.posix.join(path.posix.dirname(map), source)).filter(source => !files.has(source)).map(source => `${map}: ${source}`);
	});
	t.deepEqual(missing, []);
	// The CLI is the bundle dist/cli/pdi.js: tsc's output of src/ts/cli is not shipped, nor its sources.
	t.deepEqual([...files].filter(file => file.startsWith('dist/ts/cli/') || file.startsWith('src/ts/cli/')), []);
	t.true(files.has('dist/cli/pdi.js'));
});

test('the package holds what scripts/build-arch.mjs builds the aarch64 and i386 cores from: the script, binding.gyp and every source it lists', t => {
	t.true(files.has('scripts/build-arch.mjs'));
	t.true(files.has('binding.gyp'));
	const gyp = JSON.parse(readFileSync(path.join(root, 'binding.gyp'), 'utf8')) as {variables: Record<string, string[]>; targets: Array<{sources?: string[]}>};
	const sources = [...Object.values(gyp.variables).flat(), ...gyp.targets.flatMap(target => target.sources ?? [])].filter(source => /\.(?:c|S|h|cc)$/.test(source));
	t.true(sources.length > 10);
	t.deepEqual(sources.filter(source => !files.has(source)), []);
	const headers = [...files].filter(file => file.startsWith('include/'));
	t.not(headers.length, 0);
});

test('the package carries its LICENSE, and every relative link of its README and docs names a file it holds', t => {
	t.true(files.has('LICENSE'));
	const broken = [...files].filter(file => file.endsWith('.md')).flatMap(document => {
		const text = readFileSync(path.join(root, document), 'utf8');
		return [...text.matchAll(/\]\(([^)\s#]+)(?:#[^)]*)?\)/g)]
			.map(match => match[1]!)
			.filter(target => !/^[a-z]+:/.test(target))
			.map(target => path.posix.join(path.posix.dirname(document), target).replace(/\/$/, ''))
			.filter(target => !files.has(target) && ![...files].some(file => file.startsWith(`${target}/`)))
			.map(target => `${document}: ${target}`);
	});
	// Was: docs/trace.md linked to bench/trace/README.md, which the package left out.
	t.deepEqual(broken, []);
});

test('the runtime dependencies are what the shipped code imports, with node-addon-api for a build from source: the CLI\'s own are in its bundle', t => {
	const {builtinModules} = createRequire(import.meta.url)('node:module') as {builtinModules: string[]};
	const packageName = /^(?:@[a-z\d~-][\w.~-]*\/)?[a-z\d~-][\w.~-]*/;
	const imported = new Set<string>();
	for (const file of [...files].filter(file => file.endsWith('.js') && file.startsWith('dist/'))) {
		const text = readFileSync(path.join(root, file), 'utf8');
		for (const match of text.matchAll(/(?:\bfrom\s*|\brequire\d*\(\s*|\bimport\(\s*)["']([^"'.][^"']*)["']/g)) {
			const name = packageName.exec(match[1]!)?.[0];
			if (name !== undefined && name === match[1]!.split('/').slice(0, name.startsWith('@') ? 2 : 1).join('/') && !match[1]!.startsWith('node:') && !builtinModules.includes(name) && name !== 'pdi') {
				imported.add(name);
			}
		}
	}

	const {dependencies} = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {dependencies: Record<string, string>};
	// Was: commander, its typings and cli-progress (and its 5 packages) too, which the CLI bundle already holds.
	t.deepEqual(Object.keys(dependencies).sort(), [...imported, 'node-addon-api'].sort());
});
