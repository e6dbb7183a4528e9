import {existsSync, mkdirSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {comux} from '../src/ts/comux/builder.js';
import {runComux} from '../src/ts/comux/replay.js';
import {PdiError} from '../src/ts/errors.js';
import {pdi} from './helpers/cli.js';
import {scratchDirectory} from './helpers/files.js';
import {echoServerPath} from './helpers/servers.js';

const scratch = scratchDirectory('pdi-reply-timeout-');
const file = path.join(scratch, 'hello.comux');
const directory = path.join(scratch, 'inputs');
writeFileSync(file, comux().conn(0, 'hello\n', {awaitResponse: true}).bytes());
mkdirSync(directory);
for (const name of ['a.comux', 'b.comux']) {
	writeFileSync(path.join(directory, name), comux().conn(0, `${name}\n`, {awaitResponse: true}).bytes());
}

/** The echo server, started through a shell that first leaves `marker` behind: whether any server was started. */
const serverMarking = (marker: string) => ['/bin/sh', '-c', `: > ${marker}; exec ${echoServerPath} epoll 0`];
const env = {...process.env, ECHO_QUIET: '1'};

// Was a bug: up to 2147483647 was taken, and every server the backend refused with one line naming
// PDI_COMUX_TIMEOUT_MS, a variable the user never set: run exited 2, replay reported `exit 2` for each file and
// exited 0, and replay --fork exited 1 with every file never replayed.
test('pdi comux run and replay refuse a --reply-timeout outside 1 to 86400000 with one line naming it and status 2, and start no server', async t => {
	const marker = path.join(scratch, 'started');
	const server = serverMarking(marker);
	const commands = [['run', file], ['run', '--fork', file], ['replay', directory], ['replay', '--fork', directory]];
	for (const value of ['100000000', '86400001', '0']) {
		for (const [command, ...rest] of commands) {
			const args = ['comux', command!, '--reply-timeout', value, ...rest, '--', ...server];
			const result = await pdi(args, {env});
			t.is(result.code, 2, args.join(' '));
			t.is(result.stderr, `pdi: --reply-timeout: expected a positive number of milliseconds up to 86400000, got '${value}'\n`, args.join(' '));
			t.is(result.stdout, '', args.join(' '));
			t.false(existsSync(marker), `${args.join(' ')} started a server`);
		}
	}
});

test('pdi comux run and replay take --reply-timeout 86400000, the backend\'s longest', async t => {
	const server = serverMarking(path.join(scratch, 'started-longest'));
	const run = await pdi(['comux', 'run', '--reply-timeout', '86400000', file, '--', ...server], {env});
	t.is(run.code, 0, run.stderr);
	t.is(run.stdout, 'hello\n');
	const replay = await pdi(['comux', 'replay', '--json', '--no-progress', '--reply-timeout', '86400000', directory, '--', ...server], {env});
	t.is(replay.code, 0, replay.stderr);
	const report = JSON.parse(replay.stdout) as {files: Array<{verdict: string}>};
	t.deepEqual(report.files.map(entry => entry.verdict), ['ok', 'ok']);
});

test('runComux() refuses idleMs and replyTimeoutMs above 86400000 with a PdiError naming the option, where the backend refused them in the server', async t => {
	const input = comux().conn(0, 'hello\n', {awaitResponse: true}).bytes();
	for (const option of ['idleMs', 'replyTimeoutMs']) {
		await t.throwsAsync(runComux([echoServerPath, 'epoll', '0'], input, {env, [option]: 100_000_000}), {
			instanceOf: PdiError,
			message: `${option}: expected a whole number of milliseconds (0 to 86400000), got 100000000`,
		});
	}

	const longest = await runComux([echoServerPath, 'epoll', '0'], input, {env, idleMs: 86_400_000, replyTimeoutMs: 86_400_000});
	t.is(longest.status, 0, longest.stderr);
	t.is(longest.stdout.toString(), 'hello\n');
});
