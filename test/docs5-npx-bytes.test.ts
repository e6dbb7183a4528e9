import {execFile} from 'node:child_process';
import {mkdirSync, symlinkSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {cliPath, root} from './helpers/cli.js';
import {scratchDirectory} from './helpers/files.js';

// A project that has pdi installed, as the docs' `npx pdi ...` examples assume: node_modules/pdi and its bin.
const project = scratchDirectory('pdi-npx-bytes-');
mkdirSync(path.join(project, 'node_modules/.bin'), {recursive: true});
symlinkSync(root, path.join(project, 'node_modules/pdi'));
symlinkSync(cliPath, path.join(project, 'node_modules/.bin/pdi'));

/** Runs SCRIPT with sh in the project: its status and stderr. */
async function shell(script: string): Promise<{code: number; stderr: string}> {
	return new Promise(resolve => {
		execFile('sh', ['-c', script], {cwd: project, encoding: 'latin1', timeout: 120_000}, (error, _stdout, stderr) => {
			resolve({code: error ? Number(error.code) : 0, stderr});
		});
	});
}

const advice = 'npx (npm exec) runs pdi from a Node.js process of its own, which has replaced bytes that are not UTF-8 with it';

test('through npx, an argument whose bytes npm already turned into U+FFFD is named in a warning; a UTF-8 one is not', async t => {
	// Before: npm's Node.js had decoded byte 0xff to U+FFFD before pdi started, pdi's own check saw valid UTF-8, and
	// cat got another file name without a word (docs/launching.md, "Bytes that are not UTF-8").
	const replaced = await shell('npx pdi run -- cat "$(printf "caf\\351")"');
	t.is(replaced.code, 1);
	const lines = Buffer.from(replaced.stderr, 'latin1').toString('utf8').split('\n');
	t.is(lines[0], `pdi: warning: argument 4 ('caf\uFFFD') holds U+FFFD: ${advice}; if the argument had such bytes, the program gets another one: run node_modules/.bin/pdi instead of npx, or let a shell make the value (docs/launching.md, "Bytes that are not UTF-8")`);
	const variable = await shell('V="$(printf "caf\\351")" npx pdi run -- true');
	t.is(variable.code, 0);
	t.regex(Buffer.from(variable.stderr, 'latin1').toString('utf8'), /^pdi: warning: the environment variable V holds U\+FFFD: npx \(npm exec\) .*\n$/);
	const plain = await shell('V=café npx pdi run -- cat /dev/null café 2>&1 | grep -c warning');
	t.is(plain.stderr, '');
	t.is(plain.code, 1); // grep found no warning
	const direct = await shell('node_modules/.bin/pdi run -- cat "$(printf "caf\\351")"');
	t.is(direct.code, 2);
	t.regex(direct.stderr, /^pdi: argument 4 \('caf\\351'\) is not valid UTF-8/);
});
