import {execFile} from 'node:child_process';
import {cpSync, mkdirSync, symlinkSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {promisify} from 'node:util';
import test from 'ava';
import {root} from './helpers/cli.js';
import {scratchDirectory} from './helpers/files.js';

const run = promisify(execFile);

// An installed package whose install script never ran (npm install --ignore-scripts): its dist/ but no build/ and no
// prebuilds/, under a path with a space.
function installedCopy(prefix: string): string {
	const copy = path.join(scratchDirectory(prefix), 'node_modules dir', 'pdi');
	cpSync(path.join(root, 'dist'), path.join(copy, 'dist'), {recursive: true});
	cpSync(path.join(root, 'package.json'), path.join(copy, 'package.json'));
	symlinkSync(path.join(root, 'node_modules'), path.join(copy, 'node_modules'));
	return copy;
}

const installed = installedCopy('pdi-no-native-');

const expected = new RegExp(`^no native build of pdi was found in ${installed.replaceAll(/[.*+?^${}()|[\]\\]/g, String.raw`\$&`)} \\(for platform=linux arch=\\w+ runtime=node abi=\\d+ [^\\n]*\\)\\. npm may have skipped the install script: run \`npm install-scripts approve pdi\` and \`npm rebuild pdi\`, or build from a checkout with \`npm install\`\\.$`);

test('pdi without its native build says so on one line, with what it looked for and how to build it', async t => {
	const error = await t.throwsAsync(run(process.execPath, [path.join(installed, 'dist/cli/pdi.js'), 'inspect', '--', '/bin/true']), {instanceOf: Error}) as Error & {code: number; stderr: string};
	t.is(error.code, 1);
	t.is(error.stderr.split('\n').length, 2, error.stderr);
	t.regex(error.stderr.replace(/^pdi: /, '').trimEnd(), expected);
});

test('the API without the native build throws a PdiError with the same one-line message', async t => {
	const script = `import('${path.join(installed, 'dist/ts/index.js')}').then(pdi => { try { pdi.objects(); } catch (error) { console.log(error.name + '\\n' + error.message); } })`;
	const {stdout} = await run(process.execPath, ['-e', script]);
	const [name, ...message] = stdout.trimEnd().split('\n');
	t.is(name, 'PdiError');
	t.regex(message.join('\n'), expected);
});

test('a native build that cannot be loaded (one made for a newer C library) is one line naming it, the reason and how to build one here', async t => {
	const broken = installedCopy('pdi-broken-native-');
	// Where node-gyp-build looks first, and where it looks alone with PREBUILDS_ONLY (npm run test:prebuilds).
	const prebuilds = path.join(broken, 'prebuilds', `linux-${process.arch}`);
	const directory = process.env['PREBUILDS_ONLY'] ? prebuilds : path.join(broken, 'build', 'Release');
	for (const place of [path.join(broken, 'build', 'Release'), prebuilds]) {
		mkdirSync(place, {recursive: true});
		writeFileSync(path.join(place, 'pdi.node'), 'not an ELF file\n');
	}

	// Was: Node's own error and stack trace.
	const error = await t.throwsAsync(run(process.execPath, [path.join(broken, 'dist/cli/pdi.js'), 'inspect', '--', '/bin/true']), {instanceOf: Error}) as Error & {code: number; stderr: string};
	t.is(error.code, 1);
	t.is(error.stderr.split('\n').length, 2, error.stderr);
	t.true(error.stderr.startsWith(`pdi: the native build of pdi in ${directory} could not be loaded: `), error.stderr);
	t.regex(error.stderr, /pdi\.node: file too short\. pdi's prebuilds need glibc 2\.34 or later; to build it on this system instead: `npm_config_build_from_source=true npm rebuild pdi`/);
});
