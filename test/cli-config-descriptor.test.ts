import {spawn, spawnSync} from 'node:child_process';
import {closeSync, openSync, writeFileSync} from 'node:fs';
import {createServer} from 'node:net';
import path from 'node:path';
import test from 'ava';
import {cliPath, collectOutput} from './helpers/cli.js';
import {scratchDirectory} from './helpers/files.js';
import {fixBackend, fixtures, values} from './helpers/preload.js';

const scratch = scratchDirectory('pdi-config-descriptor-');
const yaml = `backends: [{name: fix, library: ${JSON.stringify(fixBackend)}}]\nrules: [{relink: {object: $main, function: fix_add, backend: fix, wrapper: wrap_fix_add}}]\n`;
const program = path.join(fixtures, 'now-pie/fixprog');

type Ended = {status: number | null; stdout: string; stderr: string};

/** `pdi run -c NAME -- fixprog` with descriptor 3 a socket (Node's stdio 'pipe' is a socketpair) carrying the config. */
async function runWithSocket(name: string): Promise<Ended> {
	const child = spawn(process.execPath, [cliPath, 'run', '-c', name, '--', program], {stdio: ['ignore', 'pipe', 'pipe', 'pipe']});
	const output = collectOutput(child);
	(child.stdio[3] as NodeJS.WritableStream).end(yaml);
	const status = await output.closed;
	return {status, stdout: output.stdout(), stderr: output.stderr()};
}

test('a config given as /dev/fd/N or /proc/self/fd/N of a socket other than stdin is read (was: no such device or address)', async t => {
	for (const name of ['/dev/fd/3', '/proc/self/fd/3']) {
		const run = await runWithSocket(name);
		t.is(run.status, 0, `${name}: ${run.stderr}`);
		t.is(values(run.stdout).get('fix_add'), '105', name);
	}
});

test('a config given as /dev/fd/N of a file or a pipe is read', t => {
	const file = path.join(scratch, 'fix.yaml');
	writeFileSync(file, yaml);
	const fd = openSync(file, 'r');
	try {
		const run = spawnSync(process.execPath, [cliPath, 'run', '-c', '/dev/fd/3', '--', program], {stdio: ['ignore', 'pipe', 'pipe', fd], encoding: 'utf8'});
		t.is(run.status, 0, run.stderr);
		t.is(values(run.stdout).get('fix_add'), '105');
	} finally {
		closeSync(fd);
	}

	const piped = spawnSync('bash', ['-c', 'exec "$@" 3< <(cat "$0")', file, process.execPath, cliPath, 'run', '-c', '/proc/self/fd/3', '--', program], {encoding: 'utf8'});
	t.is(piped.status, 0, piped.stderr);
	t.is(values(piped.stdout).get('fix_add'), '105');
});

test('a socket config pdi cannot read is one line naming it: a socket by name, a descriptor that is not open', async t => {
	const socketPath = path.join(scratch, 'config.sock');
	const server = createServer();
	await new Promise<void>(resolve => {
		server.listen(socketPath, resolve);
	});
	try {
		const named = spawnSync(process.execPath, [cliPath, 'run', '-c', socketPath, '--', program], {encoding: 'utf8'});
		t.is(named.status, 2);
		t.is(named.stderr, `pdi: ${socketPath}: a socket, which cannot be opened by name (give it to pdi as a descriptor: -c /dev/fd/N)\n`);
	} finally {
		server.close();
	}

	const closed = spawnSync(process.execPath, [cliPath, 'run', '-c', '/dev/fd/57', '--', program], {encoding: 'utf8'});
	t.is(closed.status, 2);
	t.is(closed.stderr, 'pdi: /dev/fd/57: no such file or directory\n');
});

test('a pipe that pdi holds for writing (3> >(...), 3<>) is refused in one line instead of waiting for ever, and /dev/tty without a terminal says so', t => {
	for (const redirection of ['3>', '3<>']) {
		const run = spawnSync('bash', ['-c', `exec "$@" ${redirection} >(cat >/dev/null)`, 'bash', process.execPath, cliPath, 'run', '-c', '/dev/fd/3', '--', 'true'], {encoding: 'utf8', timeout: 20_000});
		t.is(run.status, 2, redirection);
		t.is(run.stderr, 'pdi: /dev/fd/3: a pipe that pdi holds open for writing, so it would wait for its end for ever (give it for reading only: 3< <(gen-config))\n', redirection);
	}

	const detached = spawnSync('setsid', ['-w', process.execPath, cliPath, 'run', '-c', '/dev/tty', '--', 'true'], {encoding: 'utf8', timeout: 20_000});
	t.is(detached.status, 2);
	t.is(detached.stderr, 'pdi: /dev/tty: no such device or address (pdi has no controlling terminal)\n');
});
