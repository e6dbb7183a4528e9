// The helpers behind the comux tests: the echo server in every mode, nginx and
// lighttpd in the foreground, and the plain reference client.
import {readFileSync, rmSync} from 'node:fs';
import path from 'node:path';
import test, {type ExecutionContext} from 'ava';
import {
	bigText,
	echoModes,
	freePort,
	lighttpdCommand,
	nginxCommand,
	plainExchange,
	plainExchangeSteps,
	processesMentioning,
	startEcho,
	startServer,
	webRoot,
	type RunningServer,
	type ServerSpec,
	type Step,
} from './helpers/servers.js';

const text = (value: string): Uint8Array => Buffer.from(value);

/** 256 KiB that is not a repetition of the write size, to see partial writes reassembled. */
const large = Buffer.alloc(256 * 1024, 0).map((_, index) => (index * 7 + (index >> 10)) & 0xff);

/** Two connections open at once; conn 1 only reads after conn 0 is done, so this works one-at-a-time too. */
const overlapping: Step[] = [
	{conn: 0, data: text('hello from 0\n'), awaitResponse: true},
	{conn: 1, data: text('first from 1\n'), awaitResponse: false},
	{conn: 0, data: large, awaitResponse: true},
	{conn: 0, data: text('bye from 0\n'), awaitResponse: true},
	{conn: 1, data: text('second from 1\n'), awaitResponse: false},
];

/** Two connections answered alternately: needs a server that serves both at once. */
const interleaved: Step[] = [
	{conn: 0, data: text('a0'), awaitResponse: true},
	{conn: 1, data: text('b0'), awaitResponse: true},
	{conn: 0, data: text('a1'), awaitResponse: true},
	{conn: 1, data: text('b1'), awaitResponse: true, noShutdown: true},
	{conn: 0, data: text('a2'), awaitResponse: false},
];

/** Stops the server and checks it is gone, and (given its temp directory) that nothing it started is left. */
async function stopCleanly(t: ExecutionContext, server: RunningServer, directory?: string): Promise<void> {
	const exit = await server.stop();
	t.true(exit.signal === 'SIGTERM' || exit.code === 0, `unexpected exit: ${JSON.stringify(exit)}`);
	t.throws(() => process.kill(server.pid, 0), {code: 'ESRCH'});
	if (directory !== undefined) {
		t.deepEqual(processesMentioning(directory), []);
	}
}

for (const mode of echoModes) {
	test.serial(`echoserver ${mode} echoes two overlapping connections`, async t => {
		const server = await startEcho(mode);
		t.teardown(server.stop);
		t.true(server.port > 0);
		const replies = await plainExchangeSteps(server.port, overlapping);
		t.deepEqual(replies.map(reply => reply.length), [13, 0, large.length, 11, 27]);
		t.deepEqual(replies[2], Buffer.from(large));
		t.is(Buffer.concat(replies).toString('latin1'), [
			'hello from 0\n', Buffer.from(large).toString('latin1'), 'bye from 0\n', 'first from 1\nsecond from 1\n',
		].join(''));
		await stopCleanly(t, server);
	});
}

for (const mode of ['epoll', 'poll', 'select'] as const) {
	test.serial(`echoserver ${mode} answers two connections alternately`, async t => {
		const server = await startEcho(mode);
		t.teardown(server.stop);
		const replies = await plainExchangeSteps(server.port, interleaved);
		t.deepEqual(replies.map(reply => reply.toString()), ['a0', 'b0', 'a1', 'b1', 'a2']);
		await server.stop();
	});
}

test.serial('a reply ends after the idle time when the server keeps the connection open', async t => {
	const server = await startEcho('epoll');
	t.teardown(server.stop);
	const started = Date.now();
	// 50 ms idle against a 10 s time-out: far apart, whatever the machine's load.
	const reply = await plainExchange(server.port, [{conn: 0, data: text('ping'), awaitResponse: true, noShutdown: true}], {timeoutMs: 10_000});
	t.is(reply.toString(), 'ping');
	t.true(Date.now() - started < 5000);
	await server.stop();
});

function httpParts(reply: Buffer): {status: string; headers: string; body: Buffer} {
	const split = reply.indexOf('\r\n\r\n');
	if (split < 0) {
		return {status: reply.toString('latin1'), headers: '', body: Buffer.alloc(0)};
	}

	const head = reply.subarray(0, split).toString('latin1');
	const lineEnd = head.indexOf('\r\n');
	return {
		status: lineEnd < 0 ? head : head.slice(0, lineEnd),
		headers: lineEnd < 0 ? '' : head.slice(lineEnd + 2),
		body: reply.subarray(split + 4),
	};
}

const webServers: Array<[string, (root: string, port: number) => ServerSpec]> = [
	['nginx', nginxCommand],
	['lighttpd', lighttpdCommand],
];

for (const [name, command] of webServers) {
	test.serial(`${name} serves the web root in the foreground and stops cleanly`, async t => {
		const www = webRoot();
		const spec = command(www, await freePort());
		t.teardown(() => {
			rmSync(spec.directory, {recursive: true, force: true});
		});
		const server = await startServer(spec);
		t.teardown(server.stop);
		t.is(server.port, spec.port);

		const hello = httpParts(await plainExchange(server.port, [{conn: 0, data: text('GET /hello.txt HTTP/1.0\r\n\r\n'), awaitResponse: true}]));
		t.regex(hello.status, /^HTTP\/1\.[01] 200 OK$/);
		t.regex(hello.headers, /^Content-Type: text\/plain/im);
		t.is(hello.body.toString(), 'hello\n');

		// Two connections at once: a keep-alive HTTP/1.1 one and a big file.
		const [index, big] = await plainExchangeSteps(server.port, [
			{conn: 0, data: text('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n'), awaitResponse: true},
			{conn: 1, data: text('GET /big.txt HTTP/1.0\r\n\r\n'), awaitResponse: true},
			{conn: 0, data: new Uint8Array(0), awaitResponse: false},
		]);
		const page = httpParts(index!);
		t.regex(page.status, /^HTTP\/1\.1 200 OK$/);
		t.is(page.body.toString(), readFileSync(path.join(www, 'index.html'), 'utf8'));
		const file = httpParts(big!);
		t.regex(file.status, /^HTTP\/1\.[01] 200 OK$/);
		t.regex(file.headers, /^Content-Length: 204800$/im);
		t.is(file.body.toString(), bigText());

		await stopCleanly(t, server, spec.directory);
	});
}

test.serial('freePort returns a port that can be listened on', async t => {
	const port = await freePort();
	t.true(port > 0 && port < 65536);
	const server = await startEcho('accept', {port});
	t.teardown(server.stop);
	t.is(server.port, port);
	await server.stop();
});
