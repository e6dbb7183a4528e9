import {execFile} from 'node:child_process';
import {copyFileSync, mkdirSync, readFileSync, symlinkSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {root} from './helpers/cli.js';
import {scratchDirectory} from './helpers/files.js';
import {fixtures} from './helpers/preload.js';

// docs/act.md, "A Node test that makes a native addon's open fail": the command it gives to check the name an addon
// imports, run as printed in a project that has pdi installed and an addon at build/Release/storage.node.
const project = scratchDirectory('pdi-act-docs-');
mkdirSync(path.join(project, 'node_modules'));
symlinkSync(root, path.join(project, 'node_modules/pdi'));
mkdirSync(path.join(project, 'build/Release'), {recursive: true});
copyFileSync(path.join(fixtures, 'addon/fixaddon.node'), path.join(project, 'build/Release/storage.node'));

const recipe = readFileSync(path.join(root, 'docs/act.md'), 'utf8').split('### A Node test that makes a native addon\'s `open` fail')[1]!.split('\n### ')[0]!;

test('act.md: the command that checks the name an addon imports lists the addon\'s open', async t => {
	const block = /^```sh\n([\s\S]*?)^```$/m.exec(recipe)?.[1];
	t.truthy(block, 'the recipe has an sh block');
	const command = block!.split('\n').find(line => line.includes('storage.node'))!;
	const run = await new Promise<{code: number; stdout: string; stderr: string}>(resolve => {
		execFile('sh', ['-c', command], {cwd: project, timeout: 60_000}, (error, stdout, stderr) => {
			resolve({code: error ? Number(error.code) : 0, stdout, stderr});
		});
	});
	t.is(run.code, 0, run.stderr);
	// Before, the recipe named `pdi inspect`, which reports the process before main: no storage.node, no open.
	t.true(run.stdout.trim().split(' ').includes('open'), run.stdout);
	const comment = block!.split('\n').find(line => line.startsWith('# '))!;
	for (const name of comment.slice(2).split(' ').filter(word => word !== '...')) {
		t.true(run.stdout.includes(name), `${name} is in the output the comment shows`);
	}
});
