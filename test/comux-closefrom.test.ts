import {spawnSync} from 'node:child_process';
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {comux} from '../src/ts/comux/builder.js';
import {pdi} from './helpers/cli.js';
import {compileC, scratchDirectory} from './helpers/files.js';

const directory = scratchDirectory('pdi-comux-closefrom-');
// Daemonizes, closes every descriptor it did not open (as daemons do), opens its log argv[2] argv[1] times (so that its
// own files take the numbers pdi's copies had), then echoes what each client sends.
const daemon = compileC(directory, 'closing-daemon', String.raw`
#define _GNU_SOURCE
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
int main(int argc, char **argv) {
	if (fork() > 0)
		_exit(0);
	setsid();
	if (fork() > 0)
		_exit(0);
	closefrom(3);
	for (int i = atoi(argv[1]); i > 0; i--)
		open(argv[2], O_WRONLY | O_CREAT | O_APPEND, 0644);
	int listener = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in address = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	bind(listener, (struct sockaddr *)&address, sizeof address);
	listen(listener, 8);
	for (;;) {
		int client = accept(listener, NULL, NULL);
		char buffer[256];
		ssize_t got;
		while ((got = read(client, buffer, sizeof buffer)) > 0)
			write(client, buffer, (size_t)got);
		close(client);
	}
}
`);
const input = path.join(directory, 'hello.comux');
writeFileSync(input, comux().conn(0, 'hello\n', {awaitResponse: true}).conn(1, 'again\n', {awaitResponse: true}).bytes());

for (const fork of [false, true]) {
	const mode = fork ? 'pdi comux run --fork' : 'pdi comux run';
	for (const reused of [0, 120]) {
		test(`${mode}: a daemon that closes every descriptor${reused ? ' and reuses their numbers for its log' : ''} still has its replies on pdi's stdout, none in its own files`, async t => {
			// Before: with the numbers free, status 2 (or 70 in fork mode) and no word; with them reused, status 0
			// and the replies (and pdi's own lines) written into the daemon's log, truncated first in fork mode.
			const daemonLog = path.join(directory, `daemon-${fork ? 'fork' : 'run'}-${reused}.log`);
			writeFileSync(daemonLog, 'the daemon\'s own line\n');
			const run = await pdi(['comux', 'run', ...fork ? ['--fork'] : [], input, '--', daemon, String(reused), daemonLog], {timeout: 30_000});
			t.is(run.code, 0, run.stderr);
			t.is(run.stdout, 'hello\nagain\n');
			t.is(run.stderr, '');
			t.is(readFileSync(daemonLog, 'utf8'), 'the daemon\'s own line\n');
		});
	}
}

for (const fork of [false, true]) {
	const mode = fork ? 'pdi comux run --fork' : 'pdi comux run';
	for (const reused of [0, 120]) {
		test(`${mode} --log FILE: a daemon that closes every descriptor${reused ? ' and reuses their numbers for its log' : ''} finds no log line in its own files, and the log has them all`, async t => {
			// Was a bug: the log file, opened at 3 and closed by the daemon, took the daemon's files or sockets on that
			// number: the log lines went into the daemon's log, and without the numbers reused a line written to its
			// unconnected listening socket ended it by SIGPIPE (pdi: status 4, 'was killed by signal 13').
			const daemonLog = path.join(directory, `daemon-log-${fork ? 'fork' : 'run'}-${reused}.log`);
			const log = path.join(directory, `pdi-log-${fork ? 'fork' : 'run'}-${reused}.log`);
			writeFileSync(daemonLog, 'the daemon\'s own line\n');
			const run = await pdi(['comux', 'run', ...fork ? ['--fork'] : [], '--log', log, input, '--', daemon, String(reused), daemonLog], {timeout: 30_000});
			t.is(run.code, 0, run.stderr);
			t.is(run.stdout, 'hello\nagain\n');
			t.is(readFileSync(daemonLog, 'utf8'), 'the daemon\'s own line\n');
			const lines = readFileSync(log, 'utf8');
			t.regex(lines, /^pdi-comux: process \d+ replays$/m);
			t.regex(lines, /^pdi-comux: replay complete$/m);
		});
	}
}

test('pdi comux replay --fork of several inputs into a daemon that closes every descriptor gives each its reply', async t => {
	const daemonLog = path.join(directory, 'daemon-replay.log');
	writeFileSync(daemonLog, '');
	const inputs = path.join(directory, 'inputs');
	mkdirSync(inputs);
	for (const word of ['one', 'two', 'three']) {
		writeFileSync(path.join(inputs, `${word}.comux`), comux().conn(0, `${word}\n`, {awaitResponse: true}).bytes());
	}

	const run = await pdi(['comux', 'replay', '--fork', '--json', inputs, '--', daemon, '120', daemonLog], {timeout: 60_000});
	t.is(run.code, 0, run.stderr);
	const report = JSON.parse(run.stdout) as {files: Array<{file: string; verdict: string; outputBytes: number}>};
	t.deepEqual(report.files.map(({file, verdict, outputBytes}) => [path.basename(file), verdict, outputBytes]), [['one.comux', 'ok', 4], ['three.comux', 'ok', 6], ['two.comux', 'ok', 4]]);
	t.is(readFileSync(daemonLog, 'utf8'), '');
});

test('the AFL++ setup (pdi comux config --afl) replays its input into a daemon that closes every descriptor, run by hand as afl-fuzz runs it', async t => {
	// Before: 'cannot read the input: Bad file descriptor' and status 3 (the copy of stdin the inputs come on was
	// closed), and afl-fuzz's handshake failed.
	const afl = await pdi(['comux', 'config', '--afl', '-o', path.join(directory, 'afl.cfg')]);
	t.is(afl.code, 0, afl.stderr);
	const variables = Object.fromEntries([...afl.stdout.matchAll(/^export (\w+)='([^']*)'$/gm)].map(([, name, value]) => [name!, value!]));
	const daemonLog = path.join(directory, 'daemon-afl.log');
	writeFileSync(daemonLog, '');
	const run = spawnSync(daemon, ['120', daemonLog], {input: readFileSync(input), env: {...process.env, ...variables, LD_PRELOAD: variables['AFL_PRELOAD']}, timeout: 30_000});
	t.is(run.status, 0, run.stderr.toString());
	t.is(run.stdout.toString(), 'hello\nagain\n');
	t.is(readFileSync(daemonLog, 'utf8'), '');
});
