import {spawn} from 'node:child_process';
import {existsSync, readdirSync, readFileSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {attach} from '../src/ts/attach/attach.js';
import {PdiError} from '../src/ts/errors.js';
import {pdi} from './helpers/cli.js';
import {compileC, scratchDirectory} from './helpers/files.js';
import {until} from './helpers/until.js';

test('a bad PID operand of pdi attach is one line that quotes it, status 2, as -p of pdi trace', async t => {
	// Before: 'pdi:  is not a process id' for '' (the value unquoted, so an empty or blank PID showed as nothing),
	// and '05' was taken for process 5 while pdi trace -p refused it.
	const expected = (value: string) => `pdi: PID: expected a process id (a decimal integer from 1 to 2147483647), got '${value}'\n`;
	for (const value of ['', ' ', 'abc', '0', '-1', ' 12', '05', '0x10', '1.5', '2147483648']) {
		const run = await pdi(['attach', '-c', 'x.yaml', '--', value]);
		t.deepEqual([run.code, run.stdout, run.stderr], [2, '', expected(value)], value);
	}

	const multiline = await pdi(['attach', '1\n2', '-c', 'x.yaml']);
	t.deepEqual([multiline.code, multiline.stderr], [2, String.raw`pdi: PID: expected a process id (a decimal integer from 1 to 2147483647), got '1\x0a2'` + '\n']);
	// The PID is checked before the configs: no -c is still the PID's error first, as before.
	const noConfig = await pdi(['attach', 'abc']);
	t.deepEqual([noConfig.code, noConfig.stderr], [2, expected('abc')]);
	const missing = await pdi(['attach', '2147483647', '-c', 'x.yaml']);
	t.deepEqual([missing.code, missing.stderr], [2, 'pdi: no such process: 2147483647\n']);
});

test('the id of a thread that is not its process\'s first is refused for pdi attach, pdi trace -p and attach(), naming the process it belongs to', async t => {
	// Before: taken for a process, `attached to process TID`, while an attach of the real process said that pdi was
	// already attached to it.
	const scratch = scratchDirectory('pdi-cli8-thread-');
	const program = compileC(scratch, 'two-threads', `
#include <pthread.h>
#include <unistd.h>
static void *idle(void *unused) { (void)unused; for (;;) pause(); return NULL; }
int main(void) { pthread_t thread; pthread_create(&thread, NULL, idle, NULL); for (;;) pause(); }
`, ['-pthread']);
	const child = spawn(program, [], {stdio: 'ignore'});
	try {
		const pid = child.pid!;
		t.true(await until(() => readdirSync(`/proc/${pid}/task`).length === 2));
		const thread = readdirSync(`/proc/${pid}/task`).map(Number).find(task => task !== pid)!;
		const expected = `${thread} is a thread of process ${pid}, not a process: attach to process ${pid} (every thread of it is attached to)`;
		const config = path.join(scratch, 'count.cfg');
		writeFileSync(config, 'act $main pause count\n');
		for (const args of [['attach', String(thread), '-c', config], ['trace', '-p', String(thread)]]) {
			const run = await pdi(args);
			t.deepEqual([run.code, run.stderr], [2, `pdi: ${expected}\n`], args[0]);
		}

		await t.throwsAsync(attach(thread, undefined, {configFiles: [config]}), {instanceOf: PdiError, message: expected});
	} finally {
		child.kill('SIGKILL');
	}
});

// Was: the refusal left an empty FILE behind, where trace.md says that -o FILE is touched once the trace begins.
test('a refused pdi trace -p makes no -o FILE, and leaves one that was there as it was', async t => {
	const scratch = scratchDirectory('pdi trace refused ');
	const fresh = path.join(scratch, 'fresh.txt');
	for (const options of [[], ['--json'], ['-c']]) {
		const run = await pdi(['trace', '-p', '2', ...options, '-o', fresh]);
		t.deepEqual([run.code, run.stderr], [2, 'pdi: process 2 is a kernel thread: it has no program to load pdi into\n'], options.join(' '));
		t.false(existsSync(fresh), options.join(' '));
	}

	const earlier = path.join(scratch, 'earlier.txt');
	writeFileSync(earlier, 'an earlier trace\n');
	const run = await pdi(['trace', '-p', '2', '-o', earlier]);
	t.is(run.code, 2);
	t.is(readFileSync(earlier, 'utf8'), 'an earlier trace\n');
});

test('pdi trace of a program that cannot start makes no -o FILE', async t => {
	const fresh = path.join(scratchDirectory('pdi trace no program '), 'fresh.txt');
	const run = await pdi(['trace', '-o', fresh, '--', './no-such-program']);
	t.deepEqual([run.code, run.stderr], [2, 'pdi: ./no-such-program: no such file or directory\n']);
	t.false(existsSync(fresh));
});
