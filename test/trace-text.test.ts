import {execFileSync} from 'node:child_process';
import {chmodSync, readFileSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {cliPath, pdi} from './helpers/cli.js';
import {scratchDirectory} from './helpers/files.js';
import {fixtures, runPreloaded, writeConfig} from './helpers/preload.js';
import {shellWord} from './helpers/quote.js';

// pdi trace's text mode goes through the event rings, as --json does (docs/trace.md, "Transport"): the traced
// program writes nothing per call, and pdi's reader thread writes the very lines the backend writes on its own.
const writes = path.join(fixtures, 'trace', 'writes');
const traceprog = path.join(fixtures, 'trace', 'traceprog');
const follow = path.join(fixtures, 'trace', 'follow');
const chatter = path.join(fixtures, 'trace', 'chatter');
const events = path.join(fixtures, 'trace', 'events');
const scratch = scratchDirectory('pdi-trace-text-');

/** The write system calls the `writes` fixture counted over its 2000 traced getpid calls. */
function countedWrites(stdout: string): number {
	const match = /^2000 calls, (\d+) writes$/m.exec(stdout);
	if (!match) {
		throw new Error(`unexpected output: ${stdout}`);
	}

	return Number(match[1]);
}

test('text mode costs the traced program no write per call: 2000 traced calls make a handful of writes, to stderr and to -o FILE', async t => {
	const toStderr = await pdi(['trace', '-e', 'getpid', '--', writes], {timeout: 60_000});
	t.is(toStderr.code, 0, toStderr.stderr);
	t.true(countedWrites(toStderr.stdout) < 50, toStderr.stdout);
	t.is(toStderr.stderr.split('\n').filter(line => /^\d+ \d+ {2}writes!getpid\(\) = \d+$/.test(line)).length, 2000);
	const file = path.join(scratch, 'writes.txt');
	const toFile = await pdi(['trace', '-e', 'getpid', '-o', file, '--', writes], {timeout: 60_000});
	t.is(toFile.code, 0, toFile.stderr);
	t.true(countedWrites(toFile.stdout) < 50, toFile.stdout);
	t.is(readFileSync(file, 'utf8').split('\n').filter(line => /^\d+ \d+ {2}writes!getpid\(\) = \d+$/.test(line)).length, 2000);
});

/** Lines with what differs from run to run made equal: the ids, times and durations, and addresses. */
function comparable(text: string): string[] {
	return text.split('\n').filter(line => line !== '').map(line => line
		.replace(/^\d+ \d+ {2}\d+\.\d{6} /, 'PID TID  S ')
		.replace(/ <\d+\.\d{6}>$/, ' <D>')
		.replaceAll(/0x[\da-f]{5,}/g, '0xADDRESS'));
}

test('the lines pdi writes are those the backend writes on its own (a config by hand): ids, -t, depth, -T, errno, raw registers, strings cut by -s', async t => {
	const backendFile = path.join(scratch, 'backend.txt');
	const settings = {PDI_TRACE_TIME: '1', PDI_TRACE_TIMESTAMP: '1', PDI_TRACE_ARGS: '2', PDI_TRACE_STRING_SIZE: '8'};
	const byHand = await runPreloaded(traceprog, [], writeConfig(['backend t = trace', 'callback $main * t']), {...settings, PDI_TRACE_OUTPUT: backendFile});
	t.is(byHand.code, 0, byHand.stderr);
	const pdiFile = path.join(scratch, 'pdi.txt');
	const run = await pdi(['trace', '-T', '-t', '--args', '2', '-s', '8', '-o', pdiFile, '--', traceprog], {timeout: 60_000});
	t.is(run.code, 0, run.stderr);
	const lines = comparable(readFileSync(pdiFile, 'utf8'));
	t.deepEqual(lines, comparable(readFileSync(backendFile, 'utf8')));
	// What the comparison covers.
	for (const expected of [
		/^PID TID {2}S traceprog!access\(0x8, F_OK\) = -1 errno EFAULT <D>$/,
		/^PID TID {2}S traceprog!access\("no\\tsuch\\n"\.\.\., F_OK\) = -1 errno ENOENT <D>$/,
		/^PID TID {2}S {3}traceprog!strcmp\("\w+", "\w+"\) = -?\d+ <D>$/,
		/^PID TID {2}S traceprog!tl_greet\(0xADDRESS, 0x3\) = 0x[\da-f]+ <D>$/,
	]) {
		t.true(lines.some(line => expected.test(line)), `${String(expected)}\n${lines.join('\n')}`);
	}
});

test('a function -e names that a process has no call site of is said in -o FILE, after that process\'s lines, as the backend did', async t => {
	const file = path.join(scratch, 'notice.txt');
	const run = await pdi(['trace', '-e', 'labs,puts', '-o', file, '--', path.join(fixtures, 'trace', 'pointer')], {timeout: 60_000});
	t.is(run.code, 0, run.stderr);
	t.is(run.stderr, '');
	const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
	t.is(lines.length, 2, lines.join('\n'));
	t.regex(lines[0]!, /^\d+ \d+ {2}pointer!puts\("pointer"\) = \d+$/);
	t.regex(lines[1]!, /^pdi: trace: labs: process \d+ has no call site of it to trace \(/);
});

test('-f text: the lines of a parent and the child it waits for come in the order the calls returned, every run', async t => {
	for (let run = 0; run < 10; run++) {
		const result = await pdi(['trace', '-f', '-e', 'abs', '--', follow, 'fork'], {timeout: 60_000});
		t.is(result.code, 0, result.stderr);
		t.deepEqual([...result.stderr.matchAll(/!abs\((\d)\)/g)].map(match => match[1]), ['1', '2', '3'], result.stderr);
	}
});

test('the backend on its own (a config by hand) still writes its lines itself, and says at its exit how many it could not write', async t => {
	const config = writeConfig(['backend t = trace', 'callback $main * t']);
	const file = path.join(scratch, 'own.txt');
	const own = await runPreloaded(writes, [], config, {PDI_TRACE_FUNCTIONS: 'getpid', PDI_TRACE_OUTPUT: file});
	t.is(own.code, 0, own.stderr);
	t.true(countedWrites(own.stdout) >= 2000, own.stdout);
	t.is(readFileSync(file, 'utf8').split('\n').filter(line => /^\d+ \d+ {2}writes!getpid\(\) = \d+$/.test(line)).length, 2000);
	const full = await runPreloaded(writes, [], config, {PDI_TRACE_FUNCTIONS: 'getpid', PDI_TRACE_OUTPUT: '/dev/full'});
	t.is(full.code, 0, full.stderr);
	t.regex(full.stderr, /^pdi: trace: writing \/dev\/full failed: no space left on device \(\d+ line\(s\) of process \d+ lost\)$/m);
});

test('in a pipe that the program writes its own stderr to as well, every trace line stays whole, also while the pipe is full', t => {
	// chatter writes 10000 lines of 199 p's, each in one write(2), from a thread while its main thread makes 100000
	// traced calls; the reader starts late, so that both writers wait on a full pipe.
	for (let run = 0; run < 2; run++) {
		const output = execFileSync('sh', ['-c', `${shellWord(process.execPath)} ${shellWord(cliPath)} trace -e getpid -- ${shellWord(chatter)} 2>&1 | (sleep 0.3; cat)`], {encoding: 'utf8', maxBuffer: 64 << 20, timeout: 120_000});
		const lines = output.split('\n').filter(line => line !== '');
		const broken = lines.filter(line => !/^p{199}$/.test(line) && !/^\d+ \d+ {2}chatter!getpid\(\) = \d+$/.test(line));
		t.deepEqual(broken.slice(0, 3), [], `run ${run}: ${broken.length} broken lines`);
		t.is(lines.length, 110_000);
	}
});

test('a program pdi cannot start is said in its one line, in every mode: no empty -c table or -e notice before it', async t => {
	const notExecutable = path.join(scratch, 'not-executable.sh');
	writeFileSync(notExecutable, '#!/bin/sh\necho hi\n');
	chmodSync(notExecutable, 0o644);
	const programs = [
		[path.join(scratch, 'missing'), 'no such file or directory'],
		[notExecutable, 'permission denied (not executable)'],
		[path.join(fixtures, 'static', 'fixprog-static'), 'statically linked; pdi needs a dynamically linked program (LD_PRELOAD has no effect on it)'],
	] as const;
	for (const mode of [[], ['-c'], ['-c', '-e', 'getpid'], ['-c', '-f', '-e', 'getpid'], ['--json', '-e', 'getpid'], ['-f', '-e', 'getpid']]) {
		for (const [program, reason] of programs) {
			const result = await pdi(['trace', ...mode, '--', program]);
			t.is(result.code, 2, `${mode.join(' ')} ${program}`);
			t.is(result.stderr, `pdi: ${program}: ${reason}\n`, `${mode.join(' ')} ${program}`);
		}
	}
});

test('300 threads alive at once are all traced: a config\'s 256 thread slots would leave the calls of 44 untraced', async t => {
	const run = await pdi(['trace', '-e', 'abs', '--', events, 'crowd', '300'], {timeout: 60_000});
	t.is(run.code, 0, run.stderr);
	const lines = run.stderr.split('\n').filter(line => line !== '');
	t.is(lines.filter(line => /^\d+ \d+ {2}events!abs\(-?\d+\) = \d+$/.test(line)).length, 600, lines.filter(line => !line.includes('!abs(')).join('\n'));
	t.is(new Set(lines.map(line => line.split(' ')[1])).size, 300);
	t.deepEqual(lines.filter(line => !line.includes('!abs(')), []);
});
