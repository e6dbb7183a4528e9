import {execFileSync, spawn as childSpawn, spawnSync} from 'node:child_process';
import {closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {setTimeout} from 'node:timers/promises';
import test from 'ava';
import {spawn} from '../src/ts/launch/spawn.js';
import type {CallEvent} from '../src/ts/trace/events.js';
import {parseEventLines, TraceReader} from '../src/ts/trace/reader.js';
import {cliPath, pdi, root} from './helpers/cli.js';
import {scratchDirectory} from './helpers/files.js';
import {fixtures, testArch} from './helpers/preload.js';
import {until} from './helpers/until.js';

const events = path.join(fixtures, 'trace', 'events');
const scratch = scratchDirectory('pdi-trace-events-');
const fields = ['pid', 'tid', 'thread', 'depth', 'caller', 'callee', 'function', 'version', 'args', 'ret', 'errno', 'startNs', 'durationNs', 'abandoned'];
// The interpreter itself (python3 may be a shell shim whose waiting loops vary from run to run).
const pythonBinary = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], {encoding: 'utf8'}).trim();
const python = [pythonBinary, '-c', 'import json; json.dumps(list(range(1000)))'];
const pythonEnv = {...process.env, PYTHONHASHSEED: '0'};

/** `pdi trace OPTIONS -o FILE -- COMMAND`: the run and the file's text. */
async function trace(options: readonly string[], command: readonly string[], env: NodeJS.ProcessEnv = process.env) {
	const file = path.join(scratch, `trace-${Math.random().toString(36).slice(2)}`);
	const run = await pdi(['trace', ...options, '-o', file, '--', ...command], {timeout: 120_000, env});
	return {run, text: run.code === 0 ? readFileSync(file, 'utf8') : ''};
}

async function json(command: readonly string[], options: readonly string[] = [], env?: NodeJS.ProcessEnv) {
	const {run, text} = await trace(['--json', ...options], command, env);
	const calls = text.split('\n').filter(line => line !== '').map(line => JSON.parse(line) as CallEvent);
	return {run, calls};
}

test('--json lines all parse and carry every field; the program\'s stdout stays its own', async t => {
	const {run, calls} = await json(['cat', '/etc/hostname'], ['-e', 'open*,read,close']);
	t.is(run.code, 0, run.stderr);
	t.is(run.stdout, readFileSync('/etc/hostname', 'utf8'));
	t.true(calls.length >= 3);
	for (const call of calls) {
		t.deepEqual(Object.keys(call), fields);
		t.is(call.pid, calls[0]!.pid);
		t.is(typeof call.startNs, 'number');
		t.is(typeof call.durationNs, 'number');
	}

	const open = calls.find(call => call.function.startsWith('open'));
	t.truthy(open, JSON.stringify(calls));
	t.true(open!.args!.includes('/etc/hostname'));
	t.true(open!.args!.includes('O_RDONLY'));
	t.is(typeof open!.ret, 'number');
	t.is(open!.errno, null);
	t.regex(open!.callee!, /libc\.so\.6$/);
	t.regex(open!.caller, /cat$/);
	const read = calls.find(call => call.function === 'read')!;
	t.regex(String(read.args![1]), /^0x[\da-f]+$/);
});

test('--json names errno for a failed call', async t => {
	const {run, calls} = await json([path.join(fixtures, 'trace', 'traceprog')], ['-e', 'access']);
	t.is(run.code, 0, run.stderr);
	t.deepEqual(calls.map(call => [call.ret, call.errno]), [[-1, 'EFAULT'], [-1, 'ENOENT']]);
	t.deepEqual(calls[1]!.args, ['no\tsuch\nfile', 'F_OK']);
});

test('an 8-thread program\'s events are in call order on every thread', async t => {
	const {run, calls} = await json([events, 'threads'], ['-e', 'abs']);
	t.is(run.code, 0, run.stderr);
	t.is(calls.length, 8000);
	const byTid = new Map<number, number[]>();
	for (const call of calls) {
		byTid.set(call.tid, [...byTid.get(call.tid) ?? [], call.args![0] as number]);
	}

	t.is(byTid.size, 8);
	for (const values of byTid.values()) {
		const base = values[0]!;
		t.is(base % 1000, 0);
		t.deepEqual(values, Array.from({length: 1000}, (_, i) => base + i));
	}
});

test('a call left by longjmp shows abandoned: true', async t => {
	const {run, calls} = await json([events, 'longjmp'], ['-e', 'qsort,puts']);
	t.is(run.code, 0, run.stderr);
	t.is(run.stdout, 'escaped\n');
	t.deepEqual(calls.map(call => [call.function, call.abandoned, call.ret]), [['qsort', true, null], ['puts', false, 8]]);
});

test('lossless: 200k calls in a tight loop give 200k events, none lost', async t => {
	const {run, calls} = await json([events, 'loop', '200000'], ['-e', 'abs']);
	t.is(run.code, 0, run.stderr);
	t.notRegex(run.stderr, /lost/);
	t.is(calls.length, 200_000);
	t.true(calls.every((call, i) => call.args![0] === i && call.ret === i));
});

/** The function → calls of a `-c` table, summed over its processes. */
function summaryCounts(text: string): Map<string, number> {
	const counts = new Map<string, number>();
	for (const line of text.split('\n')) {
		const match = /^(\S+)\s+(\d+)\s+(\d+)\s+\d+\.\d{6}\s+\d+\.\d{3}\s+\d+\.\d{2}$/.exec(line);
		if (match) {
			counts.set(match[1]!, (counts.get(match[1]!) ?? 0) + Number(match[2]));
		}
	}

	return counts;
}

/** Per function, the calls of a --json run. */
async function jsonCounts(command: readonly string[], options: readonly string[]): Promise<Map<string, number>> {
	const {run, calls} = await json(command, options);
	if (run.code !== 0) {
		throw new Error(run.stderr);
	}

	const counts = new Map<string, number>();
	for (const call of calls) {
		counts.set(call.function, (counts.get(call.function) ?? 0) + 1);
	}

	return new Map([...counts].sort());
}

test('-c on python3 prints a table per process with libpython\'s calls into libc', async t => {
	const summary = await trace(['-c', '--object', 'libpython*', '-e', '*@libc.so.6'], python, pythonEnv);
	t.is(summary.run.code, 0, summary.run.stderr);
	t.regex(summary.text, /^pid \d+ \(\/\S+\)\nfunction +calls +errors +seconds +usecs\/call +% time\n/);
	const counts = summaryCounts(summary.text);
	t.true(counts.size > 10);
	t.true((counts.get('memcpy') ?? 0) > 1000);
});

test('-c counts equal a --json run\'s on a deterministic program (8 threads, every import of the program)', async t => {
	// python3's own call counts vary a little from run to run (clock reads, allocator), so the
	// equality of the two outputs is checked on a program whose calls are fixed.
	const command = [events, 'threads'];
	const summary = await trace(['-c'], command);
	t.is(summary.run.code, 0, summary.run.stderr);
	const fromSummary = new Map([...summaryCounts(summary.text)].sort());
	t.is(fromSummary.get('abs'), 8000);
	t.true(fromSummary.size >= 3);
	t.deepEqual(fromSummary, await jsonCounts(command, []));
});

test('-c sorts by total time and ends each table with the totals', async t => {
	const {run, text} = await trace(['-c', '-e', 'abs,strcmp'], [events, 'loop', '1000']);
	t.is(run.code, 0, run.stderr);
	const rows = text.split('\n').filter(line => /^(abs|strcmp) /.test(line));
	t.is(rows.length, 2);
	const seconds = rows.map(row => Number(row.split(/\s+/)[3]));
	t.true(seconds[0]! >= seconds[1]!);
	// 1000 abs, and the strcmp calls of main choosing the mode (threads, longjmp, print, time, values, loop).
	t.regex(text, /\ntotal +1006 +0 /);
});

test('-c with no traced call says so instead of printing nothing', async t => {
	const {run, text} = await trace(['-c', '-e', 'no_such_function'], [events, 'loop', '10']);
	t.is(run.code, 0, run.stderr);
	t.is(text, 'no calls traced\n');
});

test('--json and -c exclude each other', async t => {
	const run = await pdi(['trace', '--json', '-c', '--', 'true']);
	t.is(run.code, 2);
	t.regex(run.stderr, /exclude each other/);
});

test('with its reader gone, a full ring counts its events as lost and the program runs on', async t => {
	const rings = path.join(scratch, `rings-${Math.random().toString(36).slice(2)}`);
	mkdirSync(rings);
	const gone = spawnSync('true').pid; // a reader that has exited
	const child = spawn({
		options: {cbStackSize: 65_536},
		backends: [{name: 'trace', library: 'trace'}],
		rules: [{callback: {object: '$main', backend: 'trace'}}],
	}, events, ['loop', '100000'], {
		stdio: 'ignore',
		env: {...process.env, PDI_TRACE_RING: rings, PDI_TRACE_RING_READER: String(gone), PDI_TRACE_RING_SHIFT: '16', PDI_TRACE_FUNCTIONS: 'abs'},
	});
	const code = await new Promise(resolve => child.once('close', resolve));
	t.is(code, 0);
	const [ring] = readdirSync(rings);
	t.regex(ring!, new RegExp(`^${child.pid}-\\d+\\.ring$`));
	let recorded = 0;
	const reader = TraceReader.toCallback(rings, data => {
		recorded += parseEventLines<CallEvent>(data).filter(event => event.function === 'abs').length;
	});
	const {losses} = reader.finish();
	t.is(losses.length, 1);
	t.is(losses[0]!.pid, child.pid!);
	const {lost} = losses[0]!;
	t.true(recorded > 0 && lost > 0);
	t.is(recorded + lost, 100_000);
});

test('a writer that waited long on a full ring waits on while its reader frees the next record slowly: nothing is lost', async t => {
	// Before: having waited past the stall limit (about a second), it took the record the reader had zeroed but not
	// yet passed for one left unfinished, and dropped every call it made until the reader went on (18979 of 20000
	// here; 1519 in a row under a loaded CI's trace()).
	const rings = path.join(scratch, `rings-${Math.random().toString(36).slice(2)}`);
	mkdirSync(rings);
	const source = path.join(root, 'test', 'fixtures', 'trace', 'slow-reader.c');
	const readerProgram = path.join(scratch, `slow-reader-${Math.random().toString(36).slice(2)}`);
	execFileSync('gcc', ['-O2', '-Wall', '-Wextra', '-Werror', '-I', path.join(root, 'src', 'native', 'backends', 'trace'), '-o', readerProgram, source]);
	const reader = childSpawn(readerProgram, [rings, '20000'], {stdio: ['ignore', 'pipe', 'inherit']});
	let output = '';
	reader.stdout.setEncoding('utf8').on('data', (text: string) => {
		output += text;
	});
	const readerEnded = new Promise(resolve => reader.once('close', resolve));
	await until(() => output.startsWith('ready\n'));
	const child = spawn({
		options: {cbStackSize: 65_536},
		backends: [{name: 'trace', library: 'trace'}],
		rules: [{callback: {object: '$main', backend: 'trace'}}],
	}, events, ['loop', '20000'], {
		stdio: 'ignore',
		env: {...process.env, PDI_TRACE_RING: rings, PDI_TRACE_RING_READER: String(reader.pid), PDI_TRACE_RING_SHIFT: '16', PDI_TRACE_FUNCTIONS: 'abs'},
	});
	t.is(await new Promise(resolve => child.once('close', resolve)), 0);
	t.is(await readerEnded, 0);
	t.is(output, 'ready\nread 20000 lost 0\n');
});

/** A ring file as a writer leaves it (src/native/backends/trace/ring.h): the header, then `records`. */
function ringFile(records: Buffer[], writer: number): Buffer {
	const data = Buffer.concat(records);
	const capacity = 1 << 16;
	const header = 4096;
	const ring = Buffer.alloc(header + capacity);
	ring.writeUInt32LE(0x67_6E_69_72, 0);
	ring.writeUInt32LE(process.pid, 4);
	ring.writeBigUInt64LE(BigInt(capacity), 8);
	ring.writeBigUInt64LE(BigInt(data.length), 16);
	ring.writeUInt32LE(writer, 40);
	data.copy(ring, header);
	return ring;
}

/** One record: flags, site address, strings; `size` overrides the size word (a record never finished). */
function ringRecord(flags: number, strings: string[], size?: number): Buffer {
	const text = Buffer.from(strings.join(''));
	const length = (56 + text.length + 7) & ~7;
	const record = Buffer.alloc(length);
	record.writeUInt32LE(size ?? length, 0);
	record.writeUInt32LE(4242, 4);
	record.writeUInt32LE(4242, 8);
	record.writeUInt32LE(flags, 20);
	record.writeBigUInt64LE(0x1000n, 40);
	for (const [i, value] of strings.entries()) {
		record.writeUInt16LE(Buffer.byteLength(value), 48 + (2 * i));
	}

	text.copy(record, 56);
	return record;
}

test('a record its writer never finished is skipped and counted as lost once the writer is gone; what follows is read', t => {
	const rings = path.join(scratch, `crafted-${Math.random().toString(36).slice(2)}`);
	mkdirSync(rings);
	const site = ringRecord(16, ['/bin/prog', 'getpid', '', '']);
	const call = ringRecord(0, ['', '4242', '']);
	const unfinished = ringRecord(0, ['', '1', ''], 0x40_00_00_00 | call.length);
	const gone = spawnSync('true').pid;
	writeFileSync(path.join(rings, `${gone}-1.ring`), ringFile([site, call, unfinished, call], gone));
	let text = '';
	const reader = TraceReader.toCallback(rings, data => {
		text += data.toString();
	});
	const {losses} = reader.finish();
	t.deepEqual(losses, [{pid: gone, lost: 1}]);
	const events = parseEventLines<CallEvent>(Buffer.from(text));
	t.deepEqual(events.map(event => [event.function, event.ret]), [['getpid', 4242], ['getpid', 4242]]);
});

test('a record a jump out of its hook left unfinished, marked abandoned, is skipped and counted as lost while its writer lives; what follows is read', t => {
	const rings = path.join(scratch, `crafted-${Math.random().toString(36).slice(2)}`);
	mkdirSync(rings);
	const site = ringRecord(16, ['/bin/prog', 'getpid', '', '']);
	const call = ringRecord(0, ['', '4242', '']);
	const abandoned = ringRecord(0, ['', '1', ''], 0x20_00_00_00 | call.length);
	writeFileSync(path.join(rings, `${process.pid}-1.ring`), ringFile([site, call, abandoned, call], process.pid));
	let text = '';
	const reader = TraceReader.toCallback(rings, data => {
		text += data.toString();
	});
	const {losses} = reader.finish();
	t.deepEqual(losses, [{pid: process.pid, lost: 1}]);
	const events = parseEventLines<CallEvent>(Buffer.from(text));
	t.deepEqual(events.map(event => [event.function, event.ret]), [['getpid', 4242], ['getpid', 4242]]);
});

// qemu-user itself crashes or hangs on such a timer (test/backend-api.test.ts): the host only.
(testArch ? test.skip : test)('a timer whose handler jumps out of trace hooks every 20 µs never hangs the traced program: a record a jump left unfinished is skipped as lost, and the calls after the timer are all traced', async t => {
	// Before: the unfinished record held up the 64 KiB ring for good, and the program hung once it was full (5 of 5 runs).
	const program = path.join(fixtures, 'backend', 'timerjump');
	const {run, text} = await trace(['-e', 'getppid,getpgrp'], [program, '20000', '20'], {...process.env, PDI_TRACE_RING_SHIFT: '16'});
	t.is(run.code, 0, run.stderr);
	t.is(run.stdout, 'getpgrp=100\n');
	t.is(text.split('\n').filter(line => line.includes('!getpgrp()')).length, 100);
	t.notRegex(run.stderr, /Error|error:/);
});

test('a program that writes into its event ring, as a stray pointer would, gets the calls before the damage and one line naming the process and byte; pdi does not crash', async t => {
	// Before: the reader took the bogus size word as a record's and cleared that many bytes past the ring's end: pdi
	// died of SIGSEGV.
	const {run, text} = await trace(['-e', 'getpid'], [path.join(fixtures, 'trace', 'scribble')]);
	t.is(run.code, 0, run.stderr);
	const at = /^scribbled at (\d+)$/m.exec(run.stdout)?.[1];
	t.truthy(at, run.stdout);
	t.is(text.split('\n').filter(line => line.includes('scribble!getpid()')).length, 3);
	t.regex(run.stderr, new RegExp(`^pdi: trace: the event ring of process \\d+ was overwritten at byte ${at} of its stream \\(the program wrote into pdi's memory\\?\\): its events from there on were not read$`, 'm'));
});

test('rings full of records with random sizes, lengths and strings end every reader mode without a crash, each ring read or said damaged', t => {
	// Before: a record's size or string lengths were used unchecked, and pdi read or cleared memory past the ring.
	let seed = 12_345;
	const sink = openSync('/dev/null', 'w');
	const next = (below: number) => {
		seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
		return (seed >>> 8) % below;
	};

	const bytes = (count: number) => Buffer.from(Array.from({length: count}, () => (next(2) === 0 ? '0x(),"\\=|NULL'.codePointAt(next(13))! : next(256))));
	for (let round = 0; round < 120; round++) {
		const rings = path.join(scratch, `random-${round}-${Math.random().toString(36).slice(2)}`);
		mkdirSync(rings);
		const records = Array.from({length: 12}, () => {
			const strings = Array.from({length: 4}, () => bytes(next(40)).toString('latin1'));
			const record = ringRecord(next(3) === 0 ? 16 : next(64), strings, next(4) === 0 ? next(1 << 20) : undefined);
			record.writeUInt16LE(next(3) === 0 ? next(65_536) : record.readUInt16LE(48), 48);
			return record;
		});
		const gone = spawnSync('true').pid;
		writeFileSync(path.join(rings, `${gone}-1.ring`), ringFile(records, gone));
		const mode = round % 3;
		const reader = mode === 0 ? TraceReader.toSummary(rings) : (mode === 1 ? TraceReader.toText(rings, sink, {time: false, timestamp: false}) : TraceReader.toCallback(rings, () => undefined));
		const {losses} = reader.finish();
		t.true(losses.every(loss => loss.pid === gone));
	}

	closeSync(sink);
});

test('a program whose pdi trace is killed with SIGKILL runs on without the cost of tracing once its ring is full, its later calls counted as lost', async t => {
	// Before: its hooks went on decoding every call (a dash loop's strcmp strings read through process_vm_readv), for
	// a reader that was gone: a loop of 0.4 s bare ran for more than 40 s after the kill.
	const directory = path.join(scratch, `killed-${Math.random().toString(36).slice(2)}`);
	mkdirSync(directory);
	const [pidFile, doneFile] = [path.join(directory, 'pid'), path.join(directory, 'done')];
	// The shell then waits (opening a FIFO without a writer: no other process, no other image), so that its CPU time
	// can be read: wall time on a loaded machine says little.
	const fifo = path.join(directory, 'fifo');
	execFileSync('mkfifo', [fifo]);
	const script = `echo $$ > ${pidFile}; i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; echo done > ${doneFile}; read line < ${fifo}`;
	const tracer = childSpawn(process.execPath, [cliPath, 'trace', '-o', path.join(directory, 'trace.txt'), '--', 'sh', '-c', script], {stdio: 'ignore', env: {...process.env, TMPDIR: directory}});
	await setTimeout(1500);
	const pid = Number(readFileSync(pidFile, 'utf8'));
	const cpuSeconds = () => {
		const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
		return (Number(fields[11]) + Number(fields[12])) / 100; // utime and stime, in clock ticks of 1/100 s
	};

	const before = cpuSeconds();
	tracer.kill('SIGKILL');
	const killedAt = Date.now();
	while (!existsSync(doneFile) && Date.now() - killedAt < 120_000) {
		await setTimeout(100);
	}

	const seconds = existsSync(doneFile) ? cpuSeconds() - before : Number.POSITIVE_INFINITY;
	process.kill(pid, 'SIGKILL');
	t.true(seconds < 10, `the loop took ${seconds} s of CPU after the kill`);
	const ring = readdirSync(directory).filter(name => name.startsWith('pdi-trace-')).flatMap(name => readdirSync(path.join(directory, name, 'rings')).filter(file => file.endsWith('.ring')).map(file => path.join(directory, name, 'rings', file)));
	t.is(ring.length, 1, String(ring));
	t.true(readFileSync(ring[0]!).readBigUInt64LE(32) > 0n); // the header's lost count
});
