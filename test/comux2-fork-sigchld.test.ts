import {execFile} from 'node:child_process';
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {promisify} from 'node:util';
import test from 'ava';
import {comux} from '../src/ts/comux/builder.js';
import {startComuxForkServer} from '../src/ts/comux/fork-server.js';
import {runComux, type ComuxRunResult} from '../src/ts/comux/replay.js';
import {pdi} from './helpers/cli.js';
import {freePort} from './helpers/servers.js';

const directory = mkdtempSync(path.join(tmpdir(), 'pdi-comux2-sigchld-'));
test.after.always(() => {
	rmSync(directory, {recursive: true, force: true});
});

// A server that forks a child per connection and has the kernel reap them (SIGCHLD ignored, as many such servers do,
// or SA_NOCLDWAIT): the child echoes, crashes on '!' and exits 7 on '?' (a status of its own, for the fork server's child).
const server = String.raw`
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
int main(int argc, char **argv) {
	if (argc > 2) {
		struct sigaction no_wait = {.sa_handler = SIG_DFL, .sa_flags = SA_NOCLDWAIT};
		sigaction(SIGCHLD, &no_wait, NULL);
	} else
		signal(SIGCHLD, SIG_IGN);
	int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1])), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	if (bind(s, (struct sockaddr *)&a, sizeof a) != 0 || listen(s, 16) != 0)
		return 1;
	for (;;) {
		int c = accept(s, NULL, NULL);
		if (c < 0)
			continue;
		if (fork() == 0) {
			char buffer[512];
			ssize_t n;
			while ((n = read(c, buffer, sizeof buffer)) > 0) {
				if (memchr(buffer, '!', (size_t)n))
					*(volatile int *)0 = 1;
				write(c, buffer, (size_t)n);
			}
			_exit(0);
		}
		close(c);
		if (argc > 3)
			exit(7);
	}
}
`;

async function build(): Promise<string> {
	writeFileSync(path.join(directory, 'server.c'), server);
	const program = path.join(directory, 'server');
	await promisify(execFile)('gcc', ['-O1', '-o', program, 'server.c'], {cwd: directory});
	return program;
}

const echo = comux().conn(0, 'hello\n', {awaitResponse: true}).bytes();
const crash = comux().conn(0, 'hello\n', {awaitResponse: true}).conn(1, 'boom!\n', {awaitResponse: true}).bytes();
const verdict = ({status, signal, stdout}: ComuxRunResult) => ({status, signal, stdout: stdout.toString()});

test.serial('a server that ignores SIGCHLD (or sets SA_NOCLDWAIT) keeps its statuses in fork mode: a crash of the child it forked is a crash, its own exit status is its status, as in a fresh process', async t => {
	const program = await build();
	for (const extra of [[], ['nocldwait'], ['nocldwait', 'exit-after-one']]) {
		const command = [program, String(await freePort()), ...extra];
		const freshCrash = await runComux(command, crash);
		const freshEcho = await runComux(command, echo);
		const forks = startComuxForkServer(command);
		const results = await Promise.all([forks.replay(crash), forks.replay(echo), forks.replay(crash)]);
		t.is((await forks.close()).code, 0);
		const what = command.slice(2).join(' ') || 'SIG_IGN';
		t.deepEqual(results.map(result => verdict(result)), [verdict(freshCrash), verdict(freshEcho), verdict(freshCrash)], what);
		if (extra.length < 2) {
			t.is(freshCrash.signal, 'SIGSEGV', what);
			t.regex(results[0].stderr, /which the server forked, was killed by signal 11/, what);
			t.is(freshEcho.status, 0, what);
		} else {
			t.is(freshEcho.status, 7, what);
		}
	}
});

test.serial('pdi comux replay --fork reports the crash of a per-connection child of a server that ignores SIGCHLD', async t => {
	const program = await build();
	const corpus = path.join(directory, 'corpus');
	await promisify(execFile)('mkdir', ['-p', corpus]);
	writeFileSync(path.join(corpus, 'crash.comux'), crash);
	writeFileSync(path.join(corpus, 'echo.comux'), echo);
	const {code, stdout, stderr} = await pdi(['comux', 'replay', '--fork', '--json', corpus, '--', program, String(await freePort())]);
	t.is(code, 1, stderr);
	const report = JSON.parse(stdout) as {files: Array<{verdict: string; signal: string | null}>; crashes: number};
	t.deepEqual(report.files.map(({verdict, signal}) => [verdict, signal]), [['crash', 'SIGSEGV'], ['ok', null]]);
	t.is(report.crashes, 1);
});
