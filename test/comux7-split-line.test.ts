import test from 'ava';
import {comux} from '../src/ts/comux/builder.js';
import {runComux} from '../src/ts/comux/replay.js';
import {compileC, scratchDirectory} from './helpers/files.js';
import {freePort, loopbackServerSource} from './helpers/servers.js';

// A line server (poll, one answer per line) and a line split over two chunks after a reply: the last piece, a byte,
// stayed in the client socket for the server's delayed ACK (Nagle), the rest test found the server's queues empty and
// closed the connection, so the answer to that line was lost with status 0; a server that wrote again after the close
// died of SIGPIPE, which AFL++ kept as a crash.
const scratch = scratchDirectory('pdi-comux-split-line-');
const server = compileC(scratch, 'lines', loopbackServerSource(`
		char line[256];
		size_t used = 0;
		for (;;) {
			struct pollfd wait = {.fd = client, .events = POLLIN};
			char byte;
			if (poll(&wait, 1, -1) != 1 || read(client, &byte, 1) != 1)
				break;
			if (byte != '\\n' && used < sizeof line - 1) {
				line[used++] = byte;
				continue;
			}
			/* Two writes: a second one after the peer closed is a SIGPIPE. */
			if (write(client, "got ", 4) != 4 || write(client, line, used) != (ssize_t)used || write(client, "\\n", 1) != 1)
				return 1;
			used = 0;
		}`), ['-O1']);

test('a line split over chunks after a reply is answered whole: the last piece is not held back while the replay sees the server at rest', async t => {
	const port = await freePort();
	const ends = comux().conn(0, 'one\n').conn(0, 'tw', {awaitResponse: true}).conn(0, 'o\n', {noShutdown: true}).bytes();
	const goesOn = comux().conn(0, 'a\n').conn(0, 'b', {awaitResponse: true}).conn(0, '\nc\n').conn(0, 'd\n', {noShutdown: true}).bytes();
	for (const fork of [false, true]) {
		for (let run = 0; run < 3; run++) {
			const first = await runComux([server, String(port)], ends, {fork, timeout: 10_000});
			t.deepEqual([first.status, first.signal, first.stdout.toString()], [0, null, 'got one\ngot two\n'], `fork: ${fork}, run ${run}: ${first.stderr}`);
			const second = await runComux([server, String(port)], goesOn, {fork, timeout: 10_000});
			t.deepEqual([second.status, second.signal, second.stdout.toString()], [0, null, 'got a\ngot b\ngot c\ngot d\n'], `fork: ${fork}, run ${run}: ${second.stderr}`);
		}
	}
});
