// Servers that daemonize, fork workers or never wait for a client: one replay
// per process tree, a distinct status when nothing was replayed, and nothing
// of the server left running afterwards.
import {execFile, spawn, spawnSync} from 'node:child_process';
import {closeSync, existsSync, mkdtempSync, openSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {setTimeout as delay} from 'node:timers/promises';
import test from 'ava';
import {comux} from '../src/ts/comux/builder.js';
import {COMUX_HANG, COMUX_NOT_SERVING, runComux} from '../src/ts/comux/replay.js';
import {cliPath, pdi} from './helpers/cli.js';
import {compileConfig} from '../src/ts/config/index.js';
import {comuxConfig} from '../src/ts/comux/replay.js';
import {canConnect, echoServerPath, freePort, nginxCommand, plainExchange, processesHoldingFilesIn, processesMentioning, startEcho, webRoot, type ServerSpec} from './helpers/servers.js';
import {comuxRunKilledWhileStarting} from './helpers/comux-killed.js';
import {preloadPath} from './helpers/preload.js';
import {shellWord} from './helpers/quote.js';

const scratch = mkdtempSync(path.join(tmpdir(), 'pdi-comux-daemon-'));
test.after.always(() => {
	rmSync(scratch, {recursive: true, force: true});
});

const twoRequests = comux()
	.conn(0, 'GET /hello.txt HTTP/1.0\r\n\r\n', {awaitResponse: true})
	.conn(1, 'GET /nothing-here HTTP/1.0\r\n\r\n', {awaitResponse: true})
	.bytes();
const twoRequestsFile = path.join(scratch, 'two.comux');
writeFileSync(twoRequestsFile, twoRequests);

async function daemonNginx(t: {teardown(fn: () => void): void}): Promise<ServerSpec> {
	const spec = nginxCommand(webRoot(), await freePort(), {daemon: true, workers: 2});
	t.teardown(() => {
		for (const pid of processesHoldingFilesIn(spec.directory)) {
			process.kill(pid, 'SIGKILL');
		}

		rmSync(spec.directory, {recursive: true, force: true});
	});
	return spec;
}

function count(text: string, pattern: RegExp): number {
	return [...text.matchAll(pattern)].length;
}

test.serial('the daemon nginx config really daemonizes: plain nginx returns at once and its master and workers keep serving', async t => {
	const spec = await daemonNginx(t);
	const code = await new Promise<number | null>(resolve => {
		execFile(spec.command, spec.args, error => {
			resolve(error ? (typeof error.code === 'number' ? error.code : 1) : 0);
		});
	});
	t.is(code, 0);
	await delay(300);
	t.true(await canConnect(spec.port));
	t.true(processesHoldingFilesIn(spec.directory).length >= 3, 'a master and two workers');
});

test.serial('pdi comux run with nginx in daemon mode replays once, waits for the replay, and no nginx process remains', async t => {
	const spec = await daemonNginx(t);
	const result = await pdi(['comux', 'run', twoRequestsFile, '--', spec.command, ...spec.args], {timeout: 30_000});
	t.is(result.code, 0, result.stderr);
	t.is(count(result.stdout, /^HTTP\/1\.1 200 OK\r$/gm), 1, result.stdout);
	t.is(count(result.stdout, /^HTTP\/1\.1 404 Not Found\r$/gm), 1);
	t.regex(result.stdout, /\r\n\r\nhello\n/);
	t.deepEqual(processesHoldingFilesIn(spec.directory), []);
	t.false(await canConnect(spec.port));
});

test.serial('runComux and pdi comux replay on daemon nginx: every file replayed once, nothing left running', async t => {
	const spec = await daemonNginx(t);
	const result = await runComux([spec.command, ...spec.args], twoRequests, {timeout: 30_000});
	t.is(result.status, 0, result.stderr);
	t.false(result.notServing);
	t.is(count(result.stdout.toString('latin1'), /^HTTP\/1\.1 /gm), 2);
	t.deepEqual(processesHoldingFilesIn(spec.directory), []);

	const corpus = path.join(scratch, 'corpus');
	rmSync(corpus, {recursive: true, force: true});
	(await import('node:fs')).mkdirSync(corpus);
	for (let index = 0; index < 3; index++) {
		writeFileSync(path.join(corpus, `get-${index}.comux`), comux().conn(0, `GET /hello.txt?${index} HTTP/1.0\r\n\r\n`, {awaitResponse: true}).bytes());
	}

	const report = await pdi(['comux', 'replay', corpus, '--json', '--', spec.command, ...spec.args], {timeout: 60_000});
	t.is(report.code, 0, report.stderr);
	const parsed = JSON.parse(report.stdout) as {files: Array<{verdict: string; outputBytes: number}>; crashes: number; notServing: number};
	t.deepEqual(parsed.files.map(entry => entry.verdict), ['ok', 'ok', 'ok']);
	t.true(parsed.files.every(entry => entry.outputBytes > 100));
	t.is(parsed.notServing, 0);
	t.deepEqual(processesHoldingFilesIn(spec.directory), []);
	t.false(await canConnect(spec.port));
});

test.serial('nginx with a master process and two workers in the foreground replays in one worker only, then everything ends', async t => {
	const spec = nginxCommand(webRoot(), await freePort(), {workers: 2});
	t.teardown(() => {
		rmSync(spec.directory, {recursive: true, force: true});
	});
	const result = await runComux([spec.command, ...spec.args], twoRequests, {timeout: 30_000});
	t.is(result.status, 0, result.stderr);
	t.is(count(result.stdout.toString('latin1'), /^HTTP\/1\.1 /gm), 2);
	t.deepEqual(processesHoldingFilesIn(spec.directory), []);
});

test.serial('in AFL++ mode without afl-fuzz, a daemon nginx replays its input from stdin, which it points at /dev/null, or from PDI_COMUX_INPUT, which it removes from its environment', async t => {
	const spec = await daemonNginx(t);
	const config = path.join(scratch, 'afl.cfg');
	writeFileSync(config, compileConfig(comuxConfig()));
	const env = {...process.env, LD_PRELOAD: preloadPath(), PDI_CONFIG: config, PDI_COMUX_FORK: 'afl'};
	const input = openSync(twoRequestsFile, 'r');
	t.teardown(() => {
		closeSync(input);
	});
	for (const [stdin, variables] of [[input, {}], ['ignore', {PDI_COMUX_INPUT: twoRequestsFile}]] as const) {
		const result = spawnSync(spec.command, spec.args, {env: {...env, ...variables}, stdio: [stdin, 'pipe', 'pipe'], timeout: 30_000, encoding: 'latin1'});
		t.is(result.status, 0, result.stderr);
		t.is(count(result.stdout, /^HTTP\/1\.1 200 OK\r$/gm), 1, result.stderr);
		t.is(count(result.stdout, /^HTTP\/1\.1 404 Not Found\r$/gm), 1);
		t.deepEqual(processesHoldingFilesIn(spec.directory), []);
	}
});

test.serial('in AFL++ fork mode a guardian killed with SIGKILL (afl-fuzz ends its campaign so) leaves no process of a daemon nginx and its workers running', async t => {
	const spec = await daemonNginx(t);
	const config = path.join(scratch, 'killed.cfg');
	writeFileSync(config, compileConfig(comuxConfig()));
	// A request nginx waits on: the replay lasts until the reply timeout, long after the guardian is gone.
	const input = path.join(scratch, 'partial.comux');
	writeFileSync(input, comux().conn(0, 'GET / HTTP/1.1\r\nHost: x\r\n', {awaitResponse: true, noShutdown: true}).bytes());
	const stdin = openSync(input, 'r');
	t.teardown(() => {
		closeSync(stdin);
	});
	const guardian = spawn(spec.command, spec.args, {
		// What pdi comux config --afl sets; without afl-fuzz the server replays its one input.
		env: {...process.env, LD_PRELOAD: preloadPath(), PDI_CONFIG: config, PDI_COMUX_FORK: 'afl', PDI_COMUX_IDLE_ONLY: '1', PDI_COMUX_TIMEOUT_MS: '30000'},
		stdio: [stdin, 'ignore', 'ignore'],
	});
	const exited = new Promise(resolve => guardian.once('exit', resolve));
	for (let tries = 0; processesHoldingFilesIn(spec.directory).length < 3 && tries < 100; tries++) {
		await delay(50);
	}

	t.true(processesHoldingFilesIn(spec.directory).length >= 3, 'a master and two workers');
	await delay(300);
	guardian.kill('SIGKILL');
	await exited;
	for (let tries = 0; processesMentioning(spec.directory).length > 0 && tries < 100; tries++) {
		await delay(50);
	}

	t.deepEqual(processesMentioning(spec.directory), [], 'no nginx process and no sentinel left');
	t.false(await canConnect(spec.port));
});

const python = '/usr/bin/python3';
const listensThenExits = `import socket
s = socket.socket()
s.bind(('127.0.0.1', 0))
s.listen()
`;

test.serial('the file of a Unix socket the server listened on is removed when the replay ends, so that the next replay can bind it again, with and without fork mode', async t => {
	const socketPath = path.join(scratch, 'server.sock');
	const script = ['import socket, sys', 's = socket.socket(socket.AF_UNIX)', 's.bind(sys.argv[1])', 's.listen()', 'while True:', '    c, _ = s.accept()', '    c.sendall(c.recv(100))', '    c.close()'].join('\n');
	const input = comux().conn(0, 'hello', {awaitResponse: true}).bytes();
	for (const fork of [false, false, true, true]) {
		const result = await runComux([python, '-c', script, socketPath], input, {fork, timeout: 30_000});
		t.is(result.status, 0, result.stderr);
		t.is(result.stdout.toString(), 'hello');
		t.false(existsSync(socketPath), `fork: ${fork}`);
	}
});

test.serial('a server that never listens is not a successful replay: pdi comux run exits 4 with one line', async t => {
	const result = await pdi(['comux', 'run', twoRequestsFile, '--', '/bin/true']);
	t.is(result.code, COMUX_NOT_SERVING);
	t.is(result.stdout, '');
	t.is(result.stderr, 'pdi-comux: the server exited with status 0 before it listened\n');
	const failing = await pdi(['comux', 'run', twoRequestsFile, '--', '/bin/false']);
	t.is(failing.code, COMUX_NOT_SERVING);
	t.is(failing.stderr, 'pdi-comux: the server exited with status 1 before it listened\n');
	const crashing = await pdi(['comux', 'run', twoRequestsFile, '--', '/bin/sh', '-c', 'kill -SEGV $$']);
	t.is(crashing.code, COMUX_NOT_SERVING);
	t.regex(crashing.stderr, /^pdi-comux: the server was killed by signal 11 \([^)]+\) before it listened\n$/);
	const listening = await pdi(['comux', 'run', twoRequestsFile, '--', python, '-c', listensThenExits]);
	t.is(listening.code, COMUX_NOT_SERVING);
	t.is(listening.stderr, 'pdi-comux: the server exited with status 0 before it waited for a client\n');
});

test.serial('a server that times out before it listens is reported as such by runComux, pdi comux run and pdi comux replay', async t => {
	const sleeping = await runComux(['/bin/sleep', '30'], twoRequests, {timeout: 300});
	t.true(sleeping.timedOut);
	t.true(sleeping.notServing);
	t.is(sleeping.exitCode, COMUX_NOT_SERVING);
	t.regex(sleeping.stderr, /^pdi-comux: the server was stopped by signal 15 \([^)]+\) before it listened\n$/);
	t.true(sleeping.durationMs < 10_000);

	const run = await pdi(['comux', 'run', '--timeout', '300', twoRequestsFile, '--', '/bin/sleep', '30']);
	t.is(run.code, COMUX_NOT_SERVING);
	t.regex(run.stderr, /before it listened\npdi: the server did not wait for a client within 300 ms \(--timeout\) and was stopped\n$/);

	const corpus = path.join(scratch, 'not-serving');
	rmSync(corpus, {recursive: true, force: true});
	(await import('node:fs')).mkdirSync(corpus);
	writeFileSync(path.join(corpus, 'a.comux'), twoRequests);
	const replayed = await pdi(['comux', 'replay', corpus, '--timeout', '300', '--', '/bin/sleep', '30']);
	t.is(replayed.code, 1);
	t.regex(replayed.stdout, /^a\.comux\s+no-listen\s+-\s/m);
	t.regex(replayed.stdout, /1 file: 1 no-listen/);
	t.regex(replayed.stdout, /\na\.comux: pdi-comux: the server was stopped by signal 15 \(Terminated\) before it listened \/ pdi: the server did not wait for a client within 300 ms \(--timeout\) and was stopped\n$/);
	// With --fork the files after the first were never replayed (none is sent before the fork server is ready): the
	// server was stopped.
	writeFileSync(path.join(corpus, 'b.comux'), twoRequests);
	writeFileSync(path.join(corpus, 'c.comux'), twoRequests);
	const forked = await pdi(['comux', 'replay', corpus, '--fork', '--json', '--timeout', '300', '--', '/bin/sleep', '30']);
	t.is(forked.code, 1);
	t.deepEqual((JSON.parse(forked.stdout) as {files: Array<{stderr: string}>}).files.map(entry => entry.stderr.split('\n').at(-2)), [
		'pdi: the server did not wait for a client within 300 ms (--timeout) and was stopped',
		'pdi: not replayed: the server was stopped after 300 ms on an earlier file (its start or its replay)',
		'pdi: not replayed: the server was stopped after 300 ms on an earlier file (its start or its replay)',
	]);
	rmSync(path.join(corpus, 'b.comux'));
	rmSync(path.join(corpus, 'c.comux'));
	const exited = await pdi(['comux', 'replay', corpus, '--json', '--', '/bin/true']);
	t.is(exited.code, 1);
	const report = JSON.parse(exited.stdout) as {files: Array<{verdict: string; status: number}>; notServing: number};
	t.deepEqual(report.files.map(entry => [entry.verdict, entry.status]), [['no-listen', COMUX_NOT_SERVING]]);
	t.is(report.notServing, 1);
});

test.serial('a program the replaying server executes with the comux config again stays passive: it serves real clients and replays nothing', async t => {
	const config = path.join(scratch, 'comux.cfg');
	writeFileSync(config, compileConfig(comuxConfig()));
	const conversation = [{conn: 0, data: Buffer.from('real client\n'), awaitResponse: true}];
	const server = await startEcho('epoll', {
		env: {...process.env, LD_PRELOAD: preloadPath(), PDI_CONFIG: config, PDI_COMUX_ACTIVE: '1', PDI_COMUX_INPUT: twoRequestsFile},
	});
	t.teardown(server.stop);
	t.is((await plainExchange(server.port, conversation)).toString(), 'real client\n');
	t.is((await plainExchange(server.port, conversation)).toString(), 'real client\n', 'still serving after a client');
});

test.serial('from its claim on, the replaying server\'s environment has PDI_COMUX_ACTIVE and no PDI_CONFIG, so what it executes does not replay', async t => {
	// The child inherits the C environment as it is after accept(), where the claim is made.
	const script = 'import socket, subprocess\ns = socket.socket()\ns.bind(("127.0.0.1", 0))\ns.listen()\ns.accept()\nsubprocess.run(["sh", "-c", "echo ${PDI_COMUX_ACTIVE:-unset} ${PDI_CONFIG:-unset}"])\n';
	const result = await runComux([python, '-c', script], twoRequests, {timeout: 30_000});
	t.is(result.status, 0, result.stderr);
	t.is(result.stdout.toString(), '1 unset\n');
});

for (const [name, wrap] of [
	['sh -c \'exec SERVER\'', (server: string[]) => ['sh', '-c', `exec ${server.map(word => shellWord(word)).join(' ')}`]],
	['sh -c SERVER (a child of the shell)', (server: string[]) => ['sh', '-c', server.map(word => shellWord(word)).join(' ')]],
	['timeout 30 SERVER', (server: string[]) => ['timeout', '30', ...server]],
] as const) {
	test.serial(`a server started through a wrapper, ${name}, replays as if started directly`, async t => {
		const conversation = comux().conn(0, 'one\n', {awaitResponse: true}).conn(1, 'two\n', {awaitResponse: true}).bytes();
		const direct = await runComux([echoServerPath, 'epoll', '0'], conversation, {timeout: 30_000});
		// The echo server prints its port first.
		const replies = (output: string) => output.replace(/^listening on \d+\n/, '');
		t.is(direct.status, 0, direct.stderr);
		t.is(replies(direct.stdout.toString()), 'one\ntwo\n');
		const started = Date.now();
		const wrapped = await runComux(wrap([echoServerPath, 'epoll', '0']), conversation, {timeout: 30_000});
		t.is(wrapped.status, 0, wrapped.stderr);
		t.is(replies(wrapped.stdout.toString()), 'one\ntwo\n');
		t.true(Date.now() - started < 10_000);
		const cli = await pdi(['comux', 'run', twoRequestsFile, '--', ...wrap([echoServerPath, 'epoll', '0'])], {timeout: 30_000});
		t.is(cli.code, 0, cli.stderr);
		t.is(replies(cli.stdout), 'GET /hello.txt HTTP/1.0\r\n\r\nGET /nothing-here HTTP/1.0\r\n\r\n');
	});
}

test.serial('a child the replaying server forks for a connection does not inherit the client end of that connection', async t => {
	// The child looks for a socket whose own address is its client's: the controller's end, which only a fork could hand it.
	const script = [
		'import os, socket',
		's = socket.socket()',
		's.bind(("127.0.0.1", 0))',
		's.listen()',
		'c, peer = s.accept()',
		'if os.fork() == 0:',
		'    found = False',
		'    for name in os.listdir("/proc/self/fd"):',
		'        try:',
		'            x = socket.socket(fileno=os.dup(int(name)))',
		'        except OSError:',
		'            continue',
		'        try:',
		'            found = found or x.getsockname() == peer',
		'        except OSError:',
		'            pass',
		'        x.close()',
		'    c.sendall(b"client end in the child: " + (b"yes" if found else b"no") + b"\\n")',
		'    os._exit(0)',
		'c.close()',
		'os.wait()',
		's.accept()',
	].join('\n');
	const conversation = comux().conn(0, 'hello\n', {awaitResponse: true}).bytes();
	const result = await runComux([python, '-c', script], conversation, {timeout: 30_000});
	t.is(result.status, 0, result.stderr);
	t.is(result.stdout.toString(), 'client end in the child: no\n');
});

test.serial('a server that loops after a request is a hang: status 5 with one line from runComux (with and without fork mode) and pdi comux run, the hang verdict from pdi comux replay; one that waits for more input is not', async t => {
	const serve = (after: string) => ['import socket', 's = socket.socket()', 's.bind(("127.0.0.1", 0))', 's.listen()', 'c, _ = s.accept()', 'c.recv(100)', after].join('\n');
	const looping = serve('while True: pass');
	const waiting = serve('c.recv(100)\nc.recv(100)');
	const request = comux().conn(0, 'hi', {awaitResponse: true, noShutdown: true}).bytes();
	const started = Date.now();
	for (const fork of [false, true]) {
		const hung = await runComux([python, '-c', looping], request, {timeout: 30_000, replyTimeoutMs: 500, fork});
		t.is(hung.status, COMUX_HANG, hung.stderr);
		t.true(hung.hung);
		t.is(hung.stderr, 'pdi-comux: the server sent nothing for chunk 0 within 500 ms and is still running: it hangs\n', `fork: ${fork}`);
	}

	t.true(Date.now() - started < 20_000);
	const idle = await runComux([python, '-c', waiting], request, {timeout: 30_000, replyTimeoutMs: 500});
	t.is(idle.status, 0, idle.stderr);
	t.false(idle.hung);
	const file = path.join(scratch, 'await.comux');
	writeFileSync(file, request);
	const cli = await pdi(['comux', 'run', '--reply-timeout', '500', file, '--', python, '-c', looping], {timeout: 30_000});
	t.is(cli.code, COMUX_HANG, cli.stderr);
	t.regex(cli.stderr, /^pdi-comux: the server sent nothing for chunk 0 within 500 ms and is still running: it hangs$/m);
	const directory = mkdtempSync(path.join(scratch, 'hang-'));
	writeFileSync(path.join(directory, 'loop.comux'), request);
	const replay = await pdi(['comux', 'replay', '--json', '--reply-timeout', '500', directory, '--', python, '-c', looping], {timeout: 60_000});
	t.is(replay.code, 1, replay.stderr);
	const report = JSON.parse(replay.stdout) as {files: Array<{verdict: string; status: number}>; crashes: number};
	t.deepEqual(report.files.map(entry => [entry.verdict, entry.status]), [['hang', COMUX_HANG]]);
	t.is(report.crashes, 1);
});

test.serial('pdi comux run --timeout ends a replay that outlasts it as a hang (status 5), with and without --fork; a server that never listens is stopped at the limit in both, status 4', async t => {
	const looping = ['import socket', 's = socket.socket()', 's.bind(("127.0.0.1", 0))', 's.listen()', 'c, _ = s.accept()', 'c.recv(100)', 'while True: pass'].join('\n');
	const file = path.join(scratch, 'stopped.comux');
	writeFileSync(file, comux().conn(0, 'hi', {awaitResponse: true, noShutdown: true}).bytes());
	for (const fork of [[], ['--fork']]) {
		const hung = await pdi(['comux', 'run', ...fork, '--timeout', '700', '--reply-timeout', '20000', file, '--', python, '-c', looping], {timeout: 30_000});
		t.is(hung.code, COMUX_HANG, `${fork.join('')}: ${hung.stderr}`);
		t.regex(hung.stderr, /^pdi: the replay took longer than 700 ms and was stopped$/m);
		const started = Date.now();
		const silent = await pdi(['comux', 'run', ...fork, '--timeout', '700', file, '--', python, '-c', 'import time; time.sleep(30)'], {timeout: 30_000});
		t.is(silent.code, COMUX_NOT_SERVING, `${fork.join('')}: ${silent.stderr}`);
		t.regex(silent.stderr, /before it listened/);
		t.true(Date.now() - started < 15_000, `${fork.join('')}: stopped after ${Date.now() - started} ms, not at the 700 ms limit`);
	}
});

test('a server still starting when pdi comux run is killed (SIGKILL, nothing to clean up after it) does not run on: its guardian sees pdi gone and ends it', async t => {
	// Its own TMPDIR: the compiled config pdi leaves there for the server is removed with it, though pdi cannot.
	const temporary = mkdtempSync(path.join(tmpdir(), 'pdi-comux-killed-'));
	t.teardown(() => {
		rmSync(temporary, {recursive: true, force: true});
	});
	const run = await comuxRunKilledWhileStarting(t, cliPath, twoRequestsFile, temporary, 3000);
	t.is(run.serverWhileRunning, 2);
	t.deepEqual(run.serverLeft, []);
	t.deepEqual(run.left, []);
});
