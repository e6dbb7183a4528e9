import {mkdirSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {comux} from '../src/ts/comux/builder.js';
import {pdi} from './helpers/cli.js';
import {scratchDirectory} from './helpers/files.js';
import {echoServerPath} from './helpers/servers.js';

const scratch = scratchDirectory('pdi comux reasons ');
const quiet = {...process.env, ECHO_QUIET: '1'};

function corpus(name: string, files: Record<string, Uint8Array>): string {
	const directory = path.join(scratch, name);
	mkdirSync(directory, {recursive: true});
	for (const [file, bytes] of Object.entries(files)) {
		writeFileSync(path.join(directory, file), bytes);
	}

	return directory;
}

const hello = comux().conn(0, 'hello\n', {awaitResponse: true}).bytes();
const crash = comux().conn(0, 'CRASH! now\n', {awaitResponse: true}).bytes();
const echo = [echoServerPath, 'epoll', '0'];

// Was a bug: every server started and ended with the backend's status 2, and `replay` said `2 files: 2 exit`, status 0.
for (const [name, value, message, label = value] of <Array<[string, string, string, string?]>>[
	['PDI_COMUX_IDLE_MS', '-1', 'PDI_COMUX_IDLE_MS: expected a whole number of milliseconds from 0 to 86400000, got \'-1\''],
	['PDI_COMUX_TIMEOUT_MS', '300ms', 'PDI_COMUX_TIMEOUT_MS: expected a whole number of milliseconds from 0 to 86400000, got \'300ms\''],
	['PDI_COMUX_LOG', path.join(scratch, 'no such directory', 'comux.log'), `PDI_COMUX_LOG: ${path.join(scratch, 'no such directory', 'comux.log')}: no such file or directory`, 'a file in a missing directory'],
]) {
	test(`pdi comux run and replay refuse ${name}=${label} from their environment before any server starts: one line, status 2`, async t => {
		const directory = corpus(`bad ${name}`, {'a.comux': hello, 'b.comux': hello});
		const env = {...quiet, [name]: value};
		for (const args of [['replay', directory], ['replay', '--fork', directory], ['run', path.join(directory, 'a.comux')]]) {
			const result = await pdi(['comux', ...args, '--', ...echo], {env});
			t.is(result.code, 2, args.join(' '));
			t.is(result.stderr, `pdi: ${message}\n`, args.join(' '));
			t.is(result.stdout, '', args.join(' '));
		}
	});
}

test('an option given for the variable wins over it: --reply-timeout over PDI_COMUX_TIMEOUT_MS', async t => {
	const directory = corpus('reply timeout given', {'a.comux': hello});
	const result = await pdi(['comux', 'replay', '--reply-timeout', '1000', directory, '--', ...echo], {env: {...quiet, PDI_COMUX_TIMEOUT_MS: '300ms'}});
	t.is(result.code, 0, result.stderr);
	t.regex(result.stdout, /^a\.comux +ok /m);
});

// Was a bug: `pdi: missing DIR: it comes before --`, where run said what was wrong with --timeout.
test('pdi comux replay --timeout DIR -- SERVER says that --timeout took DIR for its value', async t => {
	const directory = corpus('timeout value', {'a.comux': hello});
	const result = await pdi(['comux', 'replay', '--timeout', directory, '--', ...echo]);
	t.is(result.code, 2);
	t.is(result.stderr, `pdi: --timeout: expected a positive number of milliseconds up to 2147483647, got '${directory}'\n`);
});

// Was a bug: a crash of a server that wrote nothing had no reason line in replay's report, and run said nothing.
test('a crash the server says nothing of is named by its signal: in replay\'s reasons, and by run and run --fork', async t => {
	const directory = corpus('crash', {'crash.comux': crash, 'hello.comux': hello});
	for (const fork of [[], ['--fork']]) {
		const replay = await pdi(['comux', 'replay', ...fork, directory, '--', ...echo], {env: quiet});
		t.is(replay.code, 1);
		t.regex(replay.stdout, /^crash\.comux +crash +139 +SIGSEGV /m);
		t.regex(replay.stdout, /\ncrash\.comux: the server was killed by SIGSEGV and wrote nothing on stderr\n$/);
		const run = await pdi(['comux', 'run', ...fork, path.join(directory, 'crash.comux'), '--', ...echo], {env: quiet});
		t.is(run.code, 139);
		t.is(run.stderr, `pdi: ${echoServerPath} was killed by SIGSEGV\n`);
	}
});

// With --fork the files queued while the server starts count its start, as every file does without --fork: the
// reason says so (was: "the replay took longer than 500 ms", for a server whose start took most of them).
test('replay --fork names the server\'s start when it counted against the first file\'s --timeout', async t => {
	const late = comux().conn(0, 'LATE: hello\n', {awaitResponse: true}).bytes();
	const directory = corpus('slow start', {'a1.comux': late, 'a2.comux': late});
	const result = await pdi(['comux', 'replay', '--fork', '--timeout', '500', directory, '--', 'sh', '-c', `sleep 0.3; exec ${echoServerPath} epoll 0`], {env: {...quiet, ECHO_LATE: 'sleep'}});
	t.is(result.code, 1, result.stderr);
	t.regex(result.stdout, /^a1\.comux +hang /m);
	t.regex(result.stdout, /^a2\.comux +ok /m);
	t.regex(result.stdout, /\na1\.comux: pdi: the server's start \(\d+ ms\) and the replay took longer than 500 ms together and were stopped \(with --fork, the first file's time limit counts the server's start, as without it every file's does\)\n$/);
});
