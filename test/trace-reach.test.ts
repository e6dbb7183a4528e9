import {execFileSync} from 'node:child_process';
import {readFileSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {spawn} from '../src/ts/launch/spawn.js';
import type {CallEvent} from '../src/ts/trace/events.js';
import {traceConfig, traceMaxStubs} from '../src/ts/trace/options.js';
import {pdi} from './helpers/cli.js';
import {scratchDirectory} from './helpers/files.js';
import {fixtures} from './helpers/preload.js';

const scratch = scratchDirectory('pdi-trace-reach-');

/** A program on PATH, or undefined. */
function which(name: string): string | undefined {
	try {
		return execFileSync('sh', ['-c', `command -v ${name}`], {encoding: 'utf8'}).trim() || undefined;
	} catch {
		return undefined;
	}
}

// curl loads about 35 objects (libcurl, OpenSSL's libcrypto and libssl, the GSSAPI, LDAP, SSH and IDN libraries...)
// with about 9,000 imports: more than the default cb_max_stubs of 4096.
const curl = which('curl');
const big = curl ? {program: curl, ok: ['-s', 'file:///etc/hostname'], failing: ['-s', 'file:///nonexistent-pdi'], status: 37}
	: {program: which('python3') ?? 'python3', ok: ['-c', 'import ssl, sqlite3, json'], failing: ['-c', 'import ssl; raise SystemExit(37)'], status: 37};

test('pdi trace --object \'*\' traces every object of a program with thousands of imports across many libraries, and exits with the program\'s status', async t => {
	const file = path.join(scratch, 'all.json');
	const run = await pdi(['trace', '--json', '-o', file, '--object', '*', '--', big.program, ...big.ok], {timeout: 110_000});
	t.is(run.code, 0, run.stderr);
	t.notRegex(run.stderr, /stubs|cb_max_stubs|pdi\.cfg|rules\[/);
	const calls = readFileSync(file, 'utf8').trimEnd().split('\n').map(line => JSON.parse(line) as CallEvent);
	const callers = new Set(calls.map(call => path.basename(call.caller)));
	t.true(calls.length > 100, `${calls.length} calls`);
	t.true(callers.size >= 3, [...callers].join(' '));
	t.true(callers.has(path.basename(big.program)), [...callers].join(' '));

	const summary = await pdi(['trace', '-c', '--object', '*', '--', big.program, ...big.failing], {timeout: 110_000});
	t.is(summary.code, big.status, summary.stderr);
	t.regex(summary.stderr, /^total\s+\d+/m);
	t.notRegex(summary.stderr, /no calls traced|stubs/);
});

test('an object needing more stubs than the trace\'s pool leaves is reported naming the trace\'s option, not a config the user never wrote', async t => {
	const config = traceConfig(['$main'], '--object');
	t.is(config.options.cbMaxStubs, traceMaxStubs);
	config.options.cbMaxStubs = 2;
	const child = spawn(config, path.join(fixtures, 'trace', 'traceprog'), [], {stdio: ['ignore', 'ignore', 'pipe'], env: {...process.env, PDI_TRACE_OUTPUT: '/dev/null'}});
	let stderr = '';
	child.stderr.on('data', (chunk: Buffer) => {
		stderr += chunk.toString();
	});
	const code = await new Promise<number | null>(resolve => child.once('close', resolve));
	t.is(code, 2);
	t.regex(stderr, /^pdi: trace: --object '\$main': callback \$main: .+\/traceprog needs \d+ stubs, but cb_max_stubs = 2 leaves 2 free$/m);
	t.notRegex(stderr, /pdi\.cfg|rules\[0\]/);
});

test('a function pdi never instruments, named by -e, is reported as such (exit: it does not return), in text, --json and -c, and the status stays the program\'s', async t => {
	const source = path.join(scratch, 'ex.c');
	writeFileSync(source, '#include <stdlib.h>\n#include <unistd.h>\nint main(void) { getpid(); exit(5); }\n');
	const program = path.join(scratch, 'ex');
	execFileSync('gcc', ['-o', program, source]);
	const never = 'pdi: trace: exit: pdi never traces exit (it does not return to its caller: docs/mechanisms.md, "Which imports")';
	for (const mode of [[], ['--json'], ['-c']]) {
		const run = await pdi(['trace', ...mode, '-e', 'exit,getpid,vfork,dlsym', '--', program]);
		t.is(run.code, 5, run.stderr);
		const lines = run.stderr.split('\n');
		t.true(lines.includes(never), `${mode.join(' ')}: ${run.stderr}`);
		t.true(lines.includes('pdi: trace: vfork: pdi never traces vfork (it returns twice: docs/mechanisms.md, "Which imports")'), run.stderr);
		t.true(lines.includes('pdi: trace: dlsym: pdi never traces dlsym (it finds its caller by its return address: docs/mechanisms.md, "Which imports")'), run.stderr);
		t.notRegex(run.stderr, /exit: (process \d+ has no call site|no call of it was traced)/);
		t.regex(run.stderr, /getpid/);
	}

	// A function that may be traced but has no call site keeps the other notice.
	const plain = await pdi(['trace', '-c', '-e', 'getpid,malloc', '--', program]);
	t.regex(plain.stderr, /^pdi: trace: malloc: no call of it was traced \(no traced object imports it, or they only take its address from a pointer slot/m);
	// One the program imports and never calls is told apart (it read as one nothing imports).
	const uncalled = await pdi(['trace', '-c', '-e', 'write', '--', 'cat', '/dev/null']);
	t.is(uncalled.code, 0, uncalled.stderr);
	t.regex(uncalled.stderr, /^pdi: trace: write: no call of it was traced \(a traced object imports it, and made no call of it\)$/m);
	// A successful exec never returns, so it has no line: it was called (before, the notice said it was not).
	const exec = await pdi(['trace', '-f', '-c', '-e', 'execve', '--', 'sh', '-c', 'ls / | wc -l']);
	t.is(exec.code, 0, exec.stderr);
	t.regex(exec.stderr, /^pdi: trace: execve: no call of it returned \(a traced object imports it; a call that succeeds runs another program and never returns, so only failed ones have a line\)$/m);
});
