import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import test from 'ava';
import {comux} from '../src/ts/comux/builder.js';
import {runComux} from '../src/ts/comux/replay.js';
import {echoServerPath, freePort} from './helpers/servers.js';

const directory = mkdtempSync(path.join(tmpdir(), 'pdi-comux6-threads-'));
test.after.always(() => {
	rmSync(directory, {recursive: true, force: true});
});

const nodeServer = `
const net = require('node:net');
net.createServer(socket => socket.pipe(socket)).listen(Number(process.argv[2]), '127.0.0.1');
`;

const input = comux().conn(0, 'hello\n', {awaitResponse: true}).bytes();
const warning = /^pdi-comux: fork mode: process \d+ has \d+ threads when it waits for a client, and the child forked for each input has only the one that waits: a server that needs the others crashes or hangs in every child; replay it without fork mode$/m;

test('fork mode says in one line that a server with threads (Node.js) is forked without them; a single-threaded one replays without it', async t => {
	const script = path.join(directory, 'server.js');
	writeFileSync(script, nodeServer);
	const server = [process.execPath, script, String(await freePort())];
	const plain = await runComux(server, input, {timeout: 15_000});
	t.is(plain.status, 0, plain.stderr);
	t.is(plain.stdout.toString(), 'hello\n');
	t.notRegex(plain.stderr, /threads/);

	const forked = await runComux(server, input, {fork: true, timeout: 15_000});
	t.regex(forked.stderr, warning);
	t.is(forked.stderr.match(new RegExp(warning.source, 'gm'))?.length, 1);

	const echo = await runComux([echoServerPath, 'epoll', String(await freePort())], input, {fork: true, timeout: 15_000});
	t.is(echo.status, 0, echo.stderr);
	t.regex(echo.stdout.toString(), /hello\n$/);
	t.notRegex(echo.stderr, /threads/);
});
