// Under npx or an npm script pdi runs below the `sh -c` npm starts, and a SIGTERM sent to npm kills that shell only:
// pdi ran on under init, its program with it, and an attach stayed in place. pdi now takes its parent's end as a
// SIGTERM (docs/launching.md, "Signals").
import {spawn} from 'node:child_process';
import {existsSync, readFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {cliPath} from './helpers/cli.js';
import {scratchDirectory, temporaryEntries, writeFiles} from './helpers/files.js';
import {until} from './helpers/until.js';

function alive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return !readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').startsWith('Z');
	} catch {
		return false;
	}
}

test('when the shell npm started around pdi dies of a SIGTERM, the program gets a SIGTERM and pdi ends, leaving nothing behind', async t => {
	const temporary = scratchDirectory('pdi-npm-parent-tmp-');
	const directory = writeFiles({'program.sh': '#!/bin/sh\necho $$ > "$1/pid"\ntrap \'echo TERM > "$1/got"; exit 3\' TERM\nwhile :; do sleep 0.05; done\n'});
	const script = path.join(directory, 'program.sh');
	// As npm exec starts a bin: sh -c 'pdi' ..., with npm's variables in the environment.
	const shell = spawn('sh', ['-c', `${JSON.stringify(process.execPath)} ${JSON.stringify(cliPath)} run -- sh ${JSON.stringify(script)} ${JSON.stringify(directory)}; echo unreached`], {
		env: {...process.env, TMPDIR: temporary, npm_lifecycle_event: 'npx'},
		stdio: 'ignore',
	});
	t.true(await until(() => existsSync(path.join(directory, 'pid'))));
	const program = Number(readFileSync(path.join(directory, 'pid'), 'utf8'));
	// Should the test fail, pdi ends with the program.
	t.teardown(() => {
		if (alive(program)) {
			process.kill(program, 'SIGKILL');
		}
	});
	shell.kill('SIGTERM');
	t.true(await until(() => existsSync(path.join(directory, 'got'))), 'the program got no SIGTERM');
	t.is(readFileSync(path.join(directory, 'got'), 'utf8'), 'TERM\n');
	t.true(await until(() => !alive(program)));
	t.true(await until(() => temporaryEntries(temporary).length === 0), temporaryEntries(temporary).join(' '));
});

test('outside npm, pdi whose parent ends runs on with its program (a job the shell left behind, nohup)', async t => {
	const directory = writeFiles({'program.sh': '#!/bin/sh\necho $$ > "$1/pid"\ntrap \'echo TERM > "$1/got"; exit 3\' TERM\nsleep 1\necho done > "$1/done"\n'});
	const script = path.join(directory, 'program.sh');
	const environment = {...process.env};
	delete environment['npm_lifecycle_event'];
	const shell = spawn('sh', ['-c', `${JSON.stringify(process.execPath)} ${JSON.stringify(cliPath)} run -- sh ${JSON.stringify(script)} ${JSON.stringify(directory)}`], {env: environment, stdio: 'ignore'});
	t.true(await until(() => existsSync(path.join(directory, 'pid'))));
	shell.kill('SIGTERM');
	t.true(await until(() => existsSync(path.join(directory, 'done'))));
	t.false(existsSync(path.join(directory, 'got')));
});
