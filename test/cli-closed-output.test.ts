import {execFile} from 'node:child_process';
import {mkdirSync, readFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {cliPath, pdi} from './helpers/cli.js';
import {scratchDirectory, temporaryEntries} from './helpers/files.js';
import {processesMentioning} from './helpers/servers.js';

// pdi's stdout is a pipe whose reader goes away: `head -c 10` after reading a little of an output larger than the
// pipe holds, or a reader gone before pdi starts. pdi must end as a program SIGPIPE ends (status 141), print
// nothing, and leave neither temporary directories nor programs behind.
const inputs = scratchDirectory('pdi-closed-output-');
const comuxFile = path.join(inputs, 'big.comux');

test.before(async () => {
	const chunks = Array.from({length: 2000}, (_, index) => ['--chunk', `${index % 3}:request ${index}\\r\\n`]).flat();
	const built = await pdi(['comux', 'build', '-o', comuxFile, ...chunks]);
	if (built.code !== 0) {
		throw new Error(built.stderr);
	}
});

type Reader = 'head' | 'gone' | 'fifo';

const readers: Record<Reader, string> = {
	head: '{ "$@" 2>"$RUN/stderr"; echo $? >"$RUN/status"; } | head -c 10 >/dev/null',
	gone: '{ while [ ! -e "$RUN/gone" ]; do sleep 0.01; done; "$@" 2>"$RUN/stderr"; echo $? >"$RUN/status"; } | { exec 0<&-; : >"$RUN/gone"; }',
	fifo: 'mkfifo "$RUN/fifo"; head -c 10 "$RUN/fifo" >/dev/null & "$@" 2>"$RUN/stderr"; echo $? >"$RUN/status"; wait',
};

const described: Record<Reader, string> = {head: 'a pipe whose reader stops after 10 bytes', gone: 'a pipe whose reader has gone', fifo: 'a named pipe whose reader stops after 10 bytes'};

/** Runs `pdi args | READER` in sh (with 'fifo', `head` reads the named pipe `fifo` of `run`) with a private TMPDIR: pdi's exit status, its stderr and what is left in TMPDIR. */
async function intoClosedPipe(run: string, args: readonly string[], reader: Reader): Promise<{status: number; stderr: string; left: string[]}> {
	const temporary = path.join(run, 'tmp');
	mkdirSync(temporary);
	await new Promise<void>((resolve, reject) => {
		execFile('/bin/sh', ['-c', readers[reader], 'sh', process.execPath, cliPath, ...args], {env: {...process.env, TMPDIR: temporary, RUN: run}, timeout: 60_000}, error => {
			if (error) {
				reject(new Error(error.message, {cause: error}));
			} else {
				resolve();
			}
		});
	});
	return {status: Number(readFileSync(path.join(run, 'status'), 'utf8')), stderr: readFileSync(path.join(run, 'stderr'), 'utf8'), left: temporaryEntries(temporary)};
}

/** A program that runs a moment, calling libc in a loop, marked by `token` on its command line. */
function busyProgram(token: string): string[] {
	return ['/bin/sh', '-c', 'i=0; while [ $i -lt 300 ]; do i=$((i+1)); done; sleep 0.5', token];
}

const cases: Array<[string, (token: string, fifo: string) => string[], Reader]> = [
	['pdi inspect', () => ['inspect', '--', '/usr/bin/python3'], 'gone'],
	['pdi inspect --json', () => ['inspect', '--json', '--', '/bin/ls'], 'head'],
	['pdi inspect --run --json', token => ['inspect', '--run', '--json', '--', ...busyProgram(token)], 'head'],
	['pdi trace -o /dev/stdout', token => ['trace', '-o', '/dev/stdout', '--', ...busyProgram(token)], 'head'],
	['pdi trace --json -o /dev/stdout', token => ['trace', '--json', '-o', '/dev/stdout', '--', ...busyProgram(token)], 'head'],
	['pdi trace -c -o /dev/stdout', token => ['trace', '-c', '-o', '/dev/stdout', '--', ...busyProgram(token)], 'gone'],
	['pdi trace -o FIFO', (token, fifo) => ['trace', '-o', fifo, '--', ...busyProgram(token)], 'fifo'],
	['pdi trace --json -o FIFO', (token, fifo) => ['trace', '--json', '-o', fifo, '--', ...busyProgram(token)], 'fifo'],
	['pdi comux show', () => ['comux', 'show', comuxFile], 'head'],
	['pdi comux show --json', () => ['comux', 'show', '--json', comuxFile], 'head'],
	['pdi paths --json', () => ['paths', '--json'], 'gone'],
	['pdi config schema', () => ['config', 'schema'], 'gone'],
];

for (const [what, args, reader] of cases) {
	test(`${what} into ${described[reader]} exits 141 without a word and leaves nothing running or behind`, async t => {
		const token = `pdi-closed-output-${process.pid}-${Math.random().toString(36).slice(2)}`;
		const run = scratchDirectory('pdi-closed-output-run-');
		const result = await intoClosedPipe(run, args(token, path.join(run, 'fifo')), reader);
		t.is(result.status, 141, result.stderr);
		t.is(result.stderr, '');
		t.deepEqual(result.left, []);
		t.deepEqual(processesMentioning(token), []);
	});
}
