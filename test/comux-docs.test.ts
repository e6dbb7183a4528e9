import {execFile} from 'node:child_process';
import {chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import test from 'ava';
import {comux} from '../src/ts/comux/builder.js';
import {startComuxForkServer} from '../src/ts/comux/fork-server.js';
import {cliPath, root} from './helpers/cli.js';
import {echoServerPath, freePort} from './helpers/servers.js';

const scratch = mkdtempSync(path.join(tmpdir(), 'pdi-comux-docs-'));
test.after.always(() => {
	rmSync(scratch, {recursive: true, force: true});
});

/** The sh block of docs/comux.md that starts parallel afl-fuzz instances. */
function parallelExample(): string {
	const markdown = readFileSync(path.join(root, 'docs/comux.md'), 'utf8');
	const block = [...markdown.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map(match => match[1] ?? '').find(text => text.includes('afl-fuzz -M main'));
	if (block === undefined) {
		throw new Error('docs/comux.md has no parallel fuzzing example');
	}

	return block;
}

test('the parallel afl-fuzz instances of docs/comux.md, run on one machine, each get a server that serves (its own port)', async t => {
	// The example, run by bash as written, with an afl-fuzz that notes the server it would start and three CPUs.
	const bin = path.join(scratch, 'bin');
	const noted = path.join(scratch, 'noted');
	mkdirSync(bin);
	mkdirSync(noted);
	writeFileSync(path.join(bin, 'afl-fuzz'), `#!/bin/sh\nwhile [ "$1" != -- ]; do shift; done; shift\nprintf '%s\\0' "$@" > "${noted}/$$"\n`);
	writeFileSync(path.join(bin, 'nproc'), '#!/bin/sh\necho 3\n');
	chmodSync(path.join(bin, 'afl-fuzz'), 0o755);
	chmodSync(path.join(bin, 'nproc'), 0o755);
	const script = parallelExample().replaceAll('npx pdi', `${JSON.stringify(process.execPath)} ${JSON.stringify(cliPath)}`).replaceAll('/tmp/comux.cfg', path.join(scratch, 'comux.cfg')) + '\nwait\n';
	const ran = await new Promise<{error: Error | null; stderr: string}>(resolve => {
		execFile('/bin/bash', ['-c', script], {cwd: scratch, env: {...process.env, PATH: `${bin}:${process.env['PATH'] ?? ''}`}, timeout: 30_000}, (error, _stdout, stderr) => {
			resolve({error, stderr});
		});
	});
	t.is(ran.error, null, ran.stderr);
	const servers = readdirSync(noted).map(name => readFileSync(path.join(noted, name), 'utf8').split('\0').slice(0, -1));
	t.is(servers.length, 3);
	// Each distinct server argument list of the example is one free port here, the same list the same port.
	const ports = new Map<string, number>();
	for (const server of servers) {
		t.is(server[0], './server');
		const key = server.slice(1).join(' ');
		ports.set(key, ports.get(key) ?? await freePort());
	}

	const forks = servers.map(server => startComuxForkServer([echoServerPath, 'epoll', String(ports.get(server.slice(1).join(' ')))], {env: {...process.env, ECHO_QUIET: '1'}, timeout: 10_000}));
	try {
		const input = comux().conn(0, 'ping\n', {awaitResponse: true}).bytes();
		const results = await Promise.all(forks.map(async forked => forked.replay(input)));
		t.deepEqual(results.map(result => [result.status, result.stdout.toString(), result.stderr]), servers.map(() => [0, 'ping\n', '']));
	} finally {
		await Promise.all(forks.map(async forked => forked.close()));
	}
});
