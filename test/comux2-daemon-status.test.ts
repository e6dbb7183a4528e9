import {execFile} from 'node:child_process';
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {promisify} from 'node:util';
import test from 'ava';
import {comux} from '../src/ts/comux/builder.js';
import {COMUX_NOT_SERVING, runComux} from '../src/ts/comux/replay.js';

const directory = mkdtempSync(path.join(tmpdir(), 'pdi-comux2-daemon-'));
test.after.always(() => {
	rmSync(directory, {recursive: true, force: true});
});

// Daemonizes as daemons do (fork, setsid, fork; each parent exits 0), then fails before it listens: exits with the
// status given, or crashes for "segv".
const daemon = String.raw`
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
int main(int argc, char **argv) {
	if (argc < 2 || fork() != 0)
		_exit(0);
	setsid();
	if (fork() != 0)
		_exit(0);
	usleep(100000);
	if (strcmp(argv[1], "segv") == 0)
		*(volatile int *)0 = 1;
	exit(atoi(argv[1]));
}
`;

test('a daemon that fails after its first process exited 0 is reported by its own end (status 4), with and without fork mode; a daemon whose processes all exit 0 is still the server exiting with status 0', async t => {
	writeFileSync(path.join(directory, 'daemon.c'), daemon);
	const program = path.join(directory, 'daemon');
	await promisify(execFile)('gcc', ['-O1', '-o', program, 'daemon.c'], {cwd: directory});
	const input = comux().conn(0, 'x', {awaitResponse: true}).bytes();
	for (const fork of [false, true]) {
		for (const [argument, line] of [
			['9', /^pdi-comux: process \d+, which the server forked, exited with status 9 before it listened$/m],
			['segv', /^pdi-comux: process \d+, which the server forked, was killed by signal 11 \(Segmentation fault\) before it listened$/m],
			['0', /^pdi-comux: the server exited with status 0 before it listened$/m],
		] as const) {
			const result = await runComux([program, argument], input, {fork, timeout: 10_000});
			t.is(result.status, COMUX_NOT_SERVING, `${argument}, fork ${fork}: ${result.stderr}`);
			t.true(result.notServing);
			t.regex(result.stderr, line, `fork ${fork}`);
		}
	}
});
