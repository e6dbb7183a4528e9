// docs/comux.md, "Large requests": a chunk larger than the sockets' buffers, sent to a server that answers while it
// reads. Before, the controller sent the whole chunk before reading a byte of the reply: both sides' buffers filled
// and the replay waited for ever (16 MiB to an echo server; nginx with a long pipelined stream), with no timeout.
import {randomBytes} from 'node:crypto';
import test from 'ava';
import {comux} from '../src/ts/comux/builder.js';
import {runComux} from '../src/ts/comux/replay.js';
import {compileC, scratchDirectory} from './helpers/files.js';
import {echoServerPath, freePort} from './helpers/servers.js';

const request = randomBytes(16 << 20);

for (const fork of [false, true]) {
	for (const mode of ['accept', 'epoll']) {
		test(`a 16 MiB chunk to an echo server (${mode}${fork ? ', fork mode' : ''}) comes back whole and in order, the echo collected while it is sent`, async t => {
			const port = await freePort();
			const input = comux().conn(0, request, {awaitResponse: true}).bytes();
			const run = await runComux([echoServerPath, mode, String(port)], input, {fork, timeout: 60_000});
			t.is(run.status, 0, run.stderr);
			const banner = `listening on ${port}\n`;
			t.is(run.stdout.subarray(0, banner.length).toString(), banner);
			t.is(run.stdout.length, banner.length + request.length);
			t.true(run.stdout.subarray(banner.length).equals(request));
		});
	}
}

// Accepts one client and never reads from it: asleep, or spinning with `spin`.
const neverReads = `#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
int main(int argc, char **argv) {
  int listener = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1])), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (bind(listener, (struct sockaddr *)&address, sizeof address) != 0 || listen(listener, 4) != 0) return 1;
  int client = accept(listener, NULL, NULL);
  if (argc > 2 && strcmp(argv[2], "spin") == 0) for (volatile int forever = 1; forever;) {}
  sleep(60);
  return client < 0;
}
`;

test('a server that stops reading a large chunk: asleep, the rest is not sent and one line says so; spinning, the replay is a hang', async t => {
	const server = compileC(scratchDirectory('pdi-comux-large-request-'), 'never-reads', neverReads);
	const input = comux().conn(0, request, {awaitResponse: true}).bytes();
	const asleep = await runComux([server, String(await freePort())], input, {replyTimeoutMs: 300, timeout: 30_000});
	t.is(asleep.status, 0, asleep.stderr);
	t.regex(asleep.stderr, /^pdi-comux: chunk 0: the server read nothing more of it for 300 ms: its last \d+ bytes were not sent$/m);
	const spinning = await runComux([server, String(await freePort()), 'spin'], input, {replyTimeoutMs: 300, timeout: 30_000});
	t.is(spinning.status, 5, spinning.stderr);
	t.regex(spinning.stderr, /^pdi-comux: the server read nothing more of chunk 0 within 300 ms and is still running: it hangs$/m);
});
