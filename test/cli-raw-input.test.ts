import {execFile} from 'node:child_process';
import {writeFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {cliPath} from './helpers/cli.js';
import {scratchDirectory} from './helpers/files.js';

const scratch = scratchDirectory('pdi-raw-input-');
const config = path.join(scratch, 'empty.yaml');
writeFileSync(config, 'rules: []\n');
// A file whose name holds byte 0xff, which Node.js cannot name: made by printf, as the tests' commands are.
const byteName = `${scratch}/caf\\351`;

/** Runs SCRIPT with sh, NODE and CLI being the node and pdi that run it: its status, stdout and stderr. */
async function shell(script: string, environment: NodeJS.ProcessEnv = process.env): Promise<{code: number; stdout: string; stderr: string}> {
	return new Promise(resolve => {
		execFile('sh', ['-c', script], {env: {...environment, NODE: process.execPath, CLI: cliPath}, encoding: 'latin1'}, (error, stdout, stderr) => {
			resolve({code: error ? Number(error.code) : 0, stdout, stderr});
		});
	});
}

test.before(async () => {
	await shell(`printf x > "$(printf "${byteName}")"`);
});

test('a program argument that is not UTF-8 is refused in one line, with the shell that passes it unchanged, and that shell does', async t => {
	// Before: cat got the name with U+FFFD in place of 0xe9 and said the file did not exist.
	const refused = await shell(`"$NODE" "$CLI" run -c ${config} -- cat "$(printf "${byteName}")"`);
	t.is(refused.code, 2);
	t.is(refused.stdout, '');
	t.is(refused.stderr, `pdi: argument 6 ('${byteName}') is not valid UTF-8, and Node.js, which pdi runs on, cannot take it unchanged: let a shell make it, as in -- sh -c 'exec PROGRAM "$(printf "${byteName}")"' (docs/launching.md, "Bytes that are not UTF-8")\n`);
	const advised = await shell(`"$NODE" "$CLI" run -c ${config} -- sh -c 'exec cat "$(printf "${byteName}")"'`);
	t.is(advised.code, 0, advised.stderr);
	t.is(advised.stdout, 'x');
});

test('an option value that is not UTF-8 is refused in one line that says to use a UTF-8 name', async t => {
	const run = await shell(`"$NODE" "$CLI" run -c "$(printf "${byteName}")" -- true`);
	t.is(run.code, 2);
	t.regex(run.stderr, /^pdi: argument 3 \('.*caf\\351'\) is not valid UTF-8, .*: name the file with a UTF-8 name \(a symbolic link to it, for one\) \(docs\/launching\.md, "Bytes that are not UTF-8"\)\n$/);
});

test('an environment variable that is not UTF-8 is named in one warning before the program starts; UTF-8 ones are not', async t => {
	const run = await shell(`LATIN="$(printf "caf\\351")" UTF="café" exec "$NODE" "$CLI" run -c ${config} -- sh -c 'printf "%s" "$UTF"'`);
	t.is(run.code, 0, run.stderr);
	t.is(Buffer.from(run.stdout, 'latin1').toString('utf8'), 'café');
	t.is(run.stderr, 'pdi: warning: the environment variable LATIN is not valid UTF-8: the program gets it with U+FFFD in place of those bytes (docs/launching.md, "Bytes that are not UTF-8")\n');
});
