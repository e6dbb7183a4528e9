import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import test from 'ava';
import {comux} from '../src/ts/comux/builder.js';
import {startComuxForkServer} from '../src/ts/comux/fork-server.js';
import {runComux} from '../src/ts/comux/replay.js';
import {pdi} from './helpers/cli.js';
import {freePort, lighttpdCommand, nginxCommand, webRoot} from './helpers/servers.js';

// A server that opens its standard streams by name (nginx's `error_log /dev/stderr;`, a log to /proc/self/fd/1)
// reaches them under every replay: they are real pipes, not the Unix sockets of Node's 'pipe' stdio, which Linux
// refuses to open by name (ENXIO). Was a bug: nginx stopped at once, `open() "/dev/stderr" failed (6: No such
// device or address)`, and the replay said the server never listened.

const scratch = mkdtempSync(path.join(tmpdir(), 'pdi comux by name '));
/** The servers' own directories (config, logs), which nginxCommand() and lighttpdCommand() make in TMPDIR. */
const serverDirectories: string[] = [];
test.after.always(() => {
	for (const directory of [scratch, ...serverDirectories]) {
		rmSync(directory, {recursive: true, force: true});
	}
});

/** nginx logging to /dev/stderr, before and after its config is read. */
async function nginxLoggingToStderr(): Promise<string[]> {
	const spec = nginxCommand(webRoot(), await freePort());
	serverDirectories.push(spec.directory);
	const configFile = spec.args.at(-1)!;
	writeFileSync(configFile, readFileSync(configFile, 'utf8').replace(/^error_log .*;$/m, 'error_log /dev/stderr;'));
	const logged = spec.args.indexOf('-e');
	return [spec.command, ...spec.args.slice(0, logged + 1), '/dev/stderr', ...spec.args.slice(logged + 2)];
}

const missingPage = comux().conn(0, 'GET /no-such-page HTTP/1.0\r\n\r\n', {awaitResponse: true}).bytes();
const indexPage = comux().conn(0, 'GET / HTTP/1.0\r\n\r\n', {awaitResponse: true}).bytes();

test('runComux(): nginx with error_log /dev/stderr replays, and its log line arrives in stderr', async t => {
	const result = await runComux(await nginxLoggingToStderr(), missingPage);
	t.is(result.status, 0, result.stderr);
	t.regex(result.stdout.toString(), /^HTTP\/1\.1 404 Not Found\r$/m);
	t.regex(result.stderr, /open\(\) ".*no-such-page" failed \(2: No such file or directory\)/);
});

test('runComux(), with and without fork mode: lighttpd with server.errorlog = "/dev/stderr" replays and logs its start there', async t => {
	const spec = lighttpdCommand(webRoot(), await freePort());
	serverDirectories.push(spec.directory);
	const configFile = spec.args.at(-1)!;
	writeFileSync(configFile, readFileSync(configFile, 'utf8').replace(/^server\.errorlog = .*$/m, 'server.errorlog = "/dev/stderr"'));
	for (const fork of [false, true]) {
		const result = await runComux([spec.command, ...spec.args], indexPage, {fork});
		t.is(result.status, 0, result.stderr);
		t.regex(result.stdout.toString(), /^HTTP\/1\.0 200 OK\r$/m);
		t.regex(result.stderr, /server started/);
	}
});

test('runComux() in fork mode: nginx with error_log /dev/stderr replays, and its log line arrives in stderr', async t => {
	const result = await runComux(await nginxLoggingToStderr(), missingPage, {fork: true});
	t.is(result.status, 0, result.stderr);
	t.regex(result.stdout.toString(), /^HTTP\/1\.1 404 Not Found\r$/m);
	t.regex(result.stderr, /open\(\) ".*no-such-page" failed \(2: No such file or directory\)/);
});

// The fork server's children log through the descriptor nginx opened as /dev/stderr before it forked: each
// replay's line is its own, not the fork server's output read with whichever replay came next.
test('startComuxForkServer(): each replay of nginx with error_log /dev/stderr has its own log lines and no other', async t => {
	const forks = startComuxForkServer(await nginxLoggingToStderr());
	try {
		const logged: string[] = [];
		for (const page of ['first-missing', 'second-missing', '', 'third-missing']) {
			const result = await forks.replay(comux().conn(0, `GET /${page} HTTP/1.0\r\n\r\n`, {awaitResponse: true}).bytes());
			t.is(result.status, 0, result.stderr);
			t.regex(result.stdout.toString(), page === '' ? /^HTTP\/1\.1 200 OK\r$/m : /^HTTP\/1\.1 404 Not Found\r$/m);
			logged.push([...result.stderr.matchAll(/open\(\) ".*\/([a-z-]+)" failed/g)].map(match => match[1]).join(' '));
		}

		t.deepEqual(logged, ['first-missing', 'second-missing', '', 'third-missing']);
	} finally {
		await forks.close();
	}
});

test('pdi comux replay DIR, with and without --fork: nginx with error_log /dev/stderr gives ok for each file', async t => {
	const inputs = path.join(scratch, 'inputs');
	mkdirSync(inputs, {recursive: true});
	writeFileSync(path.join(inputs, 'index page.comux'), indexPage);
	writeFileSync(path.join(inputs, 'missing page.comux'), missingPage);
	const server = await nginxLoggingToStderr();
	for (const fork of [[], ['--fork']]) {
		const result = await pdi(['comux', 'replay', inputs, ...fork, '--', ...server]);
		t.is(result.code, 0, result.stderr);
		t.regex(result.stdout, /index page\.comux.*\bok\b/);
		t.regex(result.stdout, /missing page\.comux.*\bok\b/);
	}
});
