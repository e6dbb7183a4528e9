import test from 'ava';
import {comux} from '../src/ts/comux/builder.js';
import {runComux} from '../src/ts/comux/replay.js';
import {compileC, scratchDirectory} from './helpers/files.js';
import {echoServerPath, freePort} from './helpers/servers.js';

// Serves one connection: echoes it until the end of file, then returns from main or calls _exit, its reply written before.
const oneShotSource = (ending: string) => `#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
int main(int argc, char **argv) {
  int listener = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1]))};
  if (argc < 2 || bind(listener, (struct sockaddr *)&address, sizeof address) != 0 || listen(listener, 5) != 0)
    return 1;
  int client = accept(listener, 0, 0);
  char buffer[100];
  ssize_t got;
  while ((got = read(client, buffer, sizeof buffer)) > 0)
    write(client, buffer, (size_t)got);
  ENDING;
}
`.replace('ENDING', ending);
const oneShotDirectory = scratchDirectory('pdi-comux-one-shot-');
const oneShot = {
	return: compileC(oneShotDirectory, 'returns', oneShotSource('return 0')),
	_exit: compileC(oneShotDirectory, 'exits', oneShotSource('_exit(0)')),
};

// busybox nc -l -e PROG executes PROG in the process that accepted the connection: the replay's controller thread
// goes with the exec, and cat, which a plain client hears echo, answers nothing. The status is cat's, 0.
test('a server that executes another program in the process that replays (busybox nc -l -e cat) ends its replay with one line saying so', async t => {
	const port = String(await freePort());
	const input = comux().conn(0, 'hello\n', {awaitResponse: true}).bytes();
	const result = await runComux(['busybox', 'nc', '-l', '-p', port, '-e', 'cat'], input, {timeout: 15_000});
	t.is(result.status, 0, result.stderr);
	t.regex(result.stderr, /^pdi-comux: process \d+, which replayed, exited with status 0 at chunk 0 \(1 of 1 in schedule order\), before the replay was over: what the replay had not collected by then is missing \(a server that exits, or executes another program in the process that accepted, as busybox nc -e does, ends its replay\)$/m);
});

test('in fork mode a child that executes another program (busybox nc -l -e cat) gets the same line from its fork server', async t => {
	const port = String(await freePort());
	const input = comux().conn(0, 'hello\n', {awaitResponse: true}).bytes();
	const result = await runComux(['busybox', 'nc', '-l', '-p', port, '-e', 'cat'], input, {timeout: 15_000, fork: true});
	t.is(result.status, 0, result.stderr);
	t.regex(result.stderr, /^pdi-comux: process \d+, which replayed, exited with status 0 at chunk 0 \(1 of 1 in schedule order\), before the replay was over: what the replay had not collected by then is missing \(.*\)$/m);
});

test('a replay that ends as it should says nothing of the kind', async t => {
	const input = comux().conn(0, 'hello\n', {awaitResponse: true}).conn(1, 'world\n', {awaitResponse: true}).bytes();
	const result = await runComux([echoServerPath, 'accept', String(await freePort())], input, {timeout: 15_000});
	t.is(result.status, 0, result.stderr);
	t.regex(result.stdout.toString(), /hello\nworld\n$/);
	t.notRegex(result.stderr, /before the replay was over/);
});

test('a fork-mode replay that ends as it should says nothing of the kind', async t => {
	const input = comux().conn(0, 'hello\n', {awaitResponse: true}).conn(1, 'world\n', {awaitResponse: true}).bytes();
	const result = await runComux([echoServerPath, 'accept', String(await freePort())], input, {timeout: 15_000, fork: true});
	t.is(result.status, 0, result.stderr);
	t.regex(result.stdout.toString(), /hello\nworld\n$/);
	t.notRegex(result.stderr, /before the replay was over/);
});

for (const [ending, fork] of [['return', false], ['return', true], ['_exit', false], ['_exit', true]] as const) {
	test(`a server that answers, reads the end of file and ends by ${ending === 'return' ? 'returning from main' : '_exit'} keeps its reply in every run${fork ? ', in fork mode too' : ''}`, async t => {
		// Before, the exit ended the process before the controller had copied the reply: it came out in some runs only.
		const input = comux().conn(0, 'hello', {awaitResponse: true}).bytes();
		for (let run = 0; run < 10; run++) {
			const result = await runComux([oneShot[ending], String(await freePort())], input, {timeout: 15_000, fork});
			t.is(result.status, 0, result.stderr);
			t.is(result.stdout.toString(), 'hello', `run ${run}: ${result.stderr}`);
			// Chunks are numbered from 0, as in the log and the other messages.
			t.regex(result.stderr, /exited with status 0 at chunk 0 \(1 of 1 in schedule order\), before the replay was over/);
		}
	});
}
