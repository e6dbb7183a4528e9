import {spawn} from 'node:child_process';
import {existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import test from 'ava';
import {comux} from '../src/ts/comux/builder.js';
import {startComuxForkServer} from '../src/ts/comux/fork-server.js';
import {runComux, type RunComuxOptions} from '../src/ts/comux/replay.js';
import {cliPath, collectOutput, pdi} from './helpers/cli.js';
import {
	bigText, busyboxHttpdCommand, echoModes, echoServerPath, freePort, lighttpdCommand, miniHttpdCommand, nginxCommand, plainExchange, startEcho,
	processesMentioning, startServer, webfsdCommand, webRoot,
	type Step,
} from './helpers/servers.js';
import {preloadPath} from './helpers/preload.js';

const quiet: RunComuxOptions = {env: {...process.env, ECHO_QUIET: '1'}};
const encoder = new TextEncoder();
const scratch = mkdtempSync(path.join(tmpdir(), 'pdi-comux-replay-'));
test.after.always(() => {
	rmSync(scratch, {recursive: true, force: true});
});

function step(conn: number, data: string | Uint8Array, awaitResponse: boolean, noShutdown = false): Step {
	return {conn, data: typeof data === 'string' ? encoder.encode(data) : data, awaitResponse, noShutdown};
}

/** The comux file for steps, in step order (sched = position). */
function toComux(steps: readonly Step[]): Uint8Array {
	const builder = comux();
	for (const entry of steps) {
		builder.conn(entry.conn, entry.data, {awaitResponse: entry.awaitResponse, noShutdown: entry.noShutdown ?? false});
	}

	return builder.bytes();
}

function deterministicBytes(size: number, seed: number): Uint8Array {
	const bytes = new Uint8Array(size);
	let state = seed;
	for (let index = 0; index < size; index++) {
		state = (state * 1_103_515_245 + 12_345) >>> 0;
		bytes[index] = state >>> 24;
	}

	return bytes;
}

const echoConversation: Step[] = [
	step(0, 'hello ', true),
	step(0, 'world', false),
	step(1, 'second connection', true),
	step(1, deterministicBytes(100_000, 7), false),
	step(2, 'third, not awaited, collected after its last chunk', false),
];

for (const mode of echoModes) {
	test.serial(`echo server (${mode}): a replay gives exactly what a plain client gets, and the server exits 0 by itself`, async t => {
		const server = await startEcho(mode);
		const expected = await plainExchange(server.port, echoConversation);
		await server.stop();
		const result = await runComux([echoServerPath, mode, '0'], toComux(echoConversation), quiet);
		t.is(result.status, 0, result.stderr);
		t.false(result.timedOut);
		t.true(result.stdout.equals(expected), `replay ${result.stdout.length} bytes, plain ${expected.length} bytes`);
	});
}

const maskDate = (reply: Buffer) => reply.toString('latin1').replaceAll(/^Date: .*\r$/gm, 'Date: (masked)\r');

const httpConversation: Step[] = [
	step(0, 'GET /hello.txt HTTP/1.0\r\n\r\n', true),
	step(1, 'GET /index.html HTTP/1.0\r\nUser-Agent: pdi\r\n\r\n', true),
	step(2, 'GET /nothing-here HTTP/1.0\r\n\r\n', true),
	step(3, 'GET /big.txt HTT', false),
	step(3, 'P/1.0\r\n\r\n', true),
	step(4, 'GET /hello.txt HTTP/1.1\r\nHost: localhost\r\n\r\n', true, true),
];

for (const [name, command] of [
	['nginx', nginxCommand], ['lighttpd', lighttpdCommand], ['busybox httpd', busyboxHttpdCommand], ['mini_httpd', miniHttpdCommand],
	['webfsd', webfsdCommand],
] as const) {
	test.serial(`${name} as shipped: a multi-connection replay gives what a plain client gets (Date masked), then exits 0`, async t => {
		const root = webRoot();
		const port = await freePort();
		const spec = command(root, port);
		t.teardown(() => {
			rmSync(spec.directory, {recursive: true, force: true});
		});
		const server = await startServer(spec);
		// A reply's body may follow its headers after a pause on a loaded machine (busybox and mini_httpd fork a child per
		// connection): both clients, plain and replay, wait up to 500 ms of silence.
		const expected = await plainExchange(port, httpConversation, {idleMs: 500, timeoutMs: 10_000});
		await server.stop();
		t.regex(expected.toString('latin1'), /200 OK[\s\S]*hello\n/i); // mini_httpd says "200 Ok"
		t.true(expected.toString('latin1').includes(bigText()), `the plain client got ${expected.length} bytes, ending ${JSON.stringify(expected.subarray(-200).toString('latin1'))}`);
		const result = await runComux([spec.command, ...spec.args], toComux(httpConversation), {idleMs: 500});
		t.is(result.status, 0, result.stderr);
		t.false(result.timedOut, 'the keep-alive connection (no shutdown) must not stall the replay');
		t.is(maskDate(result.stdout), maskDate(expected));
	});
}

test.serial('stdin as a pipe, stdin as a file and PDI_COMUX_INPUT give identical output', async t => {
	const input = toComux(echoConversation);
	const file = path.join(scratch, 'conversation.comux');
	writeFileSync(file, input);
	const piped = await runComux([echoServerPath, 'epoll', '0'], input, quiet);
	const fromFile = await runComux([echoServerPath, 'epoll', '0'], file, quiet);
	const fromVariable = await runComux([echoServerPath, 'epoll', '0'], new Uint8Array(), {env: {...process.env, ECHO_QUIET: '1', PDI_COMUX_INPUT: file}});
	t.is(piped.status, 0, piped.stderr);
	t.true(piped.stdout.length > 100_000);
	t.true(fromFile.stdout.equals(piped.stdout));
	t.true(fromVariable.stdout.equals(piped.stdout));
});

test.serial('a 1 MiB chunk arrives byte-exact', async t => {
	const chunk = deterministicBytes(1024 * 1024, 42);
	const result = await runComux([echoServerPath, 'epoll', '0'], toComux([step(0, chunk, true)]), quiet);
	t.is(result.status, 0, result.stderr);
	t.true(result.stdout.equals(Buffer.from(chunk)));
});

test.serial('300 chunks on one connection all arrive, in order', async t => {
	const steps = Array.from({length: 300}, (_, index) => step(0, `chunk ${index}\n`, false));
	const result = await runComux([echoServerPath, 'poll', '0'], toComux(steps), quiet);
	t.is(result.status, 0, result.stderr);
	t.is(result.stdout.toString(), steps.map(entry => Buffer.from(entry.data).toString()).join(''));
});

test.serial('2000 connections in one file replay without running out of descriptors', async t => {
	const steps = Array.from({length: 2000}, (_, index) => step(index, `connection ${index}\n`, false));
	const result = await runComux([echoServerPath, 'epoll', '0'], toComux(steps), {...quiet, timeout: 120_000});
	t.is(result.status, 0, result.stderr);
	t.is(result.stdout.toString(), steps.map(entry => Buffer.from(entry.data).toString()).join(''));
});

test.serial('PDI_COMUX_NO_WAIT gives byte-identical output over 20 runs', async t => {
	const input = toComux(echoConversation);
	const outputs: Buffer[] = [];
	for (let run = 0; run < 20; run++) {
		const result = await runComux([echoServerPath, 'epoll', '0'], input, {...quiet, noWait: true});
		t.is(result.status, 0, result.stderr);
		outputs.push(result.stdout);
	}

	t.true(outputs[0]!.length > 100_000);
	t.true(outputs.every(output => output.equals(outputs[0]!)));
});

function header(conns: number, chunks: number, version = 0): Buffer {
	const bytes = Buffer.alloc(20);
	bytes.write('comux!!!', 0, 'latin1');
	bytes.writeUInt32LE(version, 8);
	bytes.writeUInt32LE(conns, 12);
	bytes.writeUInt32LE(chunks, 16);
	return bytes;
}

function chunkHeader(conn: number, length: bigint, sched: number, flags: number): Buffer {
	const bytes = Buffer.alloc(20);
	bytes.writeUInt32LE(conn, 0);
	bytes.writeBigUInt64LE(length, 4);
	bytes.writeUInt32LE(sched, 12);
	bytes.writeUInt32LE(flags, 16);
	return bytes;
}

const valid = Buffer.concat([header(1, 1), chunkHeader(0, 2n, 0, 1), Buffer.from('hi')]);
const invalidInputs: Array<[string, Buffer, string]> = [
	['bad magic', Buffer.from('COMUX!!!xxxxxxxxxxxx'), 'bad magic at byte 0'],
	['a version other than 0', Buffer.concat([header(1, 1, 1), chunkHeader(0, 2n, 0, 1), Buffer.from('hi')]), 'unsupported version 1 at byte 8'],
	['a truncated header', valid.subarray(0, 15), 'truncated header (only 15 of its 20 bytes) at byte 0'],
	['a truncated chunk', valid.subarray(0, 41), 'truncated data of chunk 0 (only 1 of its 2 bytes) at byte 40'],
	['a conn id out of range', Buffer.concat([header(1, 1), chunkHeader(1, 2n, 0, 1), Buffer.from('hi')]), 'chunk 0: conn_id 1 is not below num_conns 1 at byte 20'],
	['a connection without chunks', Buffer.concat([header(2, 1), chunkHeader(0, 2n, 0, 1), Buffer.from('hi')]), 'connection 1 has no chunk at byte 12'],
	['num_chunks beyond the limit', header(1, 2_000_000), 'num_chunks 2000000 exceeds the limit 1048576 at byte 16'],
	['len beyond the limit', Buffer.concat([header(1, 1), chunkHeader(0, 1n << 40n, 0, 1)]), 'chunk 0: len 1099511627776 exceeds the limit 67108864 at byte 24'],
	['trailing bytes', Buffer.concat([valid, Buffer.from('xyz')]), '3 trailing bytes at byte 42'],
];

const markingServer = path.join(scratch, 'marking-server.sh');
writeFileSync(markingServer, '#!/bin/sh\ntouch "$PDI_TEST_MARK"\nexec "$PDI_TEST_ECHO" epoll 0\n', {mode: 0o755});

for (const [what, input, message] of invalidInputs) {
	test.serial(`invalid input (${what}) exits 3 with its place and never starts the server, with and without fork`, async t => {
		for (const fork of [false, true]) {
			const mark = path.join(scratch, `started-${what.replaceAll(' ', '-')}-${fork}`);

			const result = await runComux([markingServer], input, {fork, env: {...process.env, PDI_TEST_MARK: mark, PDI_TEST_ECHO: echoServerPath}});
			t.deepEqual([result.status, result.stderr, result.stdout.length], [3, `pdi-comux: ${message}\n`, 0], `fork: ${fork}`);
			t.false(existsSync(mark), `fork: ${fork}`);
		}
	});
}

test.serial('pdi comux run replays one file and prints the replies', async t => {
	const file = path.join(scratch, 'run.comux');
	writeFileSync(file, toComux([step(0, 'ping\n', true)]));
	const result = await pdi(['comux', 'run', file, '--', echoServerPath, 'accept', '0'], {env: {...process.env, ECHO_QUIET: '1'}});
	t.is(result.code, 0, result.stderr);
	t.is(result.stdout, 'ping\n');
});

test.serial('pdi comux replay of 50 files reports each one and flags the crashing input', async t => {
	const directory = mkdtempSync(path.join(scratch, 'corpus-'));
	for (let index = 0; index < 50; index++) {
		const data = index === 17 ? 'CRASH! now\n' : `file ${index}\n`;
		writeFileSync(path.join(directory, `input-${String(index).padStart(2, '0')}.comux`), toComux([step(0, data, true)]));
	}

	const result = await pdi(['comux', 'replay', directory, '--json', '--', echoServerPath, 'epoll', '0'], {env: {...process.env, ECHO_QUIET: '1'}, timeout: 300_000});
	t.is(result.code, 1, result.stderr);
	const report = JSON.parse(result.stdout) as {files: Array<{file: string; verdict: string; signal: string | null; outputBytes: number}>; crashes: number};
	t.is(report.files.length, 50);
	t.is(report.crashes, 1);
	const crashed = report.files.filter(entry => entry.verdict === 'crash');
	t.deepEqual(crashed.map(entry => path.basename(entry.file)), ['input-17.comux']);
	t.is(crashed[0]?.signal, 'SIGSEGV');
	t.true(report.files.filter(entry => entry.verdict === 'ok').every(entry => entry.outputBytes > 0));
	const table = await pdi(['comux', 'replay', directory, '--', echoServerPath, 'poll', '0'], {env: {...process.env, ECHO_QUIET: '1'}, timeout: 300_000});
	t.is(table.code, 1);
	t.regex(table.stdout, /^input-17\.comux\s+crash\s+139\s+SIGSEGV/m);
	t.regex(table.stdout, /50 files: 49 ok, 1 crash/);
});

test.serial('pdi comux config writes the bundled redefine rules, and a server started by hand with it replays', async t => {
	const config = path.join(scratch, 'comux.cfg');
	const written = await pdi(['comux', 'config', '-o', config]);
	t.is(written.code, 0, written.stderr);
	const text = (await import('node:fs')).readFileSync(config, 'utf8');
	for (const name of ['listen', 'accept', 'accept4', 'epoll_ctl', 'epoll_wait', 'epoll_pwait', 'poll', 'ppoll', 'select', 'pselect', '_exit', '_Exit']) {
		t.regex(text, new RegExp(`^redefine \\* ${name} comux comux_${name}$`, 'm'));
	}

	const input = path.join(scratch, 'by-hand.comux');
	writeFileSync(input, toComux([step(0, 'by hand\n', true)]));
	const {execFileSync} = await import('node:child_process');
	const output = execFileSync(echoServerPath, ['select', '0'], {
		env: {...process.env, ECHO_QUIET: '1', LD_PRELOAD: preloadPath(), PDI_CONFIG: config, PDI_COMUX_INPUT: input},
		stdio: ['ignore', 'pipe', 'pipe'],
		// A server the core never reached waits for clients forever: the test must not leave it running.
		timeout: 30_000,
	});
	t.is(output.toString(), 'by hand\n');
});

test.serial('pdi comux replay says why each file did not end well, and --fork judges invalid files as invalid even when the server never listens', async t => {
	const directory = mkdtempSync(path.join(scratch, 'reasons-'));
	writeFileSync(path.join(directory, 'a-valid.comux'), toComux([step(0, 'hello\n', true)]));
	writeFileSync(path.join(directory, 'b-garbage.comux'), 'garbage');
	// /bin/false ends before it waits for a client: the valid file is never served.
	const reports = [];
	for (const fork of [[], ['--fork']]) {
		const result = await pdi(['comux', 'replay', directory, '--json', ...fork, '--', '/bin/false']);
		t.is(result.code, 1, result.stderr);
		const report = JSON.parse(result.stdout) as {files: Array<{file: string; verdict: string; status: number; stderr: string}>};
		reports.push(report.files.map(({file, verdict, status, stderr}) => ({file: path.basename(file), verdict, status, stderr})));
	}

	t.deepEqual(reports[0], [
		{file: 'a-valid.comux', verdict: 'no-listen', status: 4, stderr: 'pdi-comux: the server exited with status 1 before it listened\n'},
		{file: 'b-garbage.comux', verdict: 'invalid', status: 3, stderr: 'pdi-comux: bad magic at byte 0\n'},
	]);
	t.deepEqual(reports[1], reports[0]);
	const table = await pdi(['comux', 'replay', directory, '--', '/bin/false']);
	t.regex(table.stdout, /\n\na-valid\.comux: pdi-comux: the server exited with status 1 before it listened\nb-garbage\.comux: pdi-comux: bad magic at byte 0\n$/);
});

// Was counted nowhere in --json. The status stays 0: an afl-fuzz queue holds invalid inputs as a matter of course.
test.serial('pdi comux replay counts an invalid file among good ones in --json, and exits 0 for it', async t => {
	const directory = mkdtempSync(path.join(scratch, 'invalid-'));
	writeFileSync(path.join(directory, 'a-valid.comux'), toComux([step(0, 'hello\n', true)]));
	writeFileSync(path.join(directory, 'b-request.txt'), 'GET / HTTP/1.0\r\n\r\n');
	for (const fork of [[], ['--fork']]) {
		const result = await pdi(['comux', 'replay', directory, '--json', ...fork, '--', echoServerPath, 'accept', '0']);
		t.is(result.code, 0, result.stderr);
		const report = JSON.parse(result.stdout) as {files: Array<{verdict: string}>; crashes: number; notServing: number; invalid: number};
		t.deepEqual([report.files.map(file => file.verdict), report.crashes, report.notServing, report.invalid], [['ok', 'invalid'], 0, 0, 1], fork.join(''));
	}
});

test.serial('a chunk on a connection that a busy one-at-a-time server has not accepted yet gets an empty reply after the idle time, not after the 2000 ms reply timeout (which afl-fuzz -t 2000 took for a hang), with and without fork mode', async t => {
	// The accept mode serves one connection until its client shuts down: connection 1 waits in the accept queue while the server reads connection 0.
	const input = comux()
		.conn(0, 'first\n', {awaitResponse: true})
		.conn(1, 'second\n', {awaitResponse: true})
		.conn(0, 'end\n', {awaitResponse: true})
		.bytes();
	for (const fork of [false, true]) {
		// A reply timeout far above the idle time, so that the bound below tells them apart on a loaded machine.
		const result = await runComux([echoServerPath, 'accept', '0'], input, {...quiet, fork, replyTimeoutMs: 20_000});
		t.is(result.status, 0, result.stderr);
		t.false(result.hung);
		t.is(result.stdout.toString(), 'first\nend\n');
		t.true(result.durationMs < 10_000, `fork ${String(fork)}: ${result.durationMs} ms`);
	}

	const idleOnly = await runComux([echoServerPath, 'accept', '0'], input, {...quiet, env: {...quiet.env, PDI_COMUX_IDLE_ONLY: '1'}});
	t.is(idleOnly.stdout.toString(), 'first\nend\n');
	t.true(idleOnly.durationMs >= 2000, 'PDI_COMUX_IDLE_ONLY=1 waits for the reply timeout as before');
});

test.serial('the server gets one event at a time: each replay of an input whose connects, data, ends and closes could fall into one wake takes the same path, with and without fork mode', async t => {
	// Connection 0's data, connection 1's connect and data, each end of file and
	// the close of connection 0 followed by connection 2's connect follow each
	// other without a reply awaited in between.
	const input = comux()
		.conn(0, 'a', {awaitResponse: false})
		.conn(1, 'bb', {awaitResponse: false})
		.conn(0, 'ccc', {awaitResponse: false, noShutdown: true})
		.conn(2, 'e', {awaitResponse: false})
		.conn(1, 'dddd', {awaitResponse: false})
		.conn(3, '', {awaitResponse: false, noShutdown: true}) // its close is the replay's last step
		.bytes();
	const expected = ['accept 0', 'read 0 1', 'accept 1', 'read 1 2', 'read 0 3', 'eof 0', 'accept 2', 'read 2 1', 'eof 2', 'read 1 4', 'eof 1', 'accept 3', 'eof 3'].join('\n') + '\n';
	for (const fork of [false, true]) {
		const events = path.join(scratch, `events-${fork ? 'fork' : 'process'}`);
		// The pacing waits at most the idle time for the server to come to rest, then stops waiting: on a loaded
		// machine 50 ms may pass with the server runnable but not run, so the test gives it longer.
		const options: RunComuxOptions = {env: {...process.env, ECHO_QUIET: '1', ECHO_EVENTS: events}, idleMs: 2000};
		if (fork) {
			const forks = startComuxForkServer([echoServerPath, 'epoll', '0'], options);
			try {
				for (let run = 0; run < 20; run++) {
					writeFileSync(events, ''); // the fork server holds it open
					const result = await forks.replay(input);
					t.is(result.status, 0, result.stderr);
					t.is(readFileSync(events, 'utf8'), expected, `fork mode, replay ${run}`);
				}
			} finally {
				await forks.close();
			}
		} else {
			for (let run = 0; run < 10; run++) {
				rmSync(events, {force: true});
				const result = await runComux([echoServerPath, 'epoll', '0'], input, options);
				t.is(result.status, 0, result.stderr);
				t.is(readFileSync(events, 'utf8'), expected, `one process per input, replay ${run}`);
			}
		}
	}
});

test.serial('Ctrl-C (SIGINT) during pdi comux replay prints the report of the files replayed by then and says where it stopped, with and without --fork, --json too', async t => {
	const looping = path.join(scratch, `looping-${process.pid}`);
	// Echoes each connection; loops on one that says "loop", once it has noted so in a file.
	const script = ['import socket', 's = socket.socket()', 's.bind(("127.0.0.1", 0))', 's.listen()', 'while True:', '  c, _ = s.accept()', '  d = c.recv(100)',
		`  if b"loop" in d: open(${JSON.stringify(looping)}, "w").close()`, '  while b"loop" in d: pass', '  c.sendall(d)', '  c.close()'].join('\n');
	const directory = path.join(scratch, 'interrupted');
	mkdirSync(directory);
	for (const [name, data] of [['a', 'ping'], ['b', 'pong'], ['c', 'loop'], ['d', 'never']]) {
		writeFileSync(path.join(directory, `${name}.comux`), comux().conn(0, data!, {awaitResponse: true}).bytes());
	}

	for (const options of [[], ['--fork'], ['--json'], ['--json', '--fork']]) {
		rmSync(looping, {force: true});
		const child = spawn(process.execPath, [cliPath, 'comux', 'replay', ...options, '--reply-timeout', '20000', directory, '--', '/usr/bin/python3', '-c', script], {stdio: ['ignore', 'pipe', 'pipe']});
		const output = collectOutput(child);
		for (let tries = 0; !existsSync(looping) && tries < 400; tries++) {
			await new Promise(resolve => setTimeout(resolve, 25));
		}

		child.kill('SIGINT');
		t.is(await output.closed, 130, output.stderr());
		t.is(output.stderr(), 'pdi: SIGINT stopped the replays after 2 of 4 files, reported above\n', options.join(' '));
		if (options.includes('--json')) {
			const report = JSON.parse(output.stdout()) as {files: Array<{file: string; verdict: string}>; stopped: string};
			t.deepEqual(report.files.map(({file, verdict}) => [path.basename(file), verdict]), [['a.comux', 'ok'], ['b.comux', 'ok']]);
			t.is(report.stopped, 'SIGINT');
		} else {
			t.regex(output.stdout(), /^a\.comux +ok +0 .*\nb\.comux +ok +0 .*\n\n2 files: 2 ok\n$/m);
		}

		t.deepEqual(processesMentioning(looping), []);
	}
});
