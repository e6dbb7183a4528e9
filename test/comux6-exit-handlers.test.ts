import {execFile} from 'node:child_process';
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {promisify} from 'node:util';
import test from 'ava';
import {comux} from '../src/ts/comux/builder.js';
import {startComuxForkServer} from '../src/ts/comux/fork-server.js';
import {runComux} from '../src/ts/comux/replay.js';
import {freePort} from './helpers/servers.js';

const directory = mkdtempSync(path.join(tmpdir(), 'pdi-comux6-exit-'));
test.after.always(() => {
	rmSync(directory, {recursive: true, force: true});
});

// As socat does: the main thread blocks in accept() and echoes each connection; an exit handler shuts down the
// listening socket, and accept() failing is an error, exit(1). The replay ends with exit(0) in the controller thread,
// which runs the handler: "busy" then keeps running for 30 ms (socat's other handlers), "join" waits until the main
// thread says it has stopped (as a handler that joins the thread it woke).
const server = String.raw`
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
static int listener, stopped[2], join;
static void at_exit(void) {
	shutdown(listener, SHUT_RDWR);
	char byte;
	if (join) {
		read(stopped[0], &byte, 1);
		return;
	}
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	do
		clock_gettime(CLOCK_MONOTONIC, &now);
	while ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 < 30);
}
int main(int argc, char **argv) {
	join = strcmp(argv[2], "join") == 0;
	pipe(stopped);
	listener = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1])), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	if (bind(listener, (struct sockaddr *)&a, sizeof a) != 0 || listen(listener, 16) != 0)
		return 2;
	atexit(at_exit);
	for (;;) {
		int c = accept(listener, NULL, NULL);
		if (c < 0) {
			fprintf(stderr, "accept: %m\n");
			if (join) {
				write(stopped[1], "x", 1);
				pause();
			}
			exit(1);
		}
		char text[64];
		ssize_t n;
		while ((n = read(c, text, sizeof text)) > 0)
			write(c, text, n);
		close(c);
	}
}
`;

test('a server whose exit handler makes its accept() fail ends the replay with status 0, every time, and one that waits for that thread does not hang', async t => {
	writeFileSync(path.join(directory, 'server.c'), server);
	const program = path.join(directory, 'server');
	await promisify(execFile)('gcc', ['-O1', '-o', program, 'server.c'], {cwd: directory});
	const input = comux().conn(0, 'hello\n', {awaitResponse: true}).conn(1, 'world\n', {awaitResponse: true}).bytes();
	const port = String(await freePort());
	for (let run = 0; run < 5; run++) {
		const result = await runComux([program, port, 'busy'], input, {timeout: 10_000});
		t.is(result.stdout.toString(), 'hello\nworld\n');
		t.is(result.status, 0, `run ${run}: ${result.stderr}`);
		t.false(result.stderr.includes('accept:'), result.stderr);
	}

	const joined = await runComux([program, port, 'join'], input, {timeout: 10_000});
	t.false(joined.timedOut);
	t.is(joined.status, 0, joined.stderr);
	t.is(joined.stdout.toString(), 'hello\nworld\n');
	t.true(joined.durationMs < 5000);
});

test('in fork mode, a child whose exit handler shuts down the listening socket (socat) leaves it listening for the next child', async t => {
	writeFileSync(path.join(directory, 'forked.c'), server);
	const program = path.join(directory, 'forked');
	await promisify(execFile)('gcc', ['-O1', '-o', program, 'forked.c'], {cwd: directory});
	const forks = startComuxForkServer([program, String(await freePort()), 'busy'], {timeout: 10_000});
	try {
		for (const word of ['one', 'two', 'three']) {
			const result = await forks.replay(comux().conn(0, `${word}\n`, {awaitResponse: true}).bytes());
			t.is(result.status, 0, `${word}: ${result.stderr}`);
			t.is(result.stdout.toString(), `${word}\n`, result.stderr);
		}
	} finally {
		await forks.close();
	}
});
