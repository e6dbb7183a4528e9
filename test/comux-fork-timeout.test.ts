import {spawn} from 'node:child_process';
import {mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import test from 'ava';
import {comux} from '../src/ts/comux/builder.js';
import {startComuxForkServer} from '../src/ts/comux/fork-server.js';
import {COMUX_HANG, isHang, runComux} from '../src/ts/comux/replay.js';
import {cliPath, pdi} from './helpers/cli.js';
import {echoServerPath} from './helpers/servers.js';
import {until} from './helpers/until.js';

const scratch = mkdtempSync(path.join(tmpdir(), 'pdi-comux-fork-timeout-'));

test.after.always(() => {
	rmSync(scratch, {recursive: true, force: true});
});

// One connection at a time: echoes what it reads, and spins for ever on LOOP.
const server = ['/usr/bin/python3', '-c', [
	'import socket',
	's = socket.socket()',
	's.bind(("127.0.0.1", 0))',
	's.listen()',
	'while True:',
	'    c, _ = s.accept()',
	'    data = c.recv(100)',
	'    while b"LOOP" in data:',
	'        pass',
	'    c.sendall(data)',
	'    c.close()',
].join('\n')];

const ok = comux().conn(0, 'hello', {awaitResponse: true}).bytes();
const looping = comux().conn(0, 'LOOP', {awaitResponse: true, noShutdown: true}).bytes();

test.serial('with --fork, a file stopped at --timeout is the only hang: the files after it replay as without --fork, first file or not', async t => {
	// Before: the fork server's first answer set the grace after the clock of the file after it had started, so pdi
	// stopped the whole server at that file's limit, and every later file read as a hang (`an earlier file's replay
	// having taken longer`); a looping first file, timed from the server's start, always did so.
	for (const order of [['ok', 'loop', 'ok', 'ok'], ['loop', 'ok', 'ok']]) {
		const directory = mkdtempSync(path.join(scratch, 'files-'));
		for (const [index, name] of order.entries()) {
			writeFileSync(path.join(directory, `${index}-${name}.comux`), name === 'ok' ? ok : looping);
		}

		const verdicts: string[][] = [];
		for (const fork of [[], ['--fork']]) {
			const replay = await pdi(['comux', 'replay', '--json', ...fork, '--timeout', '700', '--reply-timeout', '20000', directory, '--', ...server], {timeout: 60_000});
			const report = JSON.parse(replay.stdout) as {files: Array<{verdict: string; stderr: string}>};
			verdicts.push(report.files.map(({verdict}) => verdict));
			for (const [index, entry] of report.files.entries()) {
				// With --fork the first file's limit counts the server's start (python's, slow on a loaded machine), and
				// when that took most of it the reason says so.
				const startNamed = fork.length > 0 && index === 0 ? /^pdi: the server's start \(\d+ ms\) and the replay took longer than 700 ms together and were stopped \(.*\)\n$/ : undefined;
				if (entry.verdict === 'hang' && !startNamed?.test(entry.stderr)) {
					t.is(entry.stderr, 'pdi: the replay took longer than 700 ms and was stopped\n', fork.join(''));
				}
			}
		}

		const expected = order.map(name => name === 'ok' ? 'ok' : 'hang');
		t.deepEqual(verdicts, [expected, expected], order.join(' '));
	}
});

test.serial('startComuxForkServer: a first replay that outlasts its timeout ends alone, and the replays awaited after it are ok', async t => {
	const forks = startComuxForkServer(server, {timeout: 1000, replyTimeoutMs: 20_000});
	try {
		const stopped = await forks.replay(looping);
		t.like(stopped, {timedOut: true, signal: 'SIGTERM', status: null});
		for (let round = 0; round < 3; round++) {
			const result = await forks.replay(ok);
			t.like(result, {timedOut: false, status: 0}, result.stderr);
			t.is(result.stdout.toString(), 'hello');
		}
	} finally {
		const end = await forks.close();
		t.deepEqual([end.code, end.signal], [0, null]);
	}
});

test.serial('a forking server whose handler for the connection loops is a hang (status 5), with and without fork mode, not an empty reply', async t => {
	// Before: the server itself waited in accept, so it counted as at rest: status 0, an empty reply, no word.
	const server = [echoServerPath, 'accept', '0'];
	const options = {env: {...process.env, ECHO_QUIET: '1', ECHO_FORK: '1'}, replyTimeoutMs: 500};
	const spinning = comux().conn(0, 'SPIN! in the child\n', {awaitResponse: true, noShutdown: true}).bytes();
	for (const fork of [false, true]) {
		const hung = await runComux(server, spinning, {...options, fork});
		t.like(hung, {status: 5, hung: true}, `fork: ${fork}: ${hung.stderr}`);
		t.is(hung.stderr, 'pdi-comux: the server sent nothing for chunk 0 within 500 ms and is still running: it hangs\n');
		const answered = await runComux(server, comux().conn(0, 'fine\n', {awaitResponse: true}).bytes(), {...options, fork});
		t.like(answered, {status: 0, hung: false}, answered.stderr);
		t.is(answered.stdout.toString(), 'fine\n');
	}
});

test.serial('a server that closes the connection and runs on before its own exit ends with its own status, with and without fork mode; one that runs on for good is a hang', async t => {
	// Before: the replay ended at the close, and its exit(0) came before the server's exit(7): status 0, no word
	// (a Python server's teardown; slower in a fork-mode child). A server that closed and looped was status 0 too.
	const server = [echoServerPath, 'accept', '0'];
	const options = {env: {...process.env, ECHO_QUIET: '1'}, replyTimeoutMs: 500};
	for (const fork of [false, true]) {
		const left = await runComux(server, comux().conn(0, 'LEAVE!', {awaitResponse: true}).bytes(), {...options, fork});
		t.like(left, {status: 7, hung: false}, `fork: ${fork}: ${left.stderr}`);
		const held = await runComux(server, comux().conn(0, 'HOLD!', {awaitResponse: true}).bytes(), {...options, fork});
		t.like(held, {status: 5, hung: true}, `fork: ${fork}: ${held.stderr}`);
		t.is(held.stderr, 'pdi-comux: the server was still running 500 ms after the replay\'s last reply, instead of waiting for a client again or ending: it hangs\n');
		const answered = await runComux(server, comux().conn(0, 'fine\n', {awaitResponse: true}).bytes(), {...options, fork});
		t.like(answered, {status: 0, hung: false}, answered.stderr);
	}
});

test('every line the backend ends a hang with is a hang with status 5, and only with it', t => {
	// Before: only "sent nothing for" counted; "read nothing more of" (a server that stops reading a long chunk) read as exit 5.
	for (const line of [
		'the server sent nothing for chunk 3 within 2000 ms and is still running: it hangs',
		'the server read nothing more of chunk 0 within 500 ms and is still running: it hangs',
		'the server was still running 2000 ms after the replay\'s last reply, instead of waiting for a client again or ending: it hangs',
	]) {
		t.true(isHang(COMUX_HANG, `pdi-comux: ${line}\n`), line);
		t.false(isHang(0, `pdi-comux: ${line}\n`), line);
	}

	t.false(isHang(COMUX_HANG, 'pdi-comux: the server exited: it hangs up\n'));
});

/** Whether an echo server that `pdi` (process `launcher`) started has spent 50 ms of CPU: it spins on SPIN!. */
function serverSpins(launcher: number): boolean {
	return readdirSync('/proc').some(entry => {
		try {
			if (!/^\d+$/.test(entry) || Number(entry) === launcher || !readFileSync(`/proc/${entry}/cmdline`, 'utf8').startsWith(`${echoServerPath}\0`)) {
				return false;
			}

			const fields = readFileSync(`/proc/${entry}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
			return Number(fields[11]) + Number(fields[12]) >= 5;
		} catch {
			return false;
		}
	});
}

test.serial('SIGINT to pdi comux run during a replay exits 130 and prints the same with and without --fork: no line blaming the fork server', async t => {
	// Before, with --fork: `pdi: the fork server was killed by SIGINT before it answered for this input: that is the
	// fork server's end, not this input's`, when the user had pressed Ctrl-C.
	const file = path.join(scratch, 'spin.comux');
	writeFileSync(file, comux().conn(0, 'SPIN!', {awaitResponse: true}).bytes());
	const ends = [];
	for (const fork of [[], ['--fork']]) {
		const child = spawn(process.execPath, [cliPath, 'comux', 'run', ...fork, file, '--', echoServerPath, 'epoll', '0'], {env: {...process.env, ECHO_QUIET: '1'}, stdio: ['ignore', 'pipe', 'pipe']});
		let stderr = '';
		child.stderr.setEncoding('utf8').on('data', (text: string) => {
			stderr += text;
		});
		const exited = new Promise<number | null>(resolve => child.once('close', code => {
			resolve(code);
		}));
		// Within the 2000 ms reply timeout, once the server spins on its input (was a fixed 1000 ms, which a loaded
		// machine's server start outran: the SIGINT came before it listened).
		t.true(await until(() => serverSpins(child.pid!), 20_000), 'the server spins');
		child.kill('SIGINT');
		ends.push([await exited, stderr]);
	}

	t.deepEqual(ends, [[130, ''], [130, '']]);
});
