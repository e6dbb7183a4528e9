import {mkdirSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {comux} from '../src/ts/comux/builder.js';
import {pdi} from './helpers/cli.js';
import {compileC, scratchDirectory} from './helpers/files.js';

// A child of the fork server that ended while one of its replay's connections still waited in the listening socket's
// accept queue left it there, bytes and all, and the next input's child accepted it first: the input after a crash
// crashed too (docs/comux.md, "Fork mode").
const scratch = scratchDirectory('pdi-comux7-queued-');

// Serves one connection at a time on an ephemeral port: echoes, crashes on '#', exits 7 on 'Q'.
const server = compileC(scratch, 'one-at-a-time', String.raw`
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
int main(void) {
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {0};
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(0x7f000001);
	if (bind(s, (void *)&a, sizeof a) || listen(s, 8)) return 1;
	for (;;) {
		int c = accept(s, 0, 0);
		char b[100];
		ssize_t n;
		while ((n = read(c, b, sizeof b)) > 0) {
			if (memchr(b, '#', n)) { volatile int *p = 0; *p = 1; }
			write(c, b, n);
			if (memchr(b, 'Q', n)) { usleep(100000); exit(7); }
		}
		close(c);
	}
}
`);

function inputs(name: string, first: Uint8Array): string {
	const directory = path.join(scratch, name);
	mkdirSync(directory);
	writeFileSync(path.join(directory, 'a.comux'), first);
	writeFileSync(path.join(directory, 'b.comux'), comux().conn(0, 'hello', {awaitResponse: true}).bytes());
	writeFileSync(path.join(directory, 'c.comux'), comux().conn(0, 'world', {awaitResponse: true}).bytes());
	return directory;
}

const verdicts = (report: string): string[] => report.split('\n').filter(line => line.endsWith('.comux') || /\.comux\s/.test(line))
	.map(line => line.split(/\s+/).filter((_, index) => index !== 4).join(' '));

for (const [name, first, expected] of [
	['crash', comux().conn(0, 'x', {awaitResponse: true}).conn(1, '#').conn(0, '#').bytes(), 'a.comux crash 139 SIGSEGV 1'],
	['exit', comux().conn(0, 'Q', {awaitResponse: true}).conn(1, '#', {awaitResponse: true}).bytes(), 'a.comux exit 7 - 1'],
] as const) {
	test(`after an input whose server ${name === 'crash' ? 'crashed' : 'exited'} with a connection unaccepted, the next inputs replay as they do alone`, async t => {
		const directory = inputs(name, first);
		const alone = await pdi(['comux', 'replay', directory, '--', server]);
		const forked = await pdi(['comux', 'replay', '--fork', directory, '--', server]);
		const lines = [expected, 'b.comux ok 0 - 5', 'c.comux ok 0 - 5'];
		t.deepEqual(verdicts(alone.stdout), lines, alone.stdout + alone.stderr);
		t.deepEqual(verdicts(forked.stdout), lines, forked.stdout + forked.stderr);
	});
}
