import {spawn, spawnSync} from 'node:child_process';
import {chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {setTimeout as delay} from 'node:timers/promises';
import test from 'ava';
import {comux} from '../src/ts/comux/builder.js';
import {startComuxForkServer} from '../src/ts/comux/fork-server.js';
import {COMUX_HANG, COMUX_NOT_SERVING, comuxConfig, runComux, type ComuxRunResult, type RunComuxOptions} from '../src/ts/comux/replay.js';
import {compileConfig} from '../src/ts/config/index.js';
import {PdiError} from '../src/ts/errors.js';
import {sharedMemoryParent} from '../src/ts/launch/temporary.js';
import {cliPath, pdi} from './helpers/cli.js';
import {echoModes, echoServerPath, freePort, nginxCommand, processesMentioning, webRoot} from './helpers/servers.js';
import {preloadPath} from './helpers/preload.js';
import {shellWord} from './helpers/quote.js';
import {temporaryEntries} from './helpers/files.js';

const quiet: RunComuxOptions = {env: {...process.env, ECHO_QUIET: '1'}};
const scratch = mkdtempSync(path.join(tmpdir(), 'pdi-comux-fork-test-'));
test.after.always(() => {
	rmSync(scratch, {recursive: true, force: true});
});

const maskDate = (reply: Buffer) => reply.toString('latin1').replaceAll(/^Date: .*\r$/gm, 'Date: (masked)\r');

/** What a replay's result says, without its timing. */
function outcome(result: ComuxRunResult) {
	return {status: result.status, signal: result.signal, stdout: maskDate(result.stdout), stderr: result.stderr, hung: result.hung, notServing: result.notServing};
}

/** Inputs of every kind for the echo server: several connections, a crash, an invalid file, an empty connection list. */
function echoInputs(): Uint8Array[] {
	const inputs: Uint8Array[] = [];
	for (let index = 0; index < 12; index++) {
		const builder = comux();
		for (let conn = 0; conn <= index % 3; conn++) {
			builder.conn(conn, `input ${index} on ${conn}\n`, {awaitResponse: true});
		}

		inputs.push(builder.bytes());
	}

	inputs.push(
		comux().conn(0, 'before\n', {awaitResponse: true}).conn(1, 'CRASH! in the second connection\n', {awaitResponse: true}).bytes(),
		new TextEncoder().encode('comux!!! but not really'),
		comux().conn(0, 'after the crash and the invalid file\n', {awaitResponse: true}).bytes(),
	);
	return inputs;
}

// Each child runs on the one CPU its fork server is on (docs/comux.md, "Fork mode"); a fresh process keeps them all.
test('a child of the fork server may run on one CPU only, where a fresh process may run on every CPU it was given, and PDI_COMUX_ONE_CPU=0 keeps them all', async t => {
	const input = comux().conn(0, 'CPUS?', {awaitResponse: true}).bytes();
	const options: RunComuxOptions = {env: {...process.env, ECHO_QUIET: '1', ECHO_CPUS: '1'}};
	const server = [echoServerPath, 'epoll', '0'];
	const alone = await runComux(server, input, options);
	const forked = await runComux(server, input, {...options, fork: true});
	t.is(alone.status, 0, alone.stderr);
	t.is(forked.status, 0, forked.stderr);
	const cpus = Number(/^cpus (\d+)$/m.exec(alone.stdout.toString())?.[1]);
	t.true(cpus >= 1, alone.stdout.toString());
	t.is(forked.stdout.toString(), 'cpus 1\n', `a fresh process may run on ${cpus}`);
	const everyCpu = await runComux(server, input, {env: {...options.env, PDI_COMUX_ONE_CPU: '0'}, fork: true});
	t.is(everyCpu.status, 0, everyCpu.stderr);
	t.is(everyCpu.stdout.toString(), `cpus ${cpus}\n`, 'PDI_COMUX_ONE_CPU=0 keeps the fork server\'s CPUs');
});

// The server's main thread goes back to waiting with the connection read and nothing to send, while a child
// process (asleep) or a thread (busy, or asleep in nanosleep) writes the echo 100 ms later; or the main thread
// itself sleeps before it writes: the server is not at rest, and the reply waits for the echo, in a forked child as
// in a fresh process (the process's threads and children are looked at without /proc/self/task there,
// docs/comux.md). Was wrong for the sleeping ones: every thread asleep was taken for rest, and the reply was cut.
const lateWriters = {
	child: 'a child process of the server',
	thread: 'a busy thread of the server',
	'napping-thread': 'a thread of the server that sleeps 100 ms first',
	sleep: 'the server itself after sleeping 300 ms',
	split: 'the server itself in two parts 150 ms apart (PDI_COMUX_IDLE_MS=300)',
};
for (const [late, writer] of Object.entries(lateWriters)) {
	test(`a reply written later by ${writer} is not cut short, with and without fork mode`, async t => {
		const input = comux().conn(0, 'LATE:echo\n', {awaitResponse: true, noShutdown: true}).conn(1, 'after\n', {awaitResponse: true}).bytes();
		const idle = late === 'split' ? {PDI_COMUX_IDLE_MS: '300'} : {};
		const options: RunComuxOptions = {env: {...process.env, ECHO_QUIET: '1', ECHO_LATE: late, ...idle}};
		const server = [echoServerPath, 'epoll', '0'];
		for (const fork of [false, true]) {
			const result = await runComux(server, input, {...options, fork});
			t.is(result.status, 0, result.stderr);
			t.is(result.stdout.toString(), 'LATE:echo\nafter\n', `fork: ${fork}`);
		}
	});
}

for (const mode of echoModes) {
	test.serial(`echo server (${mode}): fork mode gives the same output, status and stderr as a fresh process for every input`, async t => {
		const server = [echoServerPath, mode, '0'];
		const forks = startComuxForkServer(server, quiet);
		t.teardown(async () => forks.close());
		for (const [index, input] of echoInputs().entries()) {
			const alone = await runComux(server, input, quiet);
			const forked = await forks.replay(input);
			t.deepEqual(outcome(forked), outcome(alone), `input ${index}`);
		}

		t.deepEqual(await forks.close(), {code: 0, signal: null, act: [], warnings: []});
	});
}

test.serial('the verdicts of fork mode: a crash is its signal, an invalid file exits 3 with its place, and the next input is served by a clean copy', async t => {
	const forks = startComuxForkServer([echoServerPath, 'epoll', '0'], quiet);
	t.teardown(async () => forks.close());
	const crash = await forks.replay(comux().conn(0, 'CRASH!\n', {awaitResponse: true}).bytes());
	t.is(crash.signal, 'SIGSEGV');
	t.is(crash.status, 139);
	const invalid = await forks.replay(new Uint8Array([1, 2, 3]));
	t.is(invalid.status, 3);
	t.is(invalid.stderr, 'pdi-comux: bad magic at byte 0\n');
	const file = path.join(scratch, 'ok.comux');
	writeFileSync(file, comux().conn(0, 'from a file\n', {awaitResponse: true}).bytes());
	const fromFile = await forks.replay(file);
	t.is(fromFile.status, 0, fromFile.stderr);
	t.is(fromFile.stdout.toString(), 'from a file\n');
});

test.serial('what the server prints from its exit handlers is in every fork-mode replay\'s output, as in a one-process replay, and an exit handler that aborts is the replay\'s crash', async t => {
	const input = comux().conn(0, 'hi\n', {awaitResponse: true}).bytes();
	const printing = {...quiet, env: {...quiet.env, ECHO_AT_EXIT: 'bye from the exit handler\n'}};
	const alone = await runComux([echoServerPath, 'epoll', '0'], input, printing);
	t.is(alone.stdout.toString(), 'hi\nbye from the exit handler\n', alone.stderr);
	const forks = startComuxForkServer([echoServerPath, 'epoll', '0'], printing);
	t.teardown(async () => forks.close());
	const replays = await Promise.all(Array.from({length: 20}, async () => forks.replay(input)));
	for (const replay of replays) {
		t.is(replay.status, 0, replay.stderr);
		t.is(replay.stdout.toString(), alone.stdout.toString());
	}

	const aborting = {...quiet, env: {...quiet.env, ECHO_AT_EXIT: 'abort'}};
	const crashAlone = await runComux([echoServerPath, 'epoll', '0'], input, aborting);
	t.is(crashAlone.signal, 'SIGABRT', crashAlone.stderr);
	const crashForks = startComuxForkServer([echoServerPath, 'epoll', '0'], aborting);
	t.teardown(async () => crashForks.close());
	for (let round = 0; round < 3; round++) {
		const crash = await crashForks.replay(input);
		t.is(crash.signal, 'SIGABRT', crash.stderr);
		t.is(crash.stdout.toString(), 'hi\n');
	}
});

test.serial('the replay starts at the server\'s first wait for a client, not at a wait for something else after listen() (nginx probes EPOLLRDHUP so), and a fork server forks the ready server', async t => {
	const probing: RunComuxOptions = {env: {...process.env, ECHO_QUIET: '1', ECHO_PROBE: '1'}};
	const input = comux().conn(0, 'hello\n', {awaitResponse: true}).bytes();
	const clientWait: Record<string, string> = {accept: 'accept', accept4: 'accept4', epoll: 'epoll_wait', poll: 'poll', select: 'select'};
	for (const mode of echoModes) {
		const server = [echoServerPath, mode, '0'];
		const alone = await runComux(server, input, {...probing, log: 'stderr'});
		t.is(alone.status, 0, alone.stderr);
		t.regex(alone.stderr, new RegExp(`\nready in process \\d+\n(?:.*\n)*pdi-comux: the server waits for a client in ${clientWait[mode]}\n`), mode);
		const forks = startComuxForkServer(server, probing);
		const first = await forks.replay(input);
		const second = await forks.replay(input);
		await forks.close();
		t.is(first.stdout.toString(), 'hello\n', `${mode}: ${first.stderr}`);
		t.regex(first.stderr, /^ready in process \d+\n$/, mode);
		// Forked at the probe, each child would finish the start itself and print its own pid.
		t.is(second.stderr, first.stderr, `${mode}: the server started once, before the fork server`);
	}
});

test.serial('runComux with fork: true replays one input, and a server that exits before it listens is reported as not serving', async t => {
	const result = await runComux([echoServerPath, 'poll', '0'], comux().conn(0, 'one\n', {awaitResponse: true}).bytes(), {...quiet, fork: true});
	t.is(result.status, 0, result.stderr);
	t.is(result.stdout.toString(), 'one\n');
	const never = await runComux(['/bin/true'], comux().conn(0, 'x', {awaitResponse: true}).bytes(), {fork: true});
	t.is(never.status, COMUX_NOT_SERVING, never.stderr);
	t.true(never.notServing);
});

test.serial('nginx: 40 inputs forked from one server, asked for at once, give what 40 fresh servers give (Date masked), and nothing keeps running', async t => {
	const root = webRoot();
	const spec = nginxCommand(root, await freePort());
	t.teardown(() => {
		rmSync(spec.directory, {recursive: true, force: true});
	});
	const server = [spec.command, ...spec.args];
	const paths = ['/hello.txt', '/index.html', '/nothing-here', '/big.txt'];
	const inputs = Array.from({length: 40}, (_, index) => {
		const builder = comux().conn(0, `GET ${paths[index % 4]} HTTP/1.0\r\n\r\n`, {awaitResponse: true});
		if (index % 5 === 0) {
			builder.conn(1, `GET ${paths[(index + 1) % 4]} HTTP/1.0\r\n\r\n`, {awaitResponse: true});
		}

		return builder.bytes();
	});
	const alone = [];
	for (const input of inputs) {
		alone.push(outcome(await runComux(server, input)));
	}

	// The fork server holds the port from here on. All 40 are asked for at once: they are sent ahead, and each
	// answer still comes with its own input's files.
	const forks = startComuxForkServer(server);
	for (const [index, forked] of (await Promise.all(inputs.map(async input => forks.replay(input)))).entries()) {
		t.deepEqual(outcome(forked), alone[index], `input ${index}`);
		t.is(forked.status, 0);
	}

	t.is((await forks.close()).code, 0);
	t.deepEqual(processesMentioning(spec.directory), []);
});

test.serial('nginx with master_process on: the worker becomes the fork server and each input gets the reply of a fresh server', async t => {
	const root = webRoot();
	const spec = nginxCommand(root, await freePort(), {workers: 2});
	t.teardown(() => {
		rmSync(spec.directory, {recursive: true, force: true});
	});
	const server = [spec.command, ...spec.args];
	const input = comux().conn(0, 'GET /hello.txt HTTP/1.0\r\n\r\n', {awaitResponse: true}).conn(1, 'GET /index.html HTTP/1.0\r\n\r\n', {awaitResponse: true}).bytes();
	const alone = await runComux(server, input);
	t.is(alone.status, 0, alone.stderr);
	const forks = startComuxForkServer(server);
	for (let index = 0; index < 10; index++) {
		t.deepEqual(outcome(await forks.replay(input)), outcome(alone), `input ${index}`);
	}

	t.is((await forks.close()).code, 0);
	t.deepEqual(processesMentioning(spec.directory), []);
});

test.serial('nginx as root with its default user: the workers run as nobody, and fork mode still gives each input the reply of a fresh server, also with a private TMPDIR', async t => {
	const publicRoot = mkdtempSync(path.join(tmpdir(), 'pdi-www-public-'));
	chmodSync(publicRoot, 0o755);
	writeFileSync(path.join(publicRoot, 'hello.txt'), 'hello\n', {mode: 0o644});
	const spec = nginxCommand(publicRoot, await freePort(), {workers: 1, shippedUser: true});
	// mkdtemp makes it 0700: the workers (nobody) cannot reach anything in it.
	const privateTemporary = mkdtempSync(path.join(tmpdir(), 'pdi-private-tmp-'));
	const {TMPDIR: formerTemporary} = process.env;
	t.teardown(() => {
		if (formerTemporary === undefined) {
			delete process.env['TMPDIR'];
		} else {
			process.env['TMPDIR'] = formerTemporary;
		}

		rmSync(spec.directory, {recursive: true, force: true});
		rmSync(publicRoot, {recursive: true, force: true});
		rmSync(privateTemporary, {recursive: true, force: true});
	});
	const server = [spec.command, ...spec.args];
	const input = comux().conn(0, 'GET /hello.txt HTTP/1.0\r\n\r\n', {awaitResponse: true}).bytes();
	const alone = await runComux(server, input);
	t.is(alone.status, 0, alone.stderr);
	t.regex(alone.stdout.toString(), /^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nhello\n$/);
	const scratchParents = [...new Set([tmpdir(), sharedMemoryParent()])];
	// This process's own (its pid is in the name): other test files run fork servers of their own meanwhile.
	const forkScratch = () => scratchParents.flatMap(parent => readdirSync(parent).filter(name => name.startsWith(`pdi-comux-fork-${process.pid}_`)).map(name => path.join(parent, name)));
	const before = new Set(forkScratch());
	for (const temporary of [tmpdir(), privateTemporary]) {
		process.env['TMPDIR'] = temporary;
		const forks = startComuxForkServer(server);
		for (let index = 0; index < 3; index++) {
			t.deepEqual(outcome(await forks.replay(input)), outcome(alone), `TMPDIR=${temporary}: input ${index}`);
		}

		t.is((await forks.close()).code, 0);
		t.deepEqual(processesMentioning(spec.directory), []);
		t.deepEqual(forkScratch().filter(name => !before.has(name)), []);
		t.deepEqual(temporaryEntries(privateTemporary), []);
	}
});

test.serial('fork mode through a wrapper (env, sh -c with a helper command first, a shell script) replays as the server alone does, and so does one that closes the control channel (the guardian gives it back)', async t => {
	const server = [echoServerPath, 'epoll', '0'];
	const script = path.join(scratch, 'wrapper.sh');
	writeFileSync(script, '#!/bin/sh\nhelper=$(echo started)\nexec "$@"\n', {mode: 0o755});
	const input = comux().conn(0, 'one\n', {awaitResponse: true}).conn(1, 'two\n', {awaitResponse: true}).bytes();
	const alone = await runComux(server, input, {...quiet, fork: true});
	t.is(alone.status, 0, alone.stderr);
	t.is(alone.stdout.toString(), 'one\ntwo\n');
	for (const wrapped of [
		['env', ...server],
		['sh', '-c', `true; exec ${server.map(word => shellWord(word)).join(' ')}`],
		[script, ...server],
	]) {
		const forks = startComuxForkServer(wrapped, quiet);
		for (let index = 0; index < 2; index++) {
			t.deepEqual(outcome(await forks.replay(input)), outcome(alone), `${wrapped.join(' ')}: input ${index}`);
		}

		t.is((await forks.close()).code, 0);
	}

	// A wrapper that closes the control channel: the guardian gives it back (docs/comux.md, "The guardian").
	// Before: status 2 and a line saying that a program between pdi and the server closed it.
	const closing = await runComux(['sh', '-c', `exec 3>&-; exec ${server.map(word => shellWord(word)).join(' ')}`], input, {...quiet, fork: true});
	t.deepEqual(outcome(closing), outcome(alone), closing.stderr);
});

test.serial('pdi comux replay --fork reports what pdi comux replay reports, file by file', async t => {
	const directory = mkdtempSync(path.join(scratch, 'corpus-'));
	for (const [index, input] of echoInputs().entries()) {
		writeFileSync(path.join(directory, `input-${String(index).padStart(2, '0')}.comux`), input);
	}

	const env = {...process.env, ECHO_QUIET: '1'};
	type Report = {files: Array<{file: string; verdict: string; status: number | null; signal: string | null; outputBytes: number}>; crashes: number};
	const plain = await pdi(['comux', 'replay', directory, '--json', '--', echoServerPath, 'epoll', '0'], {env, timeout: 300_000});
	const forked = await pdi(['comux', 'replay', directory, '--json', '--fork', '--', echoServerPath, 'epoll', '0'], {env, timeout: 300_000});
	t.is(forked.code, plain.code, forked.stderr);
	const strip = (report: Report) => report.files.map(({file, verdict, status, signal, outputBytes}) => ({file, verdict, status, signal, outputBytes}));
	t.deepEqual(strip(JSON.parse(forked.stdout) as Report), strip(JSON.parse(plain.stdout) as Report));
	t.deepEqual((JSON.parse(forked.stdout) as Report).files.map(entry => entry.verdict).filter(verdict => verdict !== 'ok'), ['crash', 'invalid']);
});

test.serial('a replay --timeout stops keeps the replies it got by then, with --fork as without', async t => {
	// Echoes the first connection, then loops on the second.
	const script = ['import socket', 's = socket.socket()', 's.bind(("127.0.0.1", 0))', 's.listen()', 'c, _ = s.accept()', 'c.sendall(c.recv(100))', 'c.close()', 'c2, _ = s.accept()', 'while True: pass'].join('\n');
	const file = path.join(scratch, 'partial-replies.comux');
	writeFileSync(file, comux().conn(0, 'first reply', {awaitResponse: true}).conn(1, 'never answered', {awaitResponse: true}).bytes());
	for (const fork of [[], ['--fork']]) {
		const result = await pdi(['comux', 'run', ...fork, '--timeout', '1000', '--reply-timeout', '20000', file, '--', '/usr/bin/python3', '-c', script]);
		t.is(result.code, COMUX_HANG, result.stderr);
		t.is(result.stdout, 'first reply', fork.join(''));
	}
});

test.serial('SIGINT to pdi comux run --fork shows what the server and the backend printed and exits 130, as pdi comux run does', async t => {
	const marker = `pdi-fork-sigint-${process.pid}`;
	const script = `import sys, time\nprint("${marker} starting", file=sys.stderr, flush=True)\ntime.sleep(60)`;
	const file = path.join(scratch, 'sigint.comux');
	writeFileSync(file, comux().conn(0, 'x', {awaitResponse: true}).bytes());
	for (const fork of [[], ['--fork']]) {
		const child = spawn(process.execPath, [cliPath, 'comux', 'run', ...fork, file, '--', '/usr/bin/python3', '-c', script], {stdio: ['ignore', 'pipe', 'pipe']});
		let stderr = '';
		child.stderr.on('data', (chunk: Buffer) => {
			stderr += chunk.toString();
		});
		const exited = new Promise<number | null>(resolve => child.once('close', code => {
			resolve(code);
		}));
		const server = () => processesMentioning(marker).filter(pid => pid !== child.pid);
		for (let tries = 0; server().length < 2 && tries < 200; tries++) {
			await delay(25);
		}

		await delay(500); // the server prints its line
		child.kill('SIGINT');
		t.is(await exited, 130, stderr);
		t.is(stderr, `${marker} starting\npdi-comux: the server was stopped by signal 2 (Interrupt) before it listened\n`, fork.join(''));
		t.deepEqual(server(), []);
	}
});

test.serial('pdi comux run --fork prints the replies and exits with the replay status', async t => {
	const file = path.join(scratch, 'run.comux');
	writeFileSync(file, comux().conn(0, 'ping\n', {awaitResponse: true}).conn(1, 'CRASH!', {awaitResponse: true}).bytes());
	const result = await pdi(['comux', 'run', '--fork', file, '--', echoServerPath, 'accept4', '0'], {env: {...process.env, ECHO_QUIET: '1'}});
	t.is(result.code, 139, result.stderr);
	t.is(result.stdout, 'ping\n');
});

test.serial('--timeout stops a replay the same way with and without --fork: exit 4 at the limit before the server listened, 5 (a hang) during a replay, signal SIGTERM in the report', async t => {
	const looping = ['import socket', 's = socket.socket()', 's.bind(("127.0.0.1", 0))', 's.listen()', 'c, _ = s.accept()', 'c.recv(100)', 'while True: pass'].join('\n');
	const file = path.join(scratch, 'timeout.comux');
	writeFileSync(file, comux().conn(0, 'hi', {awaitResponse: true, noShutdown: true}).bytes());
	const servers = {sleeping: ['/bin/sleep', '30'], looping: ['/usr/bin/python3', '-c', looping]};
	for (const fork of [[], ['--fork']]) {
		for (const [name, server] of Object.entries(servers)) {
			const started = Date.now();
			const result = await pdi(['comux', 'run', ...fork, '--timeout', '500', '--reply-timeout', '20000', file, '--', ...server]);
			const elapsed = Date.now() - started;
			const expected = name === 'sleeping' ? COMUX_NOT_SERVING : COMUX_HANG;
			t.is(result.code, expected, `${name} ${fork.join('')}: ${result.stderr}`);
			t.regex(result.stderr, name === 'sleeping' ? /pdi: the server did not wait for a client within 500 ms \(--timeout\) and was stopped\n$/ : /pdi: the replay took longer than 500 ms and was stopped\n$/);
			// Against the 20 s reply timeout and the 30 s sleep: stopped by --timeout, however loaded the machine.
			t.true(elapsed < 10_000, `${name} ${fork.join('')}: stopped after ${elapsed} ms`);
		}
	}

	const forked = await runComux(servers.looping, readFileSync(file), {fork: true, timeout: 500, replyTimeoutMs: 20_000});
	const alone = await runComux(servers.looping, readFileSync(file), {timeout: 500, replyTimeoutMs: 20_000});
	t.like(forked, {timedOut: true, status: null, exitCode: null, signal: 'SIGTERM', hung: false});
	t.like(alone, {timedOut: true, status: null, exitCode: null, signal: 'SIGTERM', hung: false});
	const directory = mkdtempSync(path.join(scratch, 'timeout-'));
	writeFileSync(path.join(directory, 'loop.comux'), readFileSync(file));
	const verdicts = [];
	for (const fork of [[], ['--fork']]) {
		const report = await pdi(['comux', 'replay', '--json', ...fork, '--timeout', '500', '--reply-timeout', '20000', directory, '--', ...servers.looping]);
		verdicts.push((JSON.parse(report.stdout) as {files: Array<{verdict: string; signal: string; stderr: string}>}).files.map(({verdict, signal, stderr}) => ({verdict, signal, stderr})));
		// The report says why, as pdi comux run does; the server and the backend said nothing.
		const text = await pdi(['comux', 'replay', ...fork, '--timeout', '500', '--reply-timeout', '20000', directory, '--', ...servers.looping]);
		t.regex(text.stdout, /\n\nloop\.comux: pdi: the replay took longer than 500 ms and was stopped\n$/);
	}

	const stopped = {verdict: 'hang', signal: 'SIGTERM', stderr: 'pdi: the replay took longer than 500 ms and was stopped\n'};
	t.deepEqual(verdicts, [[stopped], [stopped]]);
});

test.serial('a server that forks a child per connection (as busybox httpd and mini_httpd do): a crash of that child is the replay\'s crash, with one line naming it, with and without fork mode', async t => {
	const server = [echoServerPath, 'accept', '0'];
	const options: RunComuxOptions = {env: {...process.env, ECHO_QUIET: '1', ECHO_FORK: '1'}};
	const crashing = comux().conn(0, 'first\n', {awaitResponse: true}).conn(1, 'CRASH! in the child of the second connection\n', {awaitResponse: true}).bytes();
	const healthy = comux().conn(0, 'first\n', {awaitResponse: true}).conn(1, 'second\n', {awaitResponse: true}).bytes();
	const forks = startComuxForkServer(server, options);
	t.teardown(async () => forks.close());
	for (const [how, replay] of [['alone', async (input: Uint8Array) => runComux(server, input, options)], ['forked', async (input: Uint8Array) => forks.replay(input)]] as const) {
		const crash = await replay(crashing);
		t.is(crash.signal, 'SIGSEGV', `${how}: ${crash.stderr}`);
		t.is(crash.status, 139, how);
		t.is(crash.stdout.toString(), 'first\n', how);
		t.regex(crash.stderr, /^pdi-comux: process \d+, which the server forked, was killed by signal 11 \(Segmentation fault\): the replay ends so\n$/, how);
		const fine = await replay(healthy);
		t.is(fine.status, 0, `${how}: ${fine.stderr}`);
		t.is(fine.stdout.toString(), 'first\nsecond\n', how);
		t.is(fine.stderr, '', how);
	}
});

test.serial('pdi comux replay --fork names the signal of an abort() SIGABRT, as pdi comux replay does, not its alias SIGIOT', async t => {
	const directory = mkdtempSync(path.join(scratch, 'abort-'));
	writeFileSync(path.join(directory, 'abort.comux'), comux().conn(0, 'ABORT! now\n', {awaitResponse: true}).bytes());
	const env = {...process.env, ECHO_QUIET: '1'};
	for (const fork of [[], ['--fork']]) {
		const result = await pdi(['comux', 'replay', directory, '--json', ...fork, '--', echoServerPath, 'epoll', '0'], {env});
		t.is(result.code, 1, result.stderr);
		const report = JSON.parse(result.stdout) as {files: Array<{verdict: string; status: number; signal: string}>};
		t.like(report.files[0], {verdict: 'crash', status: 134, signal: 'SIGABRT'}, fork.join(''));
	}
});

test.serial('a wrong PDI_COMUX_FORK, a missing control channel, a PDI_COMUX_LOG that cannot be opened or a time that is no number of milliseconds is one line and exit 2, before the server runs', t => {
	const config = path.join(scratch, 'comux.cfg');
	writeFileSync(config, compileConfig(comuxConfig()));
	const run = (variables: Record<string, string>) => spawnSync(echoServerPath, ['epoll', '0'], {
		env: {...process.env, LD_PRELOAD: preloadPath(), PDI_CONFIG: config, ...variables},
		stdio: ['ignore', 'pipe', 'pipe'],
		timeout: 30_000,
	});
	const wrong = run({PDI_COMUX_FORK: 'yes'});
	t.is(wrong.status, 2);
	t.is(wrong.stderr.toString(), 'pdi-comux: PDI_COMUX_FORK: expected 1 or afl, got \'yes\'\n');
	t.is(wrong.stdout.toString(), '', 'the server never started');
	const noChannel = run({PDI_COMUX_FORK: '1', PDI_COMUX_CONTROL: '57'});
	t.is(noChannel.status, 2);
	t.is(noChannel.stderr.toString(), 'pdi-comux: PDI_COMUX_FORK=1 needs PDI_COMUX_CONTROL, the descriptor of pdi\'s control channel (got \'57\')\n');
	const log = path.join(scratch, 'no-such-directory', 'comux.log');
	const noLog = run({PDI_COMUX_LOG: log});
	t.is(noLog.status, 2);
	t.is(noLog.stderr.toString(), `pdi-comux: PDI_COMUX_LOG: cannot open '${log}': No such file or directory\n`);
	t.is(noLog.stdout.toString(), '', 'the server never started');
	// Before, taken for the default (2000 ms) without a word: the false hangs a larger timeout was to end came back.
	for (const [name, value, shown] of [['PDI_COMUX_TIMEOUT_MS', '300ms', '300ms'], ['PDI_COMUX_TIMEOUT_MS', '-1', '-1'], ['PDI_COMUX_IDLE_MS', 'abc\n', 'abc\\x0a'], ['PDI_COMUX_IDLE_MS', '99999999999999999999', '99999999999999999999']]) {
		const bad = run({[name!]: value!});
		t.is(bad.status, 2, name);
		t.is(bad.stderr.toString(), `pdi-comux: ${name}: expected a whole number of milliseconds from 0 to 86400000, got '${shown}'\n`);
		t.is(bad.stdout.toString(), '', 'the server never started');
	}

	t.deepEqual(readdirSync(scratch).filter(name => name.startsWith('pdi-comux-fork-')), []);
});

test.serial('run by hand with pdi comux config --afl, an invalid input is the reader\'s one line and status 3, with no second line about a process that replayed', async t => {
	const config = path.join(scratch, 'afl-by-hand.cfg');
	const printed = await pdi(['comux', 'config', '--afl', '-o', config]);
	t.is(printed.code, 0, printed.stderr);
	// The way docs/comux.md gives (before: eval "$(...)", whose failure goes unseen and would run afl-fuzz anyway).
	t.true(printed.stdout.startsWith('# pdi comux config --afl: env=$(pdi comux config --afl) && eval "$env", then afl-fuzz '), printed.stdout);
	const variables = Object.fromEntries([...printed.stdout.matchAll(/^export (\w+)='([^']*)'$/gm)].map(([, name, value]) => [name!, value!]));
	const valid = comux().conn(0, 'one\n', {awaitResponse: true}).bytes();
	const run = (input: Uint8Array) => spawnSync(echoServerPath, ['epoll', '0'], {
		env: {...process.env, ...variables, LD_PRELOAD: variables.AFL_PRELOAD},
		input,
		timeout: 30_000,
	});
	const truncated = run(valid.subarray(0, valid.length - 2));
	t.is(truncated.status, 3);
	// Before: also 'process N, which replayed, exited with status 3 before its first chunk, before the replay was over: ...'.
	t.regex(truncated.stderr.toString(), /^pdi-comux: truncated data of chunk 0 \(only 2 of its 4 bytes\) at byte \d+\n$/);
	const replayed = run(valid);
	t.is(replayed.status, 0, replayed.stderr.toString());
	t.regex(replayed.stdout.toString(), /one\n$/);
});

test('runComux() and startComuxForkServer() refuse a time limit that is not a whole number of milliseconds a timer holds, naming the option, before anything starts', async t => {
	const input = comux().conn(0, 'one\n', {awaitResponse: true}).bytes();
	// Before: 1e11 (over a Node timer's limit) and -5 stopped the replay at once (timedOut, status null); with fork, a RangeError.
	for (const [options, message] of [
		[{timeout: 1e11}, 'timeout: expected a whole number of milliseconds (1 to 2147483647), got 100000000000'],
		[{timeout: -5}, 'timeout: expected a whole number of milliseconds (1 to 2147483647), got -5'],
		[{timeout: 1e11, fork: true}, 'timeout: expected a whole number of milliseconds (1 to 2147483647), got 100000000000'],
		[{replyTimeoutMs: 1.5}, 'replyTimeoutMs: expected a whole number of milliseconds (0 to 86400000), got 1.5'],
		[{idleMs: '50'}, 'idleMs: expected a whole number of milliseconds (0 to 86400000), got \'50\''],
	] as const) {
		await t.throwsAsync(runComux([echoServerPath, 'epoll', '0'], input, options as never), {instanceOf: PdiError, message}, JSON.stringify(options));
	}

	t.throws(() => startComuxForkServer([echoServerPath, 'epoll', '0'], {timeout: 2 ** 31}), {instanceOf: PdiError, message: 'timeout: expected a whole number of milliseconds (1 to 2147483647), got 2147483648'});
});

test.serial('replay() after close() rejects with a PdiError instead of giving the fork server\'s exit as a replay\'s result, and a server given as a string is refused naming it', async t => {
	const forks = startComuxForkServer([echoServerPath, 'epoll', '0'], quiet);
	const input = comux().conn(0, 'one\n', {awaitResponse: true}).bytes();
	t.is((await forks.replay(input)).status, 0);
	t.deepEqual(await forks.close(), {code: 0, signal: null, act: [], warnings: []});
	await t.throwsAsync(forks.replay(input), {instanceOf: PdiError, message: /^replay\(\): the fork server was closed/});
	t.deepEqual(await forks.close(), {code: 0, signal: null, act: [], warnings: []});

	const message = `server: expected an array of strings, the program and its arguments (['./server', '-p', '80']), got '${echoServerPath}'`;
	await t.throwsAsync(runComux(echoServerPath as never, input), {instanceOf: PdiError, message});
	t.throws(() => startComuxForkServer(echoServerPath as never), {instanceOf: PdiError, message});
	const misspelled = /^unknown option 'timout' \(did you mean 'timeout'\?\); the options are env, cwd, timeout, /;
	await t.throwsAsync(runComux([echoServerPath, 'epoll', '0'], input, {timout: 5} as never), {instanceOf: PdiError, message: misspelled});
	t.throws(() => startComuxForkServer([echoServerPath, 'epoll', '0'], {timout: 5} as never), {instanceOf: PdiError, message: misspelled});
});

test.serial('runComux(), startComuxForkServer() and replay() refuse an option of the wrong type, an empty server and an input that is neither bytes nor a file name with a PdiError naming it, and start nothing', async t => {
	// The server by a name of this test's own: other test files run echo servers at the same time.
	const program = path.join(mkdtempSync(path.join(scratch, 'refusing-')), 'echo-server');
	symlinkSync(echoServerPath, program);
	const server = [program, 'epoll', '0'];
	const input = comux().conn(0, 'one\n', {awaitResponse: true}).bytes();
	const wrongTypes: Array<[RunComuxOptions, string]> = [
		[{timeout: 'x'} as never, 'timeout: expected a whole number of milliseconds (1 to 2147483647), got \'x\''],
		[{timeout: 0}, 'timeout: expected a whole number of milliseconds (1 to 2147483647), got 0'],
		[{idleMs: 1.5}, 'idleMs: expected a whole number of milliseconds (0 to 86400000), got 1.5'],
		[{replyTimeoutMs: -1}, 'replyTimeoutMs: expected a whole number of milliseconds (0 to 86400000), got -1'],
		[{noWait: 'yes'} as never, 'noWait: expected true or false, got \'yes\''],
		[{fork: 1} as never, 'fork: expected true or false, got 1'],
		[{log: true} as never, 'log: expected \'stderr\' or a file name, got true'],
		[{env: 'A=1'} as never, 'env: expected an object of variables, got \'A=1\''],
	];
	for (const [options, message] of wrongTypes) {
		await t.throwsAsync(runComux(server, input, options), {instanceOf: PdiError, message}, JSON.stringify(options));
		t.throws(() => startComuxForkServer(server, options), {instanceOf: PdiError, message}, JSON.stringify(options));
	}

	for (const empty of [[], ['']]) {
		await t.throwsAsync(runComux(empty, input), {instanceOf: PdiError, message: `server: the program is missing, got ${JSON.stringify(empty)}`});
		await t.throwsAsync(runComux(empty, input, {fork: true}), {instanceOf: PdiError, message: `server: the program is missing, got ${JSON.stringify(empty)}`});
	}

	await t.throwsAsync(runComux(null as never, input), {instanceOf: PdiError, message: /^server: expected an array of strings, .* got null$/});
	const notInput = 'input: expected the bytes of a comux file (a Uint8Array, as comux().bytes() gives) or its file name, got 5';
	await t.throwsAsync(runComux(server, 5 as never), {instanceOf: PdiError, message: notInput});
	await t.throwsAsync(runComux(server, 5 as never, {fork: true}), {instanceOf: PdiError, message: notInput});
	const forks = startComuxForkServer(server, quiet);
	await t.throwsAsync(forks.replay(5 as never), {instanceOf: PdiError, message: notInput});
	t.is((await forks.replay(input)).status, 0, 'a refused input leaves the fork server as it was');
	await forks.close();
	t.deepEqual(processesMentioning(program), []);
});

// The guardian's abstract socket is in the network namespace it started in: a wrapper that closes the control
// channel in a namespace of its own (unshare -n, which needs root) cannot have it back.
(process.getuid?.() === 0 ? test.serial : test.skip)('pdi comux replay --fork exits 1 when the fork server ended before it answered, marking those files never replayed (a wrapper that closes the control channel where the guardian cannot give it back)', async t => {
	const directory = mkdtempSync(path.join(scratch, 'closed-control-'));
	for (const name of ['a', 'b']) {
		writeFileSync(path.join(directory, `${name}.comux`), comux().conn(0, 'ping\n', {awaitResponse: true}).bytes());
	}

	const server = ['unshare', '-n', '/bin/sh', '-c', `exec 3>&-; exec ${shellWord(echoServerPath)} epoll 0`];
	const one = await pdi(['comux', 'run', '--fork', path.join(directory, 'a.comux'), '--', ...server], {timeout: 60_000, env: {...process.env, ECHO_QUIET: '1'}});
	t.is(one.code, 2);
	t.regex(one.stderr, /^pdi-comux: process \d+ closed pdi's descriptors before it waited for a client, and its guardian \d+ cannot give them back from here \(another network namespace, as with unshare -n, cannot reach it\)\npdi-comux: pdi's control channel \(PDI_COMUX_CONTROL=3\) is gone in process \d+, which waits for a client \(fd 3 is another file now\): the server, or a program between pdi and it, closed it\n/);
	// Before: each file 'exit 2' and status 0, as if every input had been replayed.
	const text = await pdi(['comux', 'replay', '--fork', directory, '--', ...server], {timeout: 60_000, env: {...process.env, ECHO_QUIET: '1'}});
	t.is(text.code, 1, text.stderr);
	t.regex(text.stdout, /^2 files: 2 exit \(2 never replayed: the fork server ended before it answered for them\)$/m);
	const json = await pdi(['comux', 'replay', '--fork', '--json', directory, '--', ...server], {timeout: 60_000, env: {...process.env, ECHO_QUIET: '1'}});
	t.is(json.code, 1, json.stderr);
	const report = JSON.parse(json.stdout) as {files: Array<{verdict: string; unanswered?: boolean}>; notServing: number};
	t.deepEqual(report.files.map(({verdict, unanswered}) => [verdict, unanswered]), [['exit', true], ['exit', true]]);
	t.is(report.notServing, 2);
});

test.serial('a fork server that dies while it serves (its own timer here) leaves the inputs it did not answer for with its end, and a line saying that it is the fork server\'s, not the input\'s', async t => {
	// SIGALRM ends the fork server 2 s after its start; each child (fork clears the alarm) busy-answers "slow" in 1.2 s.
	const script = ['import signal, socket, time', 'signal.alarm(2)', 's = socket.socket()', 's.bind(("127.0.0.1", 0))', 's.listen()', 'while True:', '  c, _ = s.accept()', '  d = c.recv(100)',
		'  t = time.time()', '  while b"slow" in d and time.time() - t < 1.2: pass', '  c.sendall(d)', '  c.close()'].join('\n');
	const directory = mkdtempSync(path.join(scratch, 'alarm-'));
	for (const [name, data] of [['a', 'fast'], ['b', 'slow'], ['c', 'slow'], ['d', 'fast']]) {
		writeFileSync(path.join(directory, `${name}.comux`), comux().conn(0, data!, {awaitResponse: true}).bytes());
	}

	const result = await pdi(['comux', 'replay', '--fork', '--json', directory, '--', '/usr/bin/python3', '-c', script], {timeout: 60_000});
	t.is(result.code, 1, result.stderr);
	const files = (JSON.parse(result.stdout) as {files: Array<{file: string; verdict: string; signal: string | null; stderr: string}>}).files;
	const note = 'pdi: the fork server was killed by SIGALRM before it answered for this input: that is the fork server\'s end, not this input\'s\n';
	t.like(files[0], {verdict: 'ok', stderr: ''});
	t.like(files.at(-1), {verdict: 'crash', signal: 'SIGALRM', stderr: note});
	for (const entry of files) {
		t.true(entry.verdict === 'ok' || (entry.signal === 'SIGALRM' && entry.stderr === note), JSON.stringify(entry));
	}
});
