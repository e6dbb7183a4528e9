import {copyFileSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {comux} from '../src/ts/comux/builder.js';
import {runComux} from '../src/ts/comux/replay.js';
import {pdi} from './helpers/cli.js';
import {compileC, scratchDirectory} from './helpers/files.js';

// A server that forks a handler per connection is never at rest while a handler lives (a parent with a child), so
// the end of its replay looked at nothing: a handler that spun after a partial reply ended as status 0 (docs/comux.md).
const scratch = scratchDirectory('pdi-comux7-handler-hang-');

// Forks a handler per connection that echoes, and on 'H' writes "partial" and spins.
const server = compileC(scratch, 'forker', String.raw`
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
int main(void) {
	signal(SIGCHLD, SIG_IGN);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {0};
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(0x7f000001);
	if (bind(s, (void *)&a, sizeof a) || listen(s, 8)) return 1;
	for (;;) {
		int c = accept(s, 0, 0);
		if (c < 0) continue;
		if (fork() == 0) {
			close(s);
			char b[100];
			ssize_t n;
			while ((n = read(c, b, sizeof b)) > 0) {
				if (memchr(b, 'H', n)) { write(c, "partial", 7); for (;;); }
				write(c, b, n);
			}
			_exit(0);
		}
		close(c);
	}
}
`);

function input(name: string, second: string): string {
	const file = path.join(scratch, `${name}.comux`);
	writeFileSync(file, comux().conn(0, 'x', {awaitResponse: true}).conn(1, second, {awaitResponse: true}).bytes());
	return file;
}

for (const fork of [false, true]) {
	test(`a forked handler that spins after a partial reply is a hang, and handlers that wait are not${fork ? ' (--fork)' : ''}`, async t => {
		const options = ['comux', 'run', '--reply-timeout', '500', ...(fork ? ['--fork'] : [])];
		const hang = await pdi([...options, input('hang', 'H'), '--', server]);
		t.deepEqual([hang.code, hang.stdout], [5, 'xpartial'], hang.stderr);
		t.regex(hang.stderr, /^pdi-comux: a process the server forked was still running 500 ms after the replay's last reply, instead of waiting or ending: it hangs$/m);
		const fine = await pdi([...options, input('fine', 'y'), '--', server]);
		t.deepEqual([fine.code, fine.stdout, fine.stderr], [0, 'xy', '']);
	});
}

test('pdi comux replay and runComux() call such a handler\'s run a hang', async t => {
	const directory = path.join(scratch, 'replayed');
	mkdirSync(directory);
	copyFileSync(input('hang', 'H'), path.join(directory, 'a-hang.comux'));
	copyFileSync(input('fine', 'y'), path.join(directory, 'b-fine.comux'));
	for (const fork of [[], ['--fork']]) {
		const replay = await pdi(['comux', 'replay', '--reply-timeout', '500', ...fork, directory, '--', server]);
		t.is(replay.code, 1, replay.stdout + replay.stderr);
		t.deepEqual(replay.stdout.split('\n').filter(line => /^\S+\.comux\s/.test(line)).map(line => line.split(/\s+/).slice(0, 3).join(' ')),
			['a-hang.comux hang 5', 'b-fine.comux ok 0'], fork.join(''));
	}

	const result = await runComux([server], readFileSync(path.join(directory, 'a-hang.comux')), {replyTimeoutMs: 500});
	t.deepEqual([result.status, result.hung], [5, true]);
});
