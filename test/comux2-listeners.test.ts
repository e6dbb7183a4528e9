import {execFile} from 'node:child_process';
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {promisify} from 'node:util';
import test from 'ava';
import {comux} from '../src/ts/comux/builder.js';
import {COMUX_NOT_SERVING, runComux} from '../src/ts/comux/replay.js';
import {freePort} from './helpers/servers.js';

const directory = mkdtempSync(path.join(tmpdir(), 'pdi-comux2-listeners-'));
test.after.always(() => {
	rmSync(directory, {recursive: true, force: true});
});

// Listens on the ports given (TCP, in that order; "udp" before a port: a datagram socket), and greets each connection
// with the port it came on.
const server = String.raw`
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
int main(int argc, char **argv) {
	struct pollfd sockets[8];
	int ports[8], count = 0;
	for (int i = 1; i < argc && count < 8; i++) {
		int udp = strcmp(argv[i], "udp") == 0;
		if (udp)
			i++;
		int s = socket(AF_INET, udp ? SOCK_DGRAM : SOCK_STREAM, 0), one = 1;
		setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[i])), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		if (bind(s, (struct sockaddr *)&a, sizeof a) != 0 || (!udp && listen(s, 16) != 0))
			return 1;
		sockets[count] = (struct pollfd){s, POLLIN, 0};
		ports[count++] = udp ? -1 : atoi(argv[i]);
	}
	for (;;) {
		poll(sockets, count, -1);
		for (int i = 0; i < count; i++) {
			if (!(sockets[i].revents & POLLIN) || ports[i] < 0)
				continue;
			int c = accept(sockets[i].fd, NULL, NULL);
			char text[32];
			write(c, text, snprintf(text, sizeof text, "port %d\n", ports[i]));
			close(c);
		}
	}
}
`;

test('a server listening on two ports is replayed on the first one it listened on; a server with only a UDP socket never listens (status 4)', async t => {
	writeFileSync(path.join(directory, 'server.c'), server);
	const program = path.join(directory, 'server');
	await promisify(execFile)('gcc', ['-O1', '-o', program, 'server.c'], {cwd: directory});
	const [first, second] = [await freePort(), await freePort()];
	const input = comux().conn(0, 'a', {awaitResponse: true}).conn(1, 'b', {awaitResponse: true}).conn(2, 'c', {awaitResponse: true}).bytes();
	for (const [ports, expected] of [[[first, second], first], [[second, first], second]] as const) {
		const result = await runComux([program, ...ports.map(String)], input);
		t.is(result.status, 0, result.stderr);
		t.is(result.stdout.toString(), `port ${expected}\n`.repeat(3));
	}

	const udp = await runComux([program, 'udp', String(first)], input, {timeout: 3000});
	t.is(udp.exitCode, COMUX_NOT_SERVING);
	t.true(udp.notServing);
	t.regex(udp.stderr, /before it listened/);
});
