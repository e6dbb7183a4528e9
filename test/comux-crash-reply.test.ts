import test from 'ava';
import {comux} from '../src/ts/comux/builder.js';
import {startComuxForkServer} from '../src/ts/comux/fork-server.js';
import {runComux} from '../src/ts/comux/replay.js';
import {compileC, scratchDirectory} from './helpers/files.js';
import {freePort, loopbackServerSource} from './helpers/servers.js';

// A server that answers a request and then crashes: its answer is in the controller's socket when the fatal signal
// comes, and the signal's default action ended the process before the controller read it, so the reply to the
// request that crashed the server, the one a crash triage wants, was never in the output, with or without fork mode.
const scratch = scratchDirectory('pdi-comux-crash-reply-');
const server = compileC(scratch, 'replycrash', loopbackServerSource(`
		char buffer[256];
		ssize_t n;
		while ((n = read(client, buffer, sizeof buffer)) > 0) {
			if (write(client, buffer, (size_t)n) != n)
				return 1;
			if (buffer[0] == 'Q')
				*(volatile int *)0 = 1;
		}`), ['-O1']);
const input = comux().conn(0, 'hello', {awaitResponse: true}).conn(0, 'Quit', {awaitResponse: true}).bytes();

test('the reply a server wrote just before it crashed is in the output, in one process and in fork mode, and the crash is still the verdict', async t => {
	const port = await freePort();
	for (const fork of [false, true]) {
		for (let run = 0; run < 3; run++) {
			const result = await runComux([server, String(port)], input, {fork, timeout: 10_000});
			t.is(result.signal, 'SIGSEGV', result.stderr);
			t.is(result.stdout.toString(), 'helloQuit', `fork: ${fork}, run ${run}`);
		}
	}

	const forks = startComuxForkServer([server, String(port)], {timeout: 10_000});
	t.teardown(async () => forks.close());
	const crashed = await forks.replay(input);
	t.deepEqual([crashed.signal, crashed.stdout.toString()], ['SIGSEGV', 'helloQuit']);
	const next = await forks.replay(comux().conn(0, 'again', {awaitResponse: true}).bytes());
	t.deepEqual([next.status, next.stdout.toString()], [0, 'again'], 'the fork server serves on');
});
