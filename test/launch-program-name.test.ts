import {spawnSync} from 'node:child_process';
import {chmodSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {spawn} from '../src/ts/index.js';
import {cliPath} from './helpers/cli.js';
import {compileC, scratchDirectory} from './helpers/files.js';

const directory = scratchDirectory('pdi-program-name-');
const script = path.join(directory, 'name.sh');
writeFileSync(script, '#!/bin/sh\nprintf "%s\\n" "$0"\n');
chmodSync(script, 0o755);
compileC(directory, 'name', '#include <stdio.h>\nint main(int argc, char **argv) { (void)argc; puts(argv[0]); return 0; }\n');
const environment = {...process.env, PATH: `${directory}:${process.env.PATH ?? ''}`};

/** What `command` prints as its own name, started by a shell and by pdi run, in `directory`. */
function names(command: string): {shell: string; pdi: string} {
	const options = {cwd: directory, env: environment, encoding: 'utf8'} as const;
	const shell = spawnSync('sh', ['-c', 'exec "$@"', 'sh', command], options);
	const pdi = spawnSync(process.execPath, [cliPath, 'run', '--', command], options);
	return {shell: shell.stdout, pdi: pdi.stdout + pdi.stderr};
}

test('a script started by a relative path gets it as $0, as from a shell, not the absolute path pdi checked', t => {
	// Before: pdi executed the absolute path it had resolved, which the kernel hands the interpreter: $0 was /…/name.sh.
	for (const command of ['./name.sh', '../' + path.basename(directory) + '/name.sh', './name']) {
		const {shell, pdi} = names(command);
		t.is(shell, `${command}\n`);
		t.is(pdi, shell, command);
	}
});

test('a bare name found through PATH gets the path a shell finds, and spawn() with cwd runs a relative path from there', async t => {
	const {shell, pdi} = names('name.sh');
	t.is(shell, `${script}\n`);
	t.is(pdi, shell);
	const child = spawn({}, './name.sh', [], {cwd: directory, stdio: ['ignore', 'pipe', 'inherit']});
	let printed = '';
	child.stdout.on('data', (chunk: Buffer) => {
		printed += chunk.toString();
	});
	await new Promise(resolve => child.once('close', resolve));
	t.is(printed, './name.sh\n');
});

test('an executable text file without a #! line runs as a shell runs it, under /bin/sh, and gets its name as $0', t => {
	// Before: pdi refused it ('not an ELF executable or a script') where sh, bash and Node's spawn run it with /bin/sh.
	const bare = path.join(directory, 'no-line.sh');
	writeFileSync(bare, 'printf "%s %s\\n" "$0" "$1"\n');
	chmodSync(bare, 0o755);
	const options = {cwd: directory, env: environment, encoding: 'utf8'} as const;
	const shell = spawnSync('sh', ['-c', 'exec "$@"', 'sh', './no-line.sh', 'arg'], options);
	t.is(shell.stdout, './no-line.sh arg\n');
	const run = spawnSync(process.execPath, [cliPath, 'run', '--', './no-line.sh', 'arg'], options);
	t.deepEqual([run.status, run.stdout, run.stderr], [0, shell.stdout, '']);
	const traced = spawnSync(process.execPath, [cliPath, 'trace', '--', './no-line.sh', 'arg'], options);
	t.is(traced.stdout, shell.stdout);
	t.regex(traced.stderr, /^\d+ \d+ {2}(sh|dash)!\w+\(/m);
});
