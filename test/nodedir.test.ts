import {execFile} from 'node:child_process';
import {copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {root} from './helpers/cli.js';
import {scratchDirectory} from './helpers/files.js';

// docs/development.md: the Node headers directory comes from the checkout's .npmrc
// (nodedir=/usr) and is overridden with `npm install --nodedir=DIR` or
// `npm_config_nodedir=DIR npm install`. Each case runs `node-gyp configure` as an npm
// script of a scratch project holding the checkout's .npmrc and reads the nodedir
// node-gyp wrote into build/config.gypi.
const nodeGyp = path.join(root, 'node_modules/node-gyp/bin/node-gyp.js');

/** A directory that looks like a Node install to node-gyp (it holds the system's include/node). */
const fakeNodeDirectory = path.join(scratchDirectory('pdi-nodedir-'), 'node headers');
mkdirSync(fakeNodeDirectory);
symlinkSync('/usr/include', path.join(fakeNodeDirectory, 'include'));

const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {config?: Record<string, unknown>};

/** A scratch npm project with the checkout's .npmrc and package.json `config`, whose `configure` script runs node-gyp. */
function project(): string {
	const directory = scratchDirectory('pdi-nodedir-project-');
	copyFileSync(path.join(root, '.npmrc'), path.join(directory, '.npmrc'));
	writeFileSync(path.join(directory, 'package.json'), JSON.stringify({
		name: 'nodedir-probe',
		version: '1.0.0',
		private: true,
		scripts: {configure: `node ${JSON.stringify(nodeGyp)} configure`},
		config: manifest.config,
	}));
	writeFileSync(path.join(directory, 'binding.gyp'), JSON.stringify({targets: [{target_name: 'probe', sources: ['probe.c']}]}));
	return directory;
}

/** The environment without npm's own variables and without the user's and the machine's npm config files. */
const noConfig = scratchDirectory('pdi-nodedir-npmrc-');
writeFileSync(path.join(noConfig, 'user.npmrc'), '');
writeFileSync(path.join(noConfig, 'global.npmrc'), '');

function cleanEnvironment(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
	const environment = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)));
	return {
		...environment,
		npm_config_userconfig: path.join(noConfig, 'user.npmrc'),
		npm_config_globalconfig: path.join(noConfig, 'global.npmrc'),
		...extra,
	};
}

async function configuredNodeDirectory(npmArgs: readonly string[], environment: NodeJS.ProcessEnv): Promise<string> {
	const directory = project();
	await new Promise<void>((resolve, reject) => {
		execFile('npm', [...npmArgs, 'run', 'configure'], {cwd: directory, env: environment, timeout: 60_000}, (error, _stdout, stderr) => {
			if (error) {
				reject(new Error(`npm run configure failed: ${stderr}`));
			} else {
				resolve();
			}
		});
	});
	const gypi = readFileSync(path.join(directory, 'build/config.gypi'), 'utf8');
	return /"nodedir": "([^"]*)"/.exec(gypi)?.[1] ?? '(none)';
}

test('without an override node-gyp gets /usr from the checkout\'s .npmrc', async t => {
	t.is(await configuredNodeDirectory([], cleanEnvironment()), '/usr');
});

test('npm install --nodedir=DIR reaches node-gyp', async t => {
	t.is(await configuredNodeDirectory([`--nodedir=${fakeNodeDirectory}`], cleanEnvironment()), fakeNodeDirectory);
});

test('npm_config_nodedir=DIR in the environment reaches node-gyp', async t => {
	t.is(await configuredNodeDirectory([], cleanEnvironment({npm_config_nodedir: fakeNodeDirectory})), fakeNodeDirectory);
});

test('package.json sets no node-gyp option that would override the user\'s nodedir', t => {
	t.deepEqual(Object.keys(manifest.config ?? {}).filter(key => key.startsWith('node_gyp_')), []);
});
