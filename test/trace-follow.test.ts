import {execFileSync} from 'node:child_process';
import {readFileSync, realpathSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {pdiPaths} from '../src/ts/index.js';
import type {CallEvent} from '../src/ts/trace/events.js';
import {trace as traceApi} from '../src/ts/trace/trace.js';
import {isLoaderSafe} from '../src/ts/launch/preload.js';
import {pdi, startPdi} from './helpers/cli.js';
import {compileC, scratchDirectory} from './helpers/files.js';
import {fixtures, loaderSafeFile} from './helpers/preload.js';

const follow = path.join(fixtures, 'trace', 'follow');
const events = path.join(fixtures, 'trace', 'events');
const scratch = scratchDirectory('pdi-trace-follow-');
const pipeline = ['sh', '-c', 'ls / | wc -l'];
const lsCount = execFileSync('/bin/sh', ['-c', 'ls / | wc -l'], {encoding: 'utf8'});

/** What these tests read of a `--json` event. */
type Call = {pid: number; caller: string; function: string; args: unknown[] | null; ret: unknown};

/** A fresh file name, holding text that a run must not leave behind. */
function staleFile(): string {
	const file = path.join(scratch, `trace-${Math.random().toString(36).slice(2)}`);
	writeFileSync(file, 'stale line of an earlier run\n'.repeat(1000));
	return file;
}

/** `pdi trace OPTIONS -o FILE -- COMMAND`: the run and the file's text. */
async function trace(options: readonly string[], command: readonly string[], env?: NodeJS.ProcessEnv) {
	const file = staleFile();
	const run = await pdi(['trace', ...options, '-o', file, '--', ...command], {timeout: 120_000, env});
	return {run, text: readFileSync(file, 'utf8')};
}

async function json(options: readonly string[], command: readonly string[]) {
	const {run, text} = await trace(['--json', ...options], command);
	return {run, calls: text.split('\n').filter(line => line !== '').map(line => JSON.parse(line) as Call)};
}

/** pid → the callers' file names of its calls, in order of first appearance. */
function callersByPid(calls: ReadonlyArray<{pid: number; caller: string}>): Map<number, string[]> {
	const byPid = new Map<number, string[]>();
	for (const {pid, caller} of calls) {
		const callers = byPid.get(pid) ?? [];
		const name = path.basename(caller);
		if (!callers.includes(name)) {
			callers.push(name);
		}

		byPid.set(pid, callers);
	}

	return byPid;
}

/** Text lines `PID TID  caller!function(...) = ...` as {pid, caller}. */
function textCalls(text: string): Array<{pid: number; caller: string; line: string}> {
	return text.split('\n').filter(line => line !== '').map(line => {
		const match = /^(\d+) \d+ {2}([^!\s]+)!\w+\(/.exec(line);
		if (!match) {
			throw new Error(`not a trace line: ${line}`);
		}

		return {pid: Number(match[1]), caller: match[2]!, line};
	});
}

/** The pid a fixture process printed for `mode` ("fork 4242"). */
function printedPid(stdout: string, mode: string): number {
	const match = new RegExp(`^${mode} (\\d+)$`, 'm').exec(stdout);
	if (!match) {
		throw new Error(`no '${mode} PID' in ${stdout}`);
	}

	return Number(match[1]);
}

/**
 * [pid, abs's argument] of every traced abs call, in each process's order, the processes in
 * the order of `pids` and then any other (each process has its own ring: they come in any order).
 */
function absCalls(calls: readonly Call[], ...pids: number[]): Array<[number, unknown]> {
	const abs = calls.filter(call => call.function === 'abs');
	const order = [...new Set([...pids, ...abs.map(call => call.pid)])];
	return order.flatMap(pid => abs.filter(call => call.pid === pid).map(call => [pid, call.args?.[0]] as [number, unknown]));
}

test('/bin/sh is dash, the shell whose processes these tests count', t => {
	t.regex(realpathSync('/bin/sh'), /\/dash$/);
});

test('-f --json on sh -c \'ls / | wc -l\' names exactly the shell and the two children its fork calls made', async t => {
	const {run, calls} = await json(['-f'], pipeline);
	t.is(run.code, 0, run.stderr);
	t.is(run.stdout, lsCount);
	const byPid = callersByPid(calls);
	t.is(byPid.size, 3, JSON.stringify([...byPid]));
	// The shell is the process whose getpid answered its own pid; its forks returned the other two.
	const shell = calls.find(call => call.function === 'getpid' && call.ret === call.pid)!.pid;
	t.deepEqual(byPid.get(shell), ['dash']);
	const forked = calls.filter(call => call.pid === shell && call.function === 'fork').map(call => call.ret as number);
	t.deepEqual([...byPid.keys()].filter(pid => pid !== shell).sort(), [...forked].sort());
	// Each child is the shell until it execs its command, and records its own return from fork. Each image writes
	// its own ring, which the reader may drain in either order (docs/trace.md): the callers are compared as sets.
	t.deepEqual(forked.map(pid => [...byPid.get(pid) ?? []].sort()), [['dash', 'ls'], ['dash', 'wc']]);
	for (const pid of forked) {
		t.true(calls.some(call => call.pid === pid && call.function === 'fork' && call.ret === 0));
	}
});

test('without -f, --json on sh -c \'ls / | wc -l\' holds the shell\'s calls only', async t => {
	const {run, calls} = await json([], pipeline);
	t.is(run.code, 0, run.stderr);
	t.is(run.stdout, lsCount);
	const shell = calls.find(call => call.function === 'getpid' && call.ret === call.pid)!.pid;
	t.deepEqual([...callersByPid(calls)], [[shell, ['dash']]]);
	t.is(calls.filter(call => call.function === 'fork').length, 2);
});

test('bash, which defines getenv and setenv of its own, is traced with the options given (-e, -o, --json), and its children are not', async t => {
	// bash's setenv before its main made its getenv stop reading environ: every PDI_TRACE_ setting came back unset.
	const {run, text} = await trace(['-e', 'strlen'], ['bash', '-c', 'ls / | wc -l; env | grep -c ^PDI_; true']);
	t.is(run.code, 0, run.stderr);
	t.is(run.stderr, '', 'the trace went to stderr instead of -o FILE');
	t.is(run.stdout, `${lsCount}0\n`);
	const lines = textCalls(text);
	t.true(lines.length > 0);
	t.deepEqual([...new Set(lines.map(line => `${line.pid} ${line.caller}`))], [`${lines[0]!.pid} bash`]);
	t.true(lines.every(line => line.line.includes('bash!strlen(')), text.slice(0, 2000));
	const {run: jsonRun, calls} = await json(['-e', 'fork'], ['bash', '-c', 'ls / | wc -l']);
	t.is(jsonRun.code, 0, jsonRun.stderr);
	t.is(jsonRun.stdout, lsCount);
	t.deepEqual(calls.map(call => [call.caller, call.function]), [['/usr/bin/bash', 'fork'], ['/usr/bin/bash', 'fork']]);
	t.is(new Set(calls.map(call => call.pid)).size, 1);
});

test('text mode -f -o FILE holds the lines of every process, and none of what FILE held before', async t => {
	const {run, text} = await trace(['-f'], pipeline);
	t.is(run.code, 0, run.stderr);
	t.is(run.stdout, lsCount);
	t.false(text.includes('stale line'), 'FILE still holds what it held before the run');
	const byPid = [...callersByPid(textCalls(text)).values()].map(callers => callers.join(',')).sort();
	t.deepEqual(byPid, ['dash', 'dash,ls', 'dash,wc']);
});

test('text mode -o FILE without -f holds the started process\'s lines only', async t => {
	const {run, text} = await trace([], pipeline);
	t.is(run.code, 0, run.stderr);
	t.false(text.includes('stale line'), 'FILE still holds what it held before the run');
	t.deepEqual([...callersByPid(textCalls(text)).values()], [['dash']]);
});

test('-c -f prints a table per process, titled with the programs it ran (a forked child its parent\'s, then what it execs); without -f one', async t => {
	const program = (name: string) => realpathSync(execFileSync('sh', ['-c', `command -v ${name}`], {encoding: 'utf8'}).trim());
	const shell = program('sh');
	for (const [options, titles] of [[['-f'], [shell, `${shell}, then ${program('ls')}`, `${shell}, then ${program('wc')}`]], [[], [shell]]] as const) {
		const {run, text} = await trace(['-c', ...options], pipeline);
		t.is(run.code, 0, run.stderr);
		const tables = [...text.matchAll(/^pid (\d+) \((.*)\)\nfunction +calls/gm)];
		t.deepEqual(tables.map(match => match[2]).sort(), [...titles].sort(), text);
		t.is(new Set(tables.map(match => match[1])).size, titles.length);
	}
});

test('--json: a forked child\'s calls are traced under its own pid with -f, and not at all without', async t => {
	for (const followed of [true, false]) {
		const {run, calls} = await json(['-e', 'abs', ...followed ? ['-f'] : []], [follow, 'fork']);
		t.is(run.code, 0, run.stderr);
		const parent = printedPid(run.stdout, 'fork');
		const child = printedPid(run.stdout, 'child');
		t.deepEqual(absCalls(calls, parent, child), followed ? [[parent, 1], [parent, 3], [child, 2]] : [[parent, 1], [parent, 3]]);
	}
});

test('-f: a child forked after the program overwrote its environment strings (a process title) is traced too', async t => {
	const {run, calls} = await json(['-e', 'abs', '-f'], [follow, 'retitle']);
	t.is(run.code, 0, run.stderr);
	const parent = printedPid(run.stdout, 'retitle');
	const child = printedPid(run.stdout, 'child');
	t.deepEqual(absCalls(calls, parent, child), [[parent, 1], [parent, 3], [child, 2]]);
});

test('text on pdi\'s stderr: a forked child\'s lines come under its own pid with -f, and not at all without', async t => {
	for (const followed of [true, false]) {
		const run = await pdi(['trace', '-e', 'abs', ...followed ? ['-f'] : [], '--', follow, 'fork']);
		t.is(run.code, 0, run.stderr);
		const parent = printedPid(run.stdout, 'fork');
		const child = printedPid(run.stdout, 'child');
		const lines = textCalls(run.stderr).map(({pid, line}) => [pid, Number(/abs\((\d+)\)/.exec(line)?.[1])]);
		t.deepEqual(lines, followed ? [[parent, 1], [child, 2], [parent, 3]] : [[parent, 1], [parent, 3]]);
	}
});

for (const mode of ['spawn', 'vfork']) {
	test(`a ${mode} child (no fork handlers run) is traced only with -f, and the parent goes on being traced either way`, async t => {
		for (const followed of [true, false]) {
			const {run, calls} = await json(['-e', 'abs', ...followed ? ['-f'] : []], [follow, mode, follow, 'child']);
			t.is(run.code, 0, run.stderr);
			const parent = printedPid(run.stdout, mode);
			const child = printedPid(run.stdout, 'child');
			t.deepEqual(absCalls(calls, parent, child), followed ? [[parent, 1], [parent, 3], [child, 2]] : [[parent, 1], [parent, 3]]);
		}
	});
}

test('a vfork child whose call is its thread\'s first traced one leaves the parent\'s later calls under the parent\'s tid', async t => {
	// execv, in the child, is the first traced call; before, the child cached its own tid in the memory it shares
	// with the parent, and every later line of the parent's thread named the child's tid.
	const {run, calls} = await json(['-e', 'execv,waitpid'], [follow, 'vfork', '/bin/true']);
	t.is(run.code, 0, run.stderr);
	const parent = printedPid(run.stdout, 'vfork');
	const seen = (calls as Array<Call & {tid: number}>).map(call => [call.function, call.pid, call.tid]).sort();
	t.deepEqual(seen, [['execv', parent, parent], ['waitpid', parent, parent]]);
});

test('without -f, a name that an image before an exec had a call site of is not said to have none when the last image has none', async t => {
	// dash imports getpid, cat does not: before, cat's end said 'getpid: process N has no call site of it' below
	// dash's getpid line. epoll_wait, which neither imports, is still said.
	const run = await pdi(['trace', '-e', 'getpid,epoll_wait', '--', 'sh', '-c', 'echo $$; exec cat /etc/hostname'], {timeout: 60_000});
	t.is(run.code, 0, run.stderr);
	const pid = Number(run.stdout.split('\n')[0]);
	t.deepEqual(run.stderr.split('\n').filter(line => line !== '').map(line => line.replace(/ \(it does not import it.*$/, '')), [
		`${pid} ${pid}  dash!getpid() = ${pid}`,
		`pdi: trace: epoll_wait: process ${pid} has no call site of it to trace`,
	]);
});

test('a program that execs itself is traced after the exec, with and without -f, under the same pid', async t => {
	for (const followed of [true, false]) {
		const {run, calls} = await json(['-e', 'abs', ...followed ? ['-f'] : []], [follow, 'exec', follow, 'child']);
		t.is(run.code, 0, run.stderr);
		const pid = printedPid(run.stdout, 'exec');
		t.is(printedPid(run.stdout, 'child'), pid);
		// One call per image, each image writing its own ring: their order in the output is the reader's.
		t.deepEqual(absCalls(calls, pid).sort(([, a], [, b]) => Number(a) - Number(b)), [[pid, 1], [pid, 2]]);
	}
});

test('a program that execs another stays traced (it is the same process), the new image\'s calls under its name', async t => {
	for (const followed of [true, false]) {
		const {run, calls} = await json(['-e', 'abs', ...followed ? ['-f'] : []], [follow, 'exec', events, 'loop', '3']);
		t.is(run.code, 0, run.stderr);
		const pid = printedPid(run.stdout, 'exec');
		const seen = calls.map(call => [call.pid, path.basename(call.caller), call.args?.[0]]);
		// Each image writes its own ring: the order within one is the calls', across the two it is the reader's.
		const ofImage = (name: string) => seen.filter(([, caller]) => caller === name);
		t.deepEqual(ofImage('follow'), [[pid, 'follow', 1]]);
		t.deepEqual(ofImage('events'), [[pid, 'events', 0], [pid, 'events', 1], [pid, 'events', 2]]);
		t.is(seen.length, 4);
	}
});

/** The variables of `env` run by a traced shell: PDI_*, DI_CFG_FILE and LD_PRELOAD. */
async function childEnvironment(options: readonly string[], preload: string): Promise<string[]> {
	const environment = {...process.env, LD_PRELOAD: preload, DI_CFG_FILE: ''};
	const run = await pdi(['trace', ...options, '-e', 'abs', '--', 'sh', '-c', 'env; true'], {env: environment});
	if (run.code !== 0) {
		throw new Error(run.stderr);
	}

	return run.stdout.split('\n').filter(line => /^(PDI_|DI_CFG_FILE=|LD_PRELOAD=)/.test(line)).sort();
}

test('without -f the program\'s children get the environment pdi was given: no PDI_ variables, no core in LD_PRELOAD', async t => {
	// A library of the user's own that was preloaded before pdi stays preloaded.
	const own = path.join(fixtures, 'trace', 'libtracelib.so');
	t.deepEqual(await childEnvironment([], own), [`LD_PRELOAD=${own}`]);
	const followed = await childEnvironment(['-f'], own);
	// A checkout under a path with a blank preloads the core through a link in the temporary directory (docs/launching.md).
	const core = pdiPaths().preload;
	const preloaded = (line: string) => isLoaderSafe(core)
		? line === `LD_PRELOAD=${core}:${own}`
		: line.startsWith('LD_PRELOAD=') && line.includes('/pdi-core-') && line.endsWith(`/native/pdi-preload.so:${own}`);
	t.true(followed.some(line => preloaded(line)), followed.join('\n'));
	t.true(followed.includes('PDI_TRACE_FOLLOW=1'));
	t.true(followed.some(line => line.startsWith('PDI_CONFIG=')));
});

test('without -f the children get the user\'s LD_PRELOAD entries as written, spaces, colons and their order kept: only the core\'s entry goes', async t => {
	const own = loaderSafeFile(path.join(fixtures, 'trace', 'libtracelib.so'));
	const table = loaderSafeFile(path.join(fixtures, 'trace', 'libtable.so'));
	// Before, the entries were joined again with ':' (LD_PRELOAD=a:b for a b), and an entry holding a blank was cut in two.
	for (const list of [`${own} ${table}`, `${table}:  ${own}`, `${own} :${table}:`]) {
		t.deepEqual(await childEnvironment([], list), [`LD_PRELOAD=${list}`], list);
	}
});

test('-f with -c and --json waits for a child that outlives the program (a daemonizing server) and reports its calls too', async t => {
	const {run, text} = await trace(['-c', '-f', '-e', 'abs'], [follow, 'daemon', '300']);
	t.is(run.code, 0, run.stderr);
	const parent = printedPid(run.stdout, 'daemon');
	const child = printedPid(run.stdout, 'child');
	const tables = new Map([...text.matchAll(/^pid (\d+) \(.*\)\n[^]*?\nabs +(\d+) /gm)].map(match => [Number(match[1]), Number(match[2])]));
	t.deepEqual(tables, new Map([[parent, 1], [child, 3]]), text);

	const {run: jsonRun, calls} = await json(['-e', 'abs', '-f'], [follow, 'daemon', '300']);
	t.is(jsonRun.code, 0, jsonRun.stderr);
	const jsonParent = printedPid(jsonRun.stdout, 'daemon');
	const jsonChild = printedPid(jsonRun.stdout, 'child');
	t.deepEqual(absCalls(calls, jsonParent, jsonChild), [[jsonParent, 1], [jsonChild, 2], [jsonChild, 2], [jsonChild, 2]]);
});

test('text mode -f waits for a child that outlives the program too: when pdi exits, the file holds the child\'s lines', async t => {
	const output = path.join(scratch, 'outlived.txt');
	const printed = path.join(scratch, 'outlived-pids.txt');
	// pdi's own exit, not the end of its pipes (which the child holds): that is when the trace must be whole.
	const run = startPdi(['trace', '-f', '-e', 'abs', '-o', output, '--', '/bin/sh', '-c', 'exec "$0" daemon 300 >"$1"', follow, printed]);
	t.is(await run.exited, 0, run.stderr());
	const text = readFileSync(output, 'utf8');
	const parent = printedPid(readFileSync(printed, 'utf8'), 'daemon');
	const child = printedPid(readFileSync(printed, 'utf8'), 'child');
	const lines = text.split('\n').filter(line => /!abs\(/.test(line)).map(line => Number(line.split(' ')[0]));
	t.deepEqual(lines, [parent, child, child, child], text);
});

test('Ctrl-C while -f -c waits for a daemon\'s child ends the wait: the tables read so far, status 130, the child runs on', async t => {
	const output = path.join(scratch, 'interrupted.txt');
	const printed = path.join(scratch, 'interrupted-pids.txt');
	const run = startPdi(['trace', '-c', '-f', '-e', 'abs', '-o', output, '--', '/bin/sh', '-c', 'exec "$0" daemon 5000 >"$1"', follow, printed]);
	let child: number | undefined;
	for (let wait = 0; wait < 200 && child === undefined; wait++) {
		await new Promise(resolve => {
			setTimeout(resolve, 25);
		});
		child = /^child (\d+)$/m.test(readFileSync(printed, {encoding: 'utf8', flag: 'a+'})) ? printedPid(readFileSync(printed, 'utf8'), 'child') : undefined;
	}

	try {
		t.truthy(child, run.stderr());
		// The program has ended (its parent exited at once); pdi waits for the child.
		await new Promise(resolve => {
			setTimeout(resolve, 300);
		});
		run.child.kill('SIGINT');
		t.is(await run.exited, 130, run.stderr());
		const parent = printedPid(readFileSync(printed, 'utf8'), 'daemon');
		t.regex(readFileSync(output, 'utf8'), new RegExp(`^pid ${parent} \\(`, 'm'));
		t.notThrows(() => process.kill(child!, 0), 'the child runs on');
	} finally {
		if (child !== undefined) {
			process.kill(child, 'SIGKILL');
		}
	}
});

test('a forked child maps no ring of its parent: none without -f, only its own with -f', async t => {
	// A bash subshell lists the rings in its own /proc/self/maps with builtins only (no exec). Before, it kept its
	// copy of the parent's 4 MiB ring mapping for its life, beside its own with -f.
	const script = '( while read -r l; do case $l in *.ring*) echo "${l##*/}";; esac; done < /proc/self/maps; echo "subshell $BASHPID" )';
	for (const options of [[], ['-f']]) {
		const run = await pdi(['trace', ...options, '-e', 'getpid', '-o', '/dev/null', '--', 'bash', '-c', script], {timeout: 60_000});
		t.is(run.code, 0, run.stderr);
		const subshell = /^subshell (\d+)$/m.exec(run.stdout)?.[1];
		const rings = run.stdout.split('\n').filter(line => line.endsWith('.ring') || line.endsWith('.ring (deleted)'));
		t.deepEqual(rings.map(line => line.split('-')[0]), options.length === 0 ? [] : [subshell], run.stdout);
	}
});

test('a followed child that changed user before its fork and cannot make its ring is named where the notices go, and runs on untraced', async t => {
	if (process.getuid?.() !== 0) {
		t.pass('needs root to change user');
		return;
	}

	// Before: not a word; pdi ended at once and the child (lighttpd's server.username, then fork) was silently missing.
	const program = compileC(scratch, 'user-then-fork', `
#include <stdio.h>
#include <unistd.h>
int main(void) {
  if (setuid(65534) != 0)
    return 1;
  pid_t child = fork();
  if (child == 0) {
    usleep(200000);
    return getpid() > 0 ? 0 : 1;
  }
  return child > 0 ? 0 : 1;
}
`);
	const notice = (pid: number) => new RegExp(`^pdi: trace: process ${pid} \\(uid 65534\\) cannot make its event ring in /\\S+/rings: Permission denied; it runs on untraced$`, 'm');
	const text = await trace(['-f', '-e', 'fork,setuid'], [program]);
	t.is(text.run.code, 0, text.run.stderr);
	const child = Number(/fork\(\) = (\d+)/.exec(text.text)?.[1]);
	t.regex(text.text, notice(child));
	const {run, calls} = await json(['-f', '-e', 'fork,setuid'], [program]);
	t.is(run.code, 0, run.stderr);
	const forked = calls.find(call => call.function === 'fork')!.ret as number;
	t.deepEqual(calls.map(call => call.function), ['setuid', 'fork']);
	t.regex(run.stderr, notice(forked));
	// -c has no channel for a process's notices: the child says it on its own stderr, which is pdi's here.
	const summary = await pdi(['trace', '-f', '-c', '--', program]);
	t.is(summary.code, 0, summary.stderr);
	const parent = Number(/^pid (\d+) \(/m.exec(summary.stderr)?.[1]);
	const untraced = Number(/^pdi: trace: process (\d+) \(uid 65534\)/m.exec(summary.stderr)?.[1]);
	t.true(parent > 0 && untraced > 0 && untraced !== parent, summary.stderr);
	t.regex(summary.stderr, notice(untraced));
	const traced = traceApi(program, [], {follow: true, functions: 'fork', stdio: 'ignore'});
	const events: CallEvent[] = [];
	for await (const call of traced.calls) {
		events.push(call);
	}

	const {warnings} = await traced.done;
	t.is(events.length, 1);
	t.true(warnings.some(line => notice(events[0]!.ret as number).test(line)), warnings.join('\n'));
});

test('-t and startNs count from the trace\'s start in every process and every image it execs, so the programs of one trace compare (an exec\'d program counted from 0 again)', async t => {
	const run = await pdi(['trace', '-f', '-t', '-o', '-', '-e', 'setlocale', '--', 'sh', '-c', 'sleep 0.3; exec ls /']);
	t.is(run.code, 0, run.stderr);
	const started = (program: string) => Number(new RegExp(`^\\d+ \\d+  (\\d+\\.\\d{6}) ${program}!setlocale\\(`, 'm').exec(run.stdout)?.[1]);
	// ls starts once sleep has slept 0.3 s (each counted from its own start, both were about 0.003).
	t.true(started('ls') - started('sleep') >= 0.3, run.stdout);
	const calls: CallEvent[] = [];
	const traced = traceApi('sh', ['-c', 'sleep 0.3; exec ls /'], {follow: true, functions: 'setlocale', stdio: 'ignore'});
	for await (const call of traced.calls) {
		calls.push(call);
	}

	await traced.done;
	const startOf = (program: string) => calls.find(call => call.caller.endsWith(`/${program}`))?.startNs ?? Number.NaN;
	t.true(startOf('ls') - startOf('sleep') >= 300e6, JSON.stringify(calls));
});
