import {execFile, execFileSync, spawn} from 'node:child_process';
import {chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {setTimeout as delay} from 'node:timers/promises';
import test from 'ava';
import {comux, parseComux, type ComuxDescription} from '../src/ts/comux/index.js';
import {cliPath, otherUser, pdi, pdiWithoutReadOverride, root, startPdi} from './helpers/cli.js';
import {echoServerPath, processesMentioning} from './helpers/servers.js';
import {shellWord} from './helpers/quote.js';
import {temporaryEntries} from './helpers/files.js';

/** The comux corpus kept in the repository (data/comux-samples, see its README). */
const samples = path.join(root, 'data/comux-samples');

const scratch = mkdtempSync(path.join(tmpdir(), 'pdi-comux-cli-'));
test.after.always(() => {
	rmSync(scratch, {recursive: true, force: true});
});

function write(name: string, contents: string | Uint8Array): string {
	const file = path.join(scratch, name);
	writeFileSync(file, contents);
	return file;
}

/** The echo server's output without its first line, `listening on PORT`, which port 0 makes differ. */
function withoutPort(output: Buffer): string {
	return output.toString('latin1').replace(/^listening on \d+\n/, '');
}

type BinaryResult = {code: number; stdout: Buffer; stderr: string};

/** Runs the built CLI with `input` on stdin, keeping stdout as bytes. */
async function pdiBinary(args: readonly string[], input?: Uint8Array | string): Promise<BinaryResult> {
	return new Promise(resolve => {
		const child = execFile(process.execPath, [cliPath, ...args], {cwd: root, encoding: 'buffer', timeout: 60_000, maxBuffer: 64 * 1024 * 1024}, (error, stdout, stderr) => {
			const code = error ? (typeof error.code === 'number' ? error.code : 128) : 0;
			resolve({code, stdout, stderr: stderr.toString('utf8')});
		});
		child.stdin?.end(input);
	});
}

test('pdi comux show prints the header and one line per chunk with plain decimal lengths', async t => {
	const file = path.join(samples, 'http/comux_http_3c4c.txt');
	const result = await pdi(['comux', 'show', file]);
	t.is(result.code, 0, result.stderr);
	t.is(result.stderr, '');
	const lines = result.stdout.split('\n');
	t.deepEqual(lines.slice(0, 5), ['version      0', 'num_conns    3', 'num_chunks   4', 'total bytes  330', 'data bytes   230']);
	t.regex(lines[6] ?? '', /^index +conn +sched +flags +length +preview$/);
	t.regex(lines[7] ?? '', /^ +0 +1 +1 +- +77 +GET \/api\/junk HTTP\/1\.1\\r\\nAccept-Encoding:\.\.\.$/);
	t.regex(lines[8] ?? '', /^ +1 +0 +0 +- +51 +GET \/api\/login HTTP\/1\.0\\r\\n/);
	t.regex(lines[9] ?? '', /^ +2 +0 +2 +await +51 +/);
	t.regex(lines[10] ?? '', /^ +3 +2 +2 +await +51 +/);
	t.is(lines.length, 12);
	t.is(lines[11], '');
});

test('pdi comux show spells both flags, escapes non-printable bytes and previews 40 bytes', async t => {
	const noShutdown = await pdi(['comux', 'show', path.join(samples, 'http/comux_http_1c3c_separated_noshutdown.txt')]);
	t.is(noShutdown.code, 0, noShutdown.stderr);
	t.regex(noShutdown.stdout, /\n +2 +0 +2 +await,noshut +25 +Host: hornbeam\.rlogin\\r\\n\\r\\n\n/);
	const large = await pdi(['comux', 'show', path.join(samples, 'afl_inputs/test_80_kb_URI.comux')]);
	t.is(large.code, 0, large.stderr);
	t.regex(large.stdout, /\n +0 +0 +0 +await +102431 +GET \/api\/login\/api\/login\/api\/login\/api\/l\.\.\.\n$/);
	const file = write('escapes.comux', comux().conn(0, new Uint8Array([0, 1, 0x5C, 0x7F, 0x80, 0x0D, 0x0A, 0x09, 0x41])).bytes());
	const escaped = await pdi(['comux', 'show', file]);
	t.is(escaped.code, 0, escaped.stderr);
	t.true(escaped.stdout.endsWith('  9  \\0\\x01\\\\\\x7f\\x80\\r\\n\\tA\n'), escaped.stdout);
});

test('pdi comux show of an invalid file exits 3 with one line naming the byte', async t => {
	const trailing = await pdi(['comux', 'show', path.join(samples, 'http/comux_http_2c2c.txt')]);
	t.is(trailing.code, 3);
	t.is(trailing.stdout, '');
	t.is(trailing.stderr, `pdi: ${path.join(samples, 'http/comux_http_2c2c.txt')}: 102 trailing bytes at byte 188\n`);
	const magic = await pdi(['comux', 'show', path.join(samples, 'comux_test/comux_bad_magic2.txt')]);
	t.is(magic.code, 3);
	t.is(magic.stderr, `pdi: ${path.join(samples, 'comux_test/comux_bad_magic2.txt')}: bad magic at byte 0\n`);
	const cut = write('cut.comux', readFileSync(path.join(samples, 'tests_files/comux_1c2c.txt')).subarray(0, 75));
	const truncated = await pdi(['comux', 'show', '--json', cut]);
	t.is(truncated.code, 3);
	t.is(truncated.stdout, '');
	t.is(truncated.stderr, `pdi: ${cut}: truncated data of chunk 1 (only 5 of its 13 bytes) at byte 70\n`);
});

test('pdi comux run of an invalid file names it and the byte, exits 3 and starts no server, with and without --fork', async t => {
	// Before, the backend said it inside the server, without the file's name: 'pdi-comux: bad magic at byte 0'.
	const marker = path.join(scratch, 'server-started');
	const server = write('server.sh', `#!/bin/sh\ntouch ${shellWord(marker)}\nexec ${shellWord(echoServerPath)} epoll 7\n`);
	chmodSync(server, 0o755);
	const cut = write('cut-run.comux', readFileSync(path.join(samples, 'tests_files/comux_1c2c.txt')).subarray(0, 75));
	for (const [file, reason] of [[path.join(samples, 'comux_test/comux_bad_magic2.txt'), 'bad magic at byte 0'], [cut, 'truncated data of chunk 1 (only 5 of its 13 bytes) at byte 70']] as const) {
		for (const fork of [[], ['--fork']] as const) {
			const run = await pdi(['comux', 'run', ...fork, file, '--', server]);
			t.deepEqual([run.code, run.stdout, run.stderr], [3, '', `pdi: ${file}: ${reason}\n`], fork.join(''));
		}
	}

	t.false(existsSync(marker));
});

test('pdi comux run - judges stdin before the server starts and names it; a valid one replays as the file does, with and without --fork', async t => {
	// Before, the backend judged stdin inside the server: 'pdi-comux: truncated header at byte 9', no name.
	const marker = path.join(scratch, 'stdin-server-started');
	const server = write('stdin-server.sh', `#!/bin/sh\ntouch ${shellWord(marker)}\nexec ${shellWord(echoServerPath)} epoll 0\n`);
	chmodSync(server, 0o755);
	const input = readFileSync(path.join(samples, 'tests_files/comux_1c3c.txt'));
	const fromFile = await pdiBinary(['comux', 'run', path.join(samples, 'tests_files/comux_1c3c.txt'), '--', echoServerPath, 'epoll', '0']);
	t.is(fromFile.code, 0, fromFile.stderr);
	for (const fork of [[], ['--fork']] as const) {
		const invalid = await pdiBinary(['comux', 'run', ...fork, '-', '--', server], 'comux!!!\u0001');
		t.deepEqual([invalid.code, invalid.stdout.toString(), invalid.stderr], [3, '', 'pdi: stdin: truncated header (only 9 of its 20 bytes) at byte 0\n'], fork.join(''));
		t.false(existsSync(marker), fork.join(''));
		const valid = await pdiBinary(['comux', 'run', ...fork, '-', '--', echoServerPath, 'epoll', '0'], input);
		t.is(valid.code, 0, valid.stderr);
		t.is(withoutPort(valid.stdout), withoutPort(fromFile.stdout), fork.join(''));
	}
});

test('an endless input (/dev/zero, yes on stdin) that is no comux file is refused at its first bytes by show and run, instead of read for ever', async t => {
	// Before: pdi read on without end, its memory growing to gigabytes (a native abort, std::bad_alloc, once).
	for (const [args, input, name] of [
		[['comux', 'show', '/dev/zero'], undefined, '/dev/zero'],
		[['comux', 'run', '/dev/zero', '--', '/bin/true'], undefined, '/dev/zero'],
		[['comux', 'show', '-'], 'yes', 'stdin'],
		[['comux', 'run', '-', '--', '/bin/true'], 'yes', 'stdin'],
		[['comux', 'run', '--fork', '-', '--', '/bin/true'], 'yes', 'stdin'],
	] as const) {
		const result = await new Promise<{code: number; stderr: string}>(resolve => {
			const command = input === undefined ? [process.execPath, cliPath, ...args] : ['/bin/sh', '-c', 'yes | "$@"', 'sh', process.execPath, cliPath, ...args];
			execFile(command[0]!, command.slice(1), {timeout: 30_000}, (error, _stdout, stderr) => {
				resolve({code: error ? Number(error.code) : 0, stderr});
			});
		});
		t.deepEqual([result.code, result.stderr], [3, `pdi: ${name}: bad magic at byte 0\n`], args.join(' '));
	}
});

test('pdi comux run whose replies cannot be written fails as a write fails: 141 for a reader that has gone, 2 and a line for a full disk, with and without --fork', async t => {
	// Before, without --fork: status 0 in both, the replies lost without a word.
	const input = write('big-reply.comux', comux().conn(0, 'x'.repeat(300_000), {awaitResponse: true}).bytes());
	const run = async (fork: readonly string[], redirect: string) => new Promise<{code: number; stderr: string}>(resolve => {
		execFile('/bin/sh', ['-c', `"$@" ${redirect}; echo "status $?" >&2`, 'sh', process.execPath, cliPath, 'comux', 'run', ...fork, input, '--', echoServerPath, 'epoll', '0'], {env: {...process.env, ECHO_QUIET: '1'}, timeout: 60_000}, (_error, _stdout, stderr) => {
			resolve({code: Number(/status (\d+)\n$/.exec(stderr)?.[1]), stderr: stderr.replace(/status \d+\n$/, '')});
		});
	});
	for (const fork of [[], ['--fork']] as const) {
		const full = await run(fork, '> /dev/full');
		t.is(full.code, 2, fork.join(''));
		t.regex(full.stderr, fork.length === 0 ? /^pdi-comux: the replies could not be written to standard output: No space left on device\n$/ : /^pdi: standard output: no space left on device\n$/);
		const gone = await new Promise<number>(resolve => {
			execFile('/bin/bash', ['-c', '"$@" | head -c 1 > /dev/null; exit ${PIPESTATUS[0]}', 'sh', process.execPath, cliPath, 'comux', 'run', ...fork, input, '--', echoServerPath, 'epoll', '0'], {env: {...process.env, ECHO_QUIET: '1'}, timeout: 60_000}, error => {
				resolve(error ? Number(error.code) : 0);
			});
		});
		t.is(gone, 141, fork.join(''));
	}
});

test('pdi comux show reads stdin for -', async t => {
	const valid = await pdiBinary(['comux', 'show', '-'], readFileSync(path.join(samples, 'tests_files/comux_1c3c.txt')));
	t.is(valid.code, 0, valid.stderr);
	t.regex(valid.stdout.toString(), /\n +2 +0 +1 +- +12 +THIRD CHUNK\\n\n$/);
	const invalid = await pdiBinary(['comux', 'show', '-'], 'comux!!!\u0001');
	t.is(invalid.code, 3);
	t.is(invalid.stderr, 'pdi: stdin: truncated header (only 9 of its 20 bytes) at byte 0\n');
});

test('pdi comux show of a missing file exits 2', async t => {
	const result = await pdi(['comux', 'show', path.join(scratch, 'absent.comux')]);
	t.is(result.code, 2);
	t.is(result.stderr, `pdi: ${path.join(scratch, 'absent.comux')}: no such file or directory\n`);
});

test('pdi comux build from --chunk arguments writes the bytes the builder writes, C escapes decoded', async t => {
	const output = path.join(scratch, 'args.comux');
	const result = await pdi(['comux', 'build', '-o', output, '--chunk', '0:GET / HTTP/1.1\\r\\n', '--chunk', '1:\\x00\\xFF\\t\\\\\\0é', '--chunk', '0:Host: x\\r\\n\\r\\n', '--await', '--no-shutdown']);
	t.is(result.code, 0, result.stderr);
	t.is(result.stdout, '');
	const expected = comux()
		.conn(0, 'GET / HTTP/1.1\r\n', {awaitResponse: true, noShutdown: true})
		.conn(1, new Uint8Array([0, 0xFF, 0x09, 0x5C, 0, 0xC3, 0xA9]), {awaitResponse: true, noShutdown: true})
		.conn(0, 'Host: x\r\n\r\n', {awaitResponse: true, noShutdown: true})
		.bytes();
	t.deepEqual(new Uint8Array(readFileSync(output)), expected);

	const toStdout = await pdiBinary(['comux', 'build', '--chunk', '0:a', '--chunk', '2:b', '--num-conns', '3', '--chunk', '1:c']);
	t.is(toStdout.code, 0, toStdout.stderr);
	t.deepEqual(new Uint8Array(toStdout.stdout), comux().conn(0, 'a').conn(2, 'b').conn(1, 'c').numConns(3).bytes());

	const shown = await pdi(['comux', 'show', '--json', output]);
	t.is(shown.code, 0, shown.stderr);
	t.deepEqual(JSON.parse(shown.stdout), {
		version: 0,
		numConns: 2,
		chunks: [
			{conn: 0, sched: 0, awaitResponse: true, noShutdown: true, encoding: 'utf8', data: 'GET / HTTP/1.1\r\n'},
			{conn: 1, sched: 1, awaitResponse: true, noShutdown: true, encoding: 'base64', data: 'AP8JXADDqQ=='},
			{conn: 0, sched: 2, awaitResponse: true, noShutdown: true, encoding: 'utf8', data: 'Host: x\r\n\r\n'},
		],
	});
});

test('pdi comux build from a JSON description round-trips through show --json', async t => {
	const description: ComuxDescription = {
		chunks: [
			{conn: 1, data: 'GET /a HTTP/1.1\r\n', sched: 3},
			{conn: 0, data: 'AAEC/w==', encoding: 'base64', awaitResponse: true},
			{conn: 1, data: '0d0a 0d0a', encoding: 'hex', noShutdown: true, awaitResponse: true, sched: 3},
		],
	};
	const input = write('description.json', JSON.stringify(description));
	const output = path.join(scratch, 'description.comux');
	const built = await pdi(['comux', 'build', '--json', input, '-o', output]);
	t.is(built.code, 0, built.stderr);
	const doc = parseComux(readFileSync(output));
	t.is(doc.numConns, 2);
	t.deepEqual(doc.chunks.map(({conn, sched, flags}) => [conn, sched, flags]), [[1, 3, 0], [0, 1, 1], [1, 3, 3]]);
	t.deepEqual(doc.chunks[1]?.data, new Uint8Array([0, 1, 2, 0xFF]));
	t.deepEqual(doc.chunks[2]?.data, new TextEncoder().encode('\r\n\r\n'));

	const shown = await pdi(['comux', 'show', '--json', output]);
	t.is(shown.code, 0, shown.stderr);
	const again = write('again.json', shown.stdout);
	const rebuilt = await pdiBinary(['comux', 'build', '--json', '-'], readFileSync(again));
	t.is(rebuilt.code, 0, rebuilt.stderr);
	t.deepEqual(new Uint8Array(rebuilt.stdout), new Uint8Array(readFileSync(output)));
});

test('pdi comux show --json then build gives back every valid sample byte for byte', async t => {
	for (const file of ['realworld_apache/random4c_5.comux', 'http/comux_http_1c3c_separated_noshutdown.txt', 'tests_files/comux_2c2c.txt']) {
		const original = readFileSync(path.join(samples, file));
		const shown = await pdiBinary(['comux', 'show', '--json', '-'], original);
		t.is(shown.code, 0, shown.stderr);
		const rebuilt = await pdiBinary(['comux', 'build', '--json', '-'], shown.stdout);
		t.is(rebuilt.code, 0, rebuilt.stderr);
		t.deepEqual(rebuilt.stdout, original, file);
	}
});

test('pdi comux build refuses bad arguments with exit 2 and invalid documents with exit 3', async t => {
	const neither = await pdi(['comux', 'build']);
	t.is(neither.code, 2);
	t.is(neither.stderr, 'pdi: nothing to build: give --json FILE or at least one --chunk CONN:DATA\n');
	const both = await pdi(['comux', 'build', '--json', 'x.json', '--chunk', '0:a']);
	t.is(both.code, 2);
	t.is(both.stderr, 'pdi: give either --json FILE or --chunk arguments, not both\n');
	const escape = await pdi(['comux', 'build', '--chunk', '0:a\\qb']);
	t.is(escape.code, 2);
	t.is(escape.stderr, 'pdi: --chunk \'0:a\\qb\': bad escape \'\\q\' in \'a\\qb\' (known: \\r \\n \\t \\\\ \\xHH \\0)\n');
	const shortHex = await pdi(['comux', 'build', '--chunk', '0:\\x4']);
	t.is(shortHex.code, 2);
	t.regex(shortHex.stderr, /^pdi: --chunk '0:\\x4': bad escape '\\x4' /);
	const noConn = await pdi(['comux', 'build', '--chunk', 'GET /']);
	t.is(noConn.code, 2);
	t.is(noConn.stderr, 'pdi: --chunk \'GET /\': expected CONN:DATA, CONN a connection id\n');
	const gap = await pdi(['comux', 'build', '--chunk', '0:a', '--chunk', '2:b']);
	t.is(gap.code, 3);
	t.is(gap.stdout, '');
	t.is(gap.stderr, 'pdi: --chunk arguments: connection 1 has no chunk\n');
	const badJson = write('bad.json', '{"chunks": [');
	const syntax = await pdi(['comux', 'build', '--json', badJson]);
	t.is(syntax.code, 3);
	t.is(syntax.stderr, `pdi: ${badJson}:1:13: JSON syntax error: unexpected end of input (the file is truncated)\n`);
	const binary = write('binary.json', new Uint8Array([0x7F, 0x45, 0x4C, 0x46, 0x02, 0x01, 0x00, 0x1B, 0x5B, 0x32, 0x4A]));
	const control = await pdi(['comux', 'build', '--json', binary]);
	t.is(control.code, 3);
	t.is(control.stderr, `pdi: ${binary}:1:1: JSON syntax error: unexpected U+007F (expected a value)\n`);
	const late = write('late.json', '{"chunks": [\n  {"conn": 0, "data": "a\u001B[2J"}]}');
	const lateControl = await pdi(['comux', 'build', '--json', late]);
	t.is(lateControl.code, 3);
	t.is(lateControl.stderr, `pdi: ${late}:2:25: JSON syntax error: control character U+001B in a string (write it as an escape)\n`);
	const badField = write('field.json', JSON.stringify({chunks: [{conn: 0, data: 'a'}, {conn: 1, data: 'b', flags: 1}]}));
	const field = await pdi(['comux', 'build', '--json', badField]);
	t.is(field.code, 3);
	t.is(field.stderr, `pdi: ${badField}:1:55: chunks[1]: unknown key 'flags'\n`);
	const noData = write('no-data.json', '{"chunks": [\n  {"conn": 0, "data": "a"},\n  {"conn": 1}\n]}');
	const data = await pdi(['comux', 'build', '--json', noData]);
	t.is(data.code, 3);
	t.is(data.stderr, `pdi: ${noData}:3:3: chunks[1].data: expected a string, got nothing\n`);
	const badConn = write('bad-conn.json', '{"chunks": [{"conn": -1, "data": "a"}]}');
	t.is((await pdi(['comux', 'build', '--json', badConn])).stderr, `pdi: ${badConn}:1:22: chunks[0].conn: expected an integer from 0 to 4294967295, got -1\n`);
	const missing = write('missing.json', JSON.stringify({numConns: 3, chunks: [{conn: 0, data: 'a'}, {conn: 2, data: 'b'}]}));
	const noChunk = await pdi(['comux', 'build', '--json', missing]);
	t.is(noChunk.code, 3);
	t.is(noChunk.stderr, `pdi: ${missing}:1:13: numConns: connection 1 has no chunk\n`);
});

test('pdi comux build --json names the field, at its line and column, of a description the format refuses: numConns, a conn, the version, a gap in the connections', async t => {
	const cases: Array<[string, string]> = [
		['{"numConns": 70000,\n "chunks": [{"conn": 0, "data": "x"}]}', '1:14: numConns: num_conns 70000 exceeds the limit 65536'],
		['{"numConns": 1, "chunks": [\n  {"conn": 0, "data": "x"},\n  {"conn": 3, "data": "x"}]}', '3:12: chunks[1].conn: conn_id 3 is not below num_conns 1'],
		['{"chunks": [{"conn": 70000, "data": "x"}]}', '1:22: chunks[0].conn: connection 70000 is above 65535 (a comux file holds at most 65536 connections)'],
		['{"chunks": [{"conn": 0, "data": "x"}, {"conn": 2, "data": "y"}]}', '1:12: chunks: connection 1 has no chunk (without numConns the connections are 0 to the highest conn, 2)'],
		['{"version": 1, "chunks": [{"conn": 0, "data": "x"}]}', '1:13: version: unsupported version 1'],
	];
	for (const [index, [text, message]] of cases.entries()) {
		const file = write(`refused-${index}.json`, text);
		const result = await pdi(['comux', 'build', '--json', file, '-o', path.join(scratch, 'refused.comux')]);
		t.is(result.code, 3);
		t.is(result.stderr, `pdi: ${file}:${message}\n`);
	}

	t.false(existsSync(path.join(scratch, 'refused.comux')));
});

test('pdi comux --help lists show and build', async t => {
	const result = await pdi(['comux', '--help']);
	t.is(result.code, 0);
	t.regex(result.stdout, /show \[options\] <file>/);
	t.regex(result.stdout, /build \[options\]/);
});

const ping = comux().conn(0, 'ping\n', {awaitResponse: true}).bytes();

test('bad paths and arguments of comux run, build, config and replay get one line naming the path and exit 2', async t => {
	const missing = path.join(scratch, 'missing.comux');
	const noDirectory = path.join(scratch, 'no-such-directory');
	const emptyDirectory = path.join(scratch, 'empty');
	mkdirSync(emptyDirectory, {recursive: true});
	const cases: Array<[string[], string]> = [
		[['comux', 'run', missing, '--', '/bin/true'], `pdi: ${missing}: no such file or directory`],
		[['comux', 'run', scratch, '--', '/bin/true'], `pdi: ${scratch}: is a directory`],
		[['comux', 'run', '--timeout', 'soon', missing, '--', '/bin/true'], 'pdi: --timeout: expected a positive number of milliseconds up to 2147483647, got \'soon\''],
		[['comux', 'run', missing], 'pdi: missing SERVER (usage: pdi comux run FILE -- SERVER [ARGS...])'],
		[['comux', 'run', missing, '/bin/echo', '-n', 'x'], 'pdi: unknown option \'-n\' (an option of the server? put -- before the server: pdi comux run FILE -- SERVER [ARGS...])'],
		[['comux', 'run', '--log', path.join(noDirectory, 'comux.log'), path.join(samples, 'http/comux_http_3c4c.txt'), '--', echoServerPath, 'epoll', '0'], `pdi: --log ${path.join(noDirectory, 'comux.log')}: no such file or directory`],
		[['comux', 'run', '--log', scratch, path.join(samples, 'http/comux_http_3c4c.txt'), '--', echoServerPath, 'epoll', '0'], `pdi: --log ${scratch}: is a directory`],
		// In a directory root may write to, where no file can be made: the backend said it, and with --fork pdi blamed the fork server.
		...[[], ['--fork']].map(fork => [['comux', 'run', ...fork, '--log', '/proc/pdi-test.log', path.join(samples, 'http/comux_http_3c4c.txt'), '--', echoServerPath, 'epoll', '0'], 'pdi: --log /proc/pdi-test.log: no such file or directory'] as [string[], string]),
		[['comux', 'build', '--chunk', '0:a', '-o', path.join(noDirectory, 'x.comux')], `pdi: ${path.join(noDirectory, 'x.comux')}: no such file or directory`],
		[['comux', 'config', '-o', path.join(noDirectory, 'comux.cfg')], `pdi: ${path.join(noDirectory, 'comux.cfg')}: no such file or directory`],
		[['comux', 'replay', emptyDirectory, '--', '/bin/true'], `pdi: ${emptyDirectory}: no comux files to replay (the directory has no regular file)`],
		[['comux', 'replay', noDirectory, '--', '/bin/true'], `pdi: ${noDirectory}: no such file or directory`],
		[['comux', 'replay', emptyDirectory, '--timeout', '0', '--', '/bin/true'], 'pdi: --timeout: expected a positive number of milliseconds up to 2147483647, got \'0\''],
		// Beyond what a Node timer holds: the replay was stopped at once (TimeoutOverflowWarning), and with --fork a stack trace.
		[['comux', 'run', '--fork', '--timeout', '2147483648', missing, '--', '/bin/true'], 'pdi: --timeout: expected a positive number of milliseconds up to 2147483647, got \'2147483648\''],
		[['comux', 'run', '--reply-timeout', '99999999999', missing, '--', '/bin/true'], 'pdi: --reply-timeout: expected a positive number of milliseconds up to 86400000, got \'99999999999\''],
		[['comux', 'replay', emptyDirectory, '--fork', '--timeout', '99999999999', '--', '/bin/true'], 'pdi: --timeout: expected a positive number of milliseconds up to 2147483647, got \'99999999999\''],
	];
	for (const [args, line] of cases) {
		const result = await pdi(args);
		t.is(result.code, 2, args.join(' '));
		t.is(result.stderr, line + '\n', args.join(' '));
		t.is(result.stdout, '', args.join(' '));
	}
});

test('a standard input that is a directory (- < DIR) is one line naming stdin and status 2 for show, build --json and run, with and without --fork', async t => {
	const directory = path.join(scratch, 'stdin-directory');
	mkdirSync(directory, {recursive: true});
	for (const args of [['comux', 'show', '-'], ['comux', 'build', '--json', '-'], ['comux', 'run', '-', '--', '/bin/true'], ['comux', 'run', '--fork', '-', '--', '/bin/true']]) {
		// Before: 'stdin: truncated header at byte 0' (status 3), an empty JSON description, the backend's 'cannot read the input' (3).
		const result = await new Promise<{code: number; stderr: string}>(resolve => {
			execFile('/bin/sh', ['-c', 'dir=$1; shift; exec "$@" < "$dir"', 'sh', directory, process.execPath, cliPath, ...args], (error, _stdout, stderr) => {
				resolve({code: error ? Number(error.code) : 0, stderr});
			});
		});
		t.is(result.stderr, 'pdi: stdin: is a directory\n', args.join(' '));
		t.is(result.code, 2, args.join(' '));
	}
});

test('pdi comux replay of a directory holding a file it cannot read refuses it before any server starts, with and without --fork', async t => {
	const corpus = path.join(scratch, 'unreadable-corpus');
	mkdirSync(corpus, {recursive: true});
	chmodSync(scratch, 0o755);
	chmodSync(corpus, 0o777);
	writeFileSync(path.join(corpus, 'a.comux'), ping, {mode: 0o644});
	writeFileSync(path.join(corpus, 'z.comux'), ping, {mode: 0o600});
	// Another user's: root without its read override cannot read it, as any user could not.
	chownSync(path.join(corpus, 'z.comux'), otherUser.uid, otherUser.gid);
	const marker = path.join(corpus, 'started');
	// The server notes that it started, then exits without listening.
	const server = ['/bin/sh', '-c', `echo >> ${shellWord(marker)}`];
	for (const fork of [[], ['--fork']]) {
		const result = await pdiWithoutReadOverride(['comux', 'replay', corpus, '--no-progress', ...fork, '--', ...server]);
		// Before, a.comux was replayed, then the replay ended at z.comux with this line and a.comux's report was lost.
		t.is(result.stderr, `pdi: ${path.join(corpus, 'z.comux')}: permission denied\n`, fork.join(' '));
		t.is(result.code, 2);
		t.is(result.stdout, '');
		t.false(existsSync(marker), fork.join(' '));
	}
});

test('pdi comux replay names a file whose name holds a newline on one line of its report (\\x0a), so that the table keeps one line per file', async t => {
	const corpus = path.join(scratch, 'newline-corpus');
	mkdirSync(corpus, {recursive: true});
	writeFileSync(path.join(corpus, 'a.comux'), ping);
	writeFileSync(path.join(corpus, 'new\nline.comux'), ping);
	const result = await pdi(['comux', 'replay', corpus, '--no-progress', '--', '/bin/true']);
	t.is(result.code, 1);
	const lines = result.stdout.trimEnd().split('\n');
	t.regex(lines[2]!, /^new\\x0aline\.comux {2}no-listen {2}4 /);
	t.is(lines.length, 8, result.stdout);
	t.is(lines[7], 'new\\x0aline.comux: pdi-comux: the server exited with status 0 before it listened');
});

test('pdi comux run --log followed by the comux file (its value left out) refuses it instead of appending the log to the input', async t => {
	const input = path.join(scratch, 'log-value-left-out.comux');
	writeFileSync(input, ping);
	const result = await pdi(['comux', 'run', '--log', input, '--', echoServerPath, 'epoll', '0']);
	t.is(result.code, 2);
	t.is(result.stderr, `pdi: --log ${input}: is a comux file, not a log (--log takes a value: --log stderr or --log LOGFILE, then the comux FILE)\n`);
	t.deepEqual(readFileSync(input), Buffer.from(ping));
	t.deepEqual(processesMentioning(input), []);
});

test.serial('no comux command leaves an entry in TMPDIR, whether it succeeds, fails or the server never listens', async t => {
	const privateTmp = mkdtempSync(path.join(tmpdir(), 'pdi-comux-tmpdir-'));
	t.teardown(() => {
		rmSync(privateTmp, {recursive: true, force: true});
	});
	const files = mkdtempSync(path.join(scratch, 'inputs-'));
	const input = path.join(files, 'ping.comux');
	writeFileSync(input, ping);
	const corpus = path.join(files, 'corpus');
	mkdirSync(corpus);
	writeFileSync(path.join(corpus, 'a.comux'), ping);
	writeFileSync(path.join(corpus, 'b.comux'), 'not comux');
	const env = {...process.env, TMPDIR: privateTmp, ECHO_QUIET: '1'};
	const commands: Array<[string[], number]> = [
		[['comux', 'show', input], 0],
		[['comux', 'build', '--chunk', '0:a', '-o', path.join(files, 'built.comux')], 0],
		[['comux', 'config', '-o', path.join(files, 'comux.cfg')], 0],
		[['comux', 'run', input, '--', echoServerPath, 'epoll', '0'], 0],
		[['comux', 'run', path.join(corpus, 'b.comux'), '--', echoServerPath, 'epoll', '0'], 3],
		[['comux', 'run', input, '--', '/bin/true'], 4],
		[['comux', 'run', '--timeout', '200', input, '--', '/bin/sleep', '30'], 4],
		[['comux', 'run', path.join(files, 'absent.comux'), '--', '/bin/true'], 2],
		[['comux', 'replay', corpus, '--', echoServerPath, 'poll', '0'], 0],
		[['comux', 'replay', corpus, '--', '/bin/true'], 1],
	];
	for (const [args, code] of commands) {
		const result = await pdi(args, {env});
		t.is(result.code, code, `${args.join(' ')}: ${result.stderr}`);
		t.deepEqual(temporaryEntries(privateTmp), [], args.join(' '));
	}
});

const stoppedBy = {SIGINT: [130, '2 (Interrupt)'], SIGTERM: [143, '15 (Terminated)'], SIGQUIT: [131, '3 (Quit)']} as const;
// SIGQUIT: was a bug, pdi exited 131 at once without the guardian's line, and the guardian was left to notice it alone.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGQUIT'] as const) {
	test.serial(`${signal} to pdi comux run stops the whole server, leaves TMPDIR empty and exits 128+N`, async t => {
		const privateTmp = mkdtempSync(path.join(tmpdir(), 'pdi-comux-signal-'));
		t.teardown(() => {
			rmSync(privateTmp, {recursive: true, force: true});
		});
		const input = path.join(privateTmp, '..', path.basename(privateTmp) + '.comux');
		writeFileSync(input, ping);
		t.teardown(() => {
			rmSync(input, {force: true});
		});
		const marker = `${600 + (process.pid % 300)}.${{SIGINT: 25, SIGTERM: 75, SIGQUIT: 55}[signal]}`;
		const {child, stderr, exited} = startPdi(['comux', 'run', input, '--', '/bin/sh', '-c', `sleep ${marker}1 & sleep ${marker}2; echo done`], {...process.env, TMPDIR: privateTmp});
		const server = (): number[] => processesMentioning(`sleep ${marker}`).filter(pid => pid !== child.pid);
		for (let tries = 0; server().length < 4 && tries < 250; tries++) {
			await delay(20);
		}

		t.is(server().length, 4, 'the guardian, the shell and its two sleeps');
		child.kill(signal);
		const [status, named] = stoppedBy[signal];
		t.is(await exited, status);
		// The guardian gets the signal pdi got, and names it.
		t.is(stderr(), `pdi-comux: the server was stopped by signal ${named} before it listened\n`);
		t.deepEqual(server(), []);
		t.deepEqual(temporaryEntries(privateTmp), []);
	});
}

test.serial('Ctrl-C during pdi comux replay on a terminal ends the progress bar: line wrapping is on again and the prompt starts on a line of its own; nothing keeps running', async t => {
	const directory = mkdtempSync(path.join(scratch, 'many files-'));
	for (let index = 0; index < 400; index++) {
		writeFileSync(path.join(directory, `f${index}.comux`), comux().conn(0, `ping ${index}\n`, {awaitResponse: true}).bytes());
	}

	// The server by a name of this test's own: other test files run echo servers at the same time.
	const server = path.join(mkdtempSync(path.join(scratch, 'server-')), 'echo-server');
	symlinkSync(echoServerPath, server);
	const command = [process.execPath, cliPath, 'comux', 'replay', directory, '--', server, 'epoll', '0'].map(word => shellWord(word)).join(' ');
	// A terminal for pdi: script(1) runs it on a pseudo-terminal and passes a ^C written to its stdin on as the terminal's interrupt.
	// Without CI, which turns the bar off (.ci/run sets it).
	const environment = Object.fromEntries(Object.entries(process.env).filter(([name]) => name !== 'CI'));
	const terminal = spawn('script', ['-qfec', command, '/dev/null'], {env: {...environment, ECHO_QUIET: '1'}, stdio: ['pipe', 'pipe', 'inherit']});
	let screen = '';
	terminal.stdout.on('data', (chunk: Buffer) => {
		screen += chunk.toString('latin1');
	});
	const exited = new Promise<number | null>(resolve => {
		terminal.once('exit', code => {
			resolve(code);
		});
	});
	for (let tries = 0; !/ [1-9]\d*\/400 /.test(screen) && tries < 500; tries++) {
		await delay(20);
	}

	terminal.stdin.write('\u0003');
	t.is(await exited, 130);
	t.true(screen.includes('\u001B[?7l'), 'the bar was drawn');
	t.true(screen.lastIndexOf('\u001B[?7h') > screen.lastIndexOf('\u001B[?7l'), 'line wrapping is on again');
	t.regex(screen, /\r?\n$/);
	t.deepEqual(processesMentioning(server), []);
});

test.serial('pdi comux replay skips a dangling link (and a subdirectory) in DIR, naming it, and replays the files and the links to files, instead of saying that DIR does not exist', async t => {
	const directory = mkdtempSync(path.join(scratch, 'with links-'));
	writeFileSync(path.join(directory, 'a.comux'), comux().conn(0, 'ping\n', {awaitResponse: true}).bytes());
	symlinkSync(path.join(directory, 'a.comux'), path.join(directory, 'b.comux'));
	symlinkSync(path.join(scratch, 'nothing-here.comux'), path.join(directory, 'c.comux'));
	mkdirSync(path.join(directory, 'd'));
	const result = await pdi(['comux', 'replay', directory, '--json', '--', echoServerPath, 'epoll', '0'], {env: {...process.env, ECHO_QUIET: '1'}});
	t.is(result.code, 0, result.stderr);
	const report = JSON.parse(result.stdout) as {files: Array<{file: string; verdict: string}>};
	t.deepEqual(report.files.map(({file, verdict}) => [path.basename(file), verdict]), [['a.comux', 'ok'], ['b.comux', 'ok']]);
	const onlyDangling = mkdtempSync(path.join(scratch, 'dangling-'));
	symlinkSync(path.join(scratch, 'nothing-here.comux'), path.join(onlyDangling, 'x.comux'));
	const none = await pdi(['comux', 'replay', onlyDangling, '--', echoServerPath, 'epoll', '0']);
	t.is(none.code, 2);
	t.is(none.stderr, `pdi: ${onlyDangling}: no comux files to replay (the directory has no regular file; not a regular file, not replayed: x.comux (a dangling link))\n`);
});

test('the command docs/comux.md gives for an afl-fuzz that timed out initializing its fork server ends, with status 4 and the line saying why, for a server that never waits for a client nor exits', async t => {
	const markdown = readFileSync(path.join(root, 'docs/comux.md'), 'utf8').replaceAll(/\s+/g, ' ');
	const advice = /`Timeout while initializing fork server` \(it never came to wait for a client\), run a seed with `pdi comux run ([^`]*?) ?SEED -- SERVER ARGS\.\.\.`/.exec(markdown);
	t.truthy(advice, 'the advice is in docs/comux.md');
	const options = advice![1]!.split(' ').filter(word => word !== '');
	const seed = write('stuck-seed.comux', comux().conn(0, 'GET / HTTP/1.0\r\n\r\n', {awaitResponse: true}).bytes());
	// A server still starting (as nginx whose config has no listen directive stays): no listen, no exit.
	const started = performance.now();
	const result = await pdi(['comux', 'run', ...options, seed, '--', '/bin/sleep', '600'], {timeout: 30_000});
	t.is(result.code, 4, result.stderr);
	t.true(performance.now() - started < 29_000);
	t.regex(result.stderr, /^pdi-comux: the server was stopped by signal 15 \(Terminated\) before it listened$/m);
});

test.serial('pdi comux replay names the subdirectories of DIR it does not search (not hidden ones, as AFL++\'s queue/.state): a warning beside the files it replays, and in the error when DIR has no file', async t => {
	const directory = mkdtempSync(path.join(scratch, 'corpus-'));
	writeFileSync(path.join(directory, 'README.md'), '# seeds\n');
	for (const name of ['http', 'tls']) {
		mkdirSync(path.join(directory, name));
		writeFileSync(path.join(directory, name, 'a.comux'), comux().conn(0, 'ping\n', {awaitResponse: true}).bytes());
	}

	mkdirSync(path.join(directory, '.state'));
	const result = await pdi(['comux', 'replay', directory, '--', echoServerPath, 'epoll', '0'], {env: {...process.env, ECHO_QUIET: '1'}});
	t.is(result.code, 0, result.stderr);
	t.is(result.stderr, `pdi: warning: ${directory}: its subdirectories http, tls are not searched: replay each on its own\n`);
	t.regex(result.stdout, /^1 file: 1 invalid$/m);
	const onlySubdirectory = mkdtempSync(path.join(scratch, 'nested-'));
	mkdirSync(path.join(onlySubdirectory, 'queue'));
	mkdirSync(path.join(onlySubdirectory, '.state'));
	const none = await pdi(['comux', 'replay', onlySubdirectory, '--', echoServerPath, 'epoll', '0']);
	t.is(none.code, 2);
	t.is(none.stderr, `pdi: ${onlySubdirectory}: no comux files to replay (the directory has no regular file; its subdirectory queue is not searched: replay it on its own)\n`);
});

test.serial('pdi comux replay warns of the entries of DIR that are not regular files (a FIFO, a dangling link) and names a link that loops instead of failing on DIR', async t => {
	const directory = mkdtempSync(path.join(scratch, 'odd-entries-'));
	writeFileSync(path.join(directory, 'a.comux'), comux().conn(0, 'ping\n', {awaitResponse: true}).bytes());
	execFileSync('mkfifo', [path.join(directory, 'f.comux')]);
	symlinkSync(path.join(scratch, 'absent-target'), path.join(directory, 'dangling'));
	const result = await pdi(['comux', 'replay', directory, '--', echoServerPath, 'epoll', '0'], {env: {...process.env, ECHO_QUIET: '1'}});
	t.is(result.code, 0, result.stderr);
	// Before, both were left out without a word.
	t.is(result.stderr, `pdi: warning: ${directory}: not regular files, not replayed: dangling (a dangling link), f.comux (a FIFO)\n`);
	t.regex(result.stdout, /^1 file: 1 ok$/m);
	symlinkSync('loop', path.join(directory, 'loop'));
	const looping = await pdi(['comux', 'replay', directory, '--', echoServerPath, 'epoll', '0']);
	// Before: 'pdi: DIR: too many levels of symbolic links', as if DIR itself were the link.
	t.deepEqual([looping.code, looping.stderr, looping.stdout], [2, `pdi: ${path.join(directory, 'loop')}: too many levels of symbolic links\n`, '']);
	const onlyFifo = mkdtempSync(path.join(scratch, 'only-fifo-'));
	execFileSync('mkfifo', [path.join(onlyFifo, 'x')]);
	const none = await pdi(['comux', 'replay', onlyFifo, '--', echoServerPath, 'epoll', '0']);
	t.deepEqual([none.code, none.stderr], [2, `pdi: ${onlyFifo}: no comux files to replay (the directory has no regular file; not a regular file, not replayed: x (a FIFO))\n`]);
});

test.serial('pdi comux replay of afl-fuzz\'s crashes/ leaves out the README.txt afl-fuzz writes there, and only that one', async t => {
	const crashes = mkdtempSync(path.join(scratch, 'crashes-'));
	writeFileSync(path.join(crashes, 'README.txt'), 'Command line used to find this crash:\n\nafl-fuzz -i seeds -o out -- ./server\n');
	writeFileSync(path.join(crashes, 'id:000000,sig:06,src:000001,time:22,execs:82,add-conn'), comux().conn(0, 'ping\n', {awaitResponse: true}).bytes());
	const replayed = await pdi(['comux', 'replay', crashes, '--json', '--', echoServerPath, 'epoll', '0'], {env: {...process.env, ECHO_QUIET: '1'}});
	t.is(replayed.code, 0, replayed.stderr);
	t.deepEqual((JSON.parse(replayed.stdout) as {files: Array<{file: string}>}).files.map(({file}) => path.basename(file)), ['id:000000,sig:06,src:000001,time:22,execs:82,add-conn']);
	const seeds = mkdtempSync(path.join(scratch, 'readme-'));
	writeFileSync(path.join(seeds, 'README.txt'), 'Seeds for the login form.\n');
	const other = await pdi(['comux', 'replay', seeds, '--json', '--', echoServerPath, 'epoll', '0'], {env: {...process.env, ECHO_QUIET: '1'}});
	t.deepEqual((JSON.parse(other.stdout) as {files: Array<{file: string; verdict: string}>}).files.map(({file, verdict}) => [path.basename(file), verdict]), [['README.txt', 'invalid']]);
});
