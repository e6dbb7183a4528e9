import test from 'ava';
import {comux} from '../src/ts/comux/builder.js';
import {runComux} from '../src/ts/comux/replay.js';
import {echoServerPath, freePort} from './helpers/servers.js';

// busybox nc -l -e PROG executes PROG in the process that accepted the connection: the replay's controller thread
// goes with the exec, and cat, which a plain client hears echo, answers nothing. The status is cat's, 0.
test('a server that executes another program in the process that replays (busybox nc -l -e cat) ends its replay with one line saying so', async t => {
	const port = String(await freePort());
	const input = comux().conn(0, 'hello\n', {awaitResponse: true}).bytes();
	const result = await runComux(['busybox', 'nc', '-l', '-p', port, '-e', 'cat'], input, {timeout: 15_000});
	t.is(result.status, 0, result.stderr);
	t.regex(result.stderr, /^pdi-comux: process \d+, which replayed, exited with status 0 at chunk 1 of 1 \(in schedule order\), before the replay was over: what the replay had not collected by then is missing \(a server that exits, or executes another program in the process that accepted, as busybox nc -e does, ends its replay\)$/m);
});

test('in fork mode a child that executes another program (busybox nc -l -e cat) gets the same line from its fork server', async t => {
	const port = String(await freePort());
	const input = comux().conn(0, 'hello\n', {awaitResponse: true}).bytes();
	const result = await runComux(['busybox', 'nc', '-l', '-p', port, '-e', 'cat'], input, {timeout: 15_000, fork: true});
	t.is(result.status, 0, result.stderr);
	t.regex(result.stderr, /^pdi-comux: process \d+, which replayed, exited with status 0 at chunk 1 of 1 \(in schedule order\), before the replay was over: what the replay had not collected by then is missing \(.*\)$/m);
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
