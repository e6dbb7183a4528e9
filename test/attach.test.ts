// pdi attach, pdi trace -p and attach(): real running processes (a
// multi-threaded fixture, nginx's worker) get configs installed and removed
// again (docs/attach.md).
import {execFile, execFileSync, spawn} from 'node:child_process';
import {existsSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import test, {type ExecutionContext} from 'ava';
import {attach, attachedReport} from '../src/ts/attach/attach.js';
import {notPermittedMessage} from '../src/ts/attach/permission.js';
import type {ProcessReport} from '../src/ts/elf/model.js';
import {traceConfig} from '../src/ts/trace/options.js';
import {cliPath, pdi, startPdi} from './helpers/cli.js';
import {scratchDirectory, writeFiles} from './helpers/files.js';
import {fixtures} from './helpers/preload.js';
import {shellWord} from './helpers/quote.js';
import {freePort, nginxCommand, nginxPath, startServer, webRoot} from './helpers/servers.js';
import {attachprog, countConfig, delay, startFixture, stopOnTeardown, type Fixture} from './helpers/attach-fixture.js';

const attachprogStatic = path.join(fixtures, 'attach', 'attachprog-static');
const sigcount = path.join(fixtures, 'attach', 'sigcount');

function taskCount(pid: number): number {
	return readdirSync(`/proc/${pid}/task`).length;
}

/** Every bound import slot of the objects that are not pdi's: `object address` → value. */
function slotValues(report: ProcessReport): Map<string, string> {
	const values = new Map<string, string>();
	for (const object of report.objects) {
		if (object.pdi) {
			continue;
		}

		for (const slot of object.imports ?? []) {
			if (!slot.lazy) {
				values.set(`${object.path} ${slot.symbol} ${slot.address}`, slot.value);
			}
		}
	}

	return values;
}

/** The values of `after` for the slots of `before` (objects loaded meanwhile, a backend, are not compared). */
function sameSlots(before: Map<string, string>, after: Map<string, string>): Map<string, string | undefined> {
	return new Map([...before.keys()].map(key => [key, after.get(key)]));
}

/** Where the slot of `symbol` in the program points now, by object name. */
function slotTarget(report: ProcessReport, symbol: string): string | undefined {
	const main = report.objects.find(object => object.main);
	return main?.imports?.find(slot => slot.symbol === symbol)?.target?.name;
}

test.serial('a multi-threaded program attached, relinked, traced and detached 20 times keeps every thread and its own output correct', async t => {
	const fixture = await startFixture(t);
	const {pid} = fixture;
	const scratch = scratchDirectory('pdi-attach-');
	const countFile = path.join(scratch, 'count.txt');
	const traceFile = path.join(scratch, 'trace.txt');
	const tasks = taskCount(pid);
	const before = slotValues(await attachedReport(pid));
	for (let cycle = 0; cycle < 20; cycle++) {
		const counted = await attach(pid, countConfig, {variables: {PDI_COUNT_OUTPUT: countFile}});
		if (cycle === 0) {
			t.is(slotTarget(await attachedReport(pid, '$main'), 'write'), 'pdi-backend-count.so');
		}

		// The writer writes every 5 ms: a count session detached at once could see no write (19 of 20 lines, under load).
		await delay(15);
		await counted.detach();
		const traced = await attach(pid, traceConfig(['$main']), {
			variables: {PDI_TRACE_OUTPUT: traceFile, PDI_TRACE_ROOT: String(pid), PDI_TRACE_FUNCTIONS: 'nanosleep'},
		});
		await delay(10);
		await traced.detach();
	}

	const after = slotValues(await attachedReport(pid));
	t.deepEqual(sameSlots(before, after), before, 'every slot has its old value again');
	t.is(taskCount(pid), tasks);
	const counts = readFileSync(countFile, 'utf8');
	t.is([...counts.matchAll(/^pdi-count: write [1-9]\d*$/gm)].length, 20, counts);
	t.regex(readFileSync(traceFile, 'utf8'), /^\d+ \d+ {2}attachprog!nanosleep\(/m);
	const end = await fixture.finish();
	t.is(end.stderr, '');
	t.regex(end.stdout, /^done reads=\d+ sleeps=\d+ waits=\d+ works=\d+$/m);
	t.is(end.code, 0);
});

test.serial('a system call interrupted by the attach is restarted: read, nanosleep and futex waits never fail with EINTR', async t => {
	const fixture = await startFixture(t);
	const roles = ['main', 'reader', 'sleeper', 'waiter', 'writer', 'worker'];
	for (let round = 0; round < 2; round++) {
		for (const role of roles) {
			// Each attach and detach borrows this thread: its blocking call is interrupted and must resume.
			const thread = fixture.threads.get(role)![0]!;
			const attached = await attach(fixture.pid, countConfig, {variables: {PDI_COUNT_OUTPUT: '/dev/null'}, thread});
			if (round === 0 && role === 'main') {
				await t.throwsAsync(attach(fixture.pid, countConfig), {message: `process ${fixture.pid}: pdi is already attached to this process (by pdi attach, attach() or pdi trace -p): one at a time; end that one first`});
			}

			await attached.detach();
		}
	}

	t.is(fixture.stderr(), '');
	const end = await fixture.finish();
	t.is(end.stderr, '', 'the fixture prints "error: ..." for any EINTR or wrong result');
	t.is(end.code, 0);
});

/** sigsend queueing real-time signal `signal` to `pid` (sigqueue: a full queue refuses, kill() would merge and lose silently). */
function startSender(t: ExecutionContext, pid: number, signal: number): {finish: () => Promise<{sent: number; refused: number}>} {
	const child = spawn(path.join(fixtures, 'attach', 'sigsend'), [String(pid), String(signal)], {stdio: ['pipe', 'pipe', 'inherit']});
	stopOnTeardown(t, child);
	let stdout = '';
	child.stdout.on('data', (chunk: Buffer) => {
		stdout += chunk.toString();
	});
	const exited = new Promise<void>(resolve => {
		child.once('exit', () => {
			resolve();
		});
	});
	return {
		async finish() {
			child.stdin.end();
			await exited;
			const [, sent, refused] = /^sent (\d+) refused (\d+)$/m.exec(stdout) ?? [];
			return {sent: Number(sent), refused: Number(refused)};
		},
	};
}

/** Attaches to and detaches from the signal counter `cycles` times while signals come; every queued one must be counted. */
async function countSignalsThroughAttaches(t: ExecutionContext, fixture: Fixture, cycles: number): Promise<void> {
	const signal = Number(/^sigrtmin (\d+)$/m.exec(fixture.stdout())![1]);
	const sender = startSender(t, fixture.pid, signal);
	for (let cycle = 0; cycle < cycles; cycle++) {
		const attached = await attach(fixture.pid, countConfig, {variables: {PDI_COUNT_OUTPUT: '/dev/null'}});
		await attached.detach();
	}

	const {sent, refused} = await sender.finish();
	const end = await fixture.finish();
	t.is(end.code, 0, end.stdout);
	t.true(sent > 0, `${sent} sent, ${refused} refused`);
	t.regex(end.stdout, new RegExp(`^received ${sent}$`, 'm'), `${refused} refused`);
}

test.serial('signals that arrive while pdi attaches and detaches are all delivered, none lost', async t => {
	// Real-time signals queue: the program must count every one, also those that came while a thread was borrowed.
	await countSignalsThroughAttaches(t, await startFixture(t, sigcount), 10);
});

test.serial('signals beyond the program\'s pending-signal limit that came while its thread was borrowed are all given back', async t => {
	// RLIMIT_SIGPENDING 64: more signals come during one attach than the queue holds, so giving them back meets
	// a full queue (EAGAIN) until the program has taken the earlier ones.
	await countSignalsThroughAttaches(t, await startFixture(t, '/usr/bin/prlimit', ['--sigpending=64', sigcount]), 3);
});

test.serial('pdi attach --detach-after installs the config into a running program, then detaches it in one piece with status 0', async t => {
	const fixture = await startFixture(t);
	const scratch = scratchDirectory('pdi-attach-');
	const config = path.join(scratch, 'count.cfg');
	writeFileSync(config, 'backend count = count\nrelink $main write count count_write\n');
	const run = await pdi(['attach', String(fixture.pid), '-c', config, '--detach-after', '0.3']);
	t.is(run.code, 0, run.stderr);
	t.regex(run.stderr, new RegExp(`^pdi: attached to process ${fixture.pid};.*\\npdi: detached from process ${fixture.pid}\\n$`));
	// The counts went to the program's own stderr (PDI_COUNT_OUTPUT is set in pdi, not in the program).
	const again = await pdi(['attach', String(fixture.pid), '-c', config, '--detach-after', '0.1']);
	t.is(again.code, 0, again.stderr);
	const end = await fixture.finish();
	t.is([...end.stderr.matchAll(/^pdi-count: write [1-9]\d*$/gm)].length, 2, end.stderr);
	t.is(end.code, 0);
});

test.serial('act rules attached to a program that pdi run started with act rules of its own count apart from them, and a refused attach leaves the program\'s act rules working (it crashed the program) and its log level as pdi run -v set it; an act rule on the slot of the program\'s own is refused as a conflict', async t => {
	const scratch = scratchDirectory('pdi-attach-act-');
	const own = path.join(scratch, 'own.cfg');
	writeFileSync(own, 'verbose = 2\nact $main attach_work count\n');
	const refused = path.join(scratch, 'refused.cfg');
	// At the default log level: the log is the process's, and pdi run's -v level is back after the attach.
	writeFileSync(refused, 'backend t = trace\ncallback $main * t\nact $main nanosleep count\n');
	const added = path.join(scratch, 'added.cfg');
	writeFileSync(added, 'verbose = 2\nact $main nanosleep delay=1us\nact $main pthread_cond_wait count\n');
	const fixture = await startFixture(t, process.execPath, [cliPath, 'run', '-c', own, '--', attachprog]);
	const conflict = await pdi(['attach', String(fixture.pid), '-c', refused]);
	t.is(conflict.code, 2);
	// A callback over every import meets the program's act stub on attach_work: a conflict naming both, not a slot passed over.
	t.regex(conflict.stderr, /^pdi: process \d+: \S+refused\.cfg:2:1: callback \$main: conflicts with the act at \S+own\.cfg:2, which already redirects attachprog's slot for attach_work$/m);
	// An act rule on the slot the program's own act rule holds is a conflict too, not a rule that sees nothing.
	const same = path.join(scratch, 'same.cfg');
	writeFileSync(same, 'act $main attach_work return=0\n');
	const taken = await pdi(['attach', String(fixture.pid), '-c', same, '--detach-after', '0.1']);
	t.is(taken.code, 2);
	t.regex(taken.stderr, /^pdi: process \d+: \S+same\.cfg:1:1: act attach_work: conflicts with the act at \S+own\.cfg:2, which already redirects attachprog's slot for attach_work$/m);
	for (let round = 0; round < 2; round++) {
		const run = await pdi(['attach', String(fixture.pid), '-c', added, '--detach-after', '0.3']);
		t.is(run.code, 0, run.stderr);
	}

	const quiet = path.join(scratch, 'quiet.cfg');
	writeFileSync(quiet, 'act $main write count\n');
	const run = await pdi(['attach', String(fixture.pid), '-c', quiet, '--detach-after', '0.1']);
	t.is(run.code, 0, run.stderr);

	const end = await fixture.finish();
	t.is(end.code, 0, end.stderr);
	const counts = [...end.stderr.matchAll(/^pdi: \S+\/(\w+\.cfg:\d+): act \$main (\w+): (\d+) call\(s\) seen, (\d+) fired$/gm)].map(([, rule, name, seen, fired]) => ({rule, name, seen: Number(seen), fired: Number(fired)}));
	t.deepEqual(counts.map(({rule, name}) => `${rule} ${name}`), ['added.cfg:2 nanosleep', 'added.cfg:3 pthread_cond_wait', 'added.cfg:2 nanosleep', 'added.cfg:3 pthread_cond_wait', 'own.cfg:2 attach_work'], end.stderr);
	for (const {seen, fired, name} of counts) {
		t.true(seen > 0 && fired === seen, name);
	}
});

/** Runs pdi until its stderr matches `ready`, then sends it `signal`, `afterMs` later. */
async function untilPrinted(t: ExecutionContext, args: string[], ready: RegExp, signal: NodeJS.Signals, afterMs = 0): Promise<{code: number | null; stderr: string}> {
	const child = spawn(process.execPath, [cliPath, ...args], {stdio: ['ignore', 'ignore', 'pipe']});
	stopOnTeardown(t, child);
	let stderr = '';
	return new Promise(resolve => {
		child.stderr.on('data', (chunk: Buffer) => {
			const signalled = ready.test(stderr);
			stderr += chunk.toString();
			if (!signalled && ready.test(stderr)) {
				setTimeout(() => child.kill(signal), afterMs);
			}
		});
		child.once('exit', code => {
			resolve({code, stderr});
		});
	});
}

test.serial('pdi trace -p of other functions attaches beside the act rule of the program\'s pdi run session, while a callback over every import is refused naming that act rule', async t => {
	const scratch = scratchDirectory('pdi-attach-beside-act-');
	const own = path.join(scratch, 'own.cfg');
	writeFileSync(own, 'verbose = 2\nact $main attach_work count\n');
	const fixture = await startFixture(t, process.execPath, [cliPath, 'run', '-c', own, '--', attachprog]);
	const traced = await untilPrinted(t, ['trace', '-p', String(fixture.pid), '-e', 'pthread_cond_wait'], /pthread_cond_wait\(/, 'SIGINT');
	t.is(traced.code, 0, traced.stderr);
	t.regex(traced.stderr, /attachprog!pthread_cond_wait\(0x[0-9a-f]+, 0x[0-9a-f]+\) = 0$/m);
	const every = path.join(scratch, 'every.cfg');
	writeFileSync(every, 'backend t = trace\ncallback $main * t\n');
	const refused = await pdi(['attach', String(fixture.pid), '-c', every]);
	t.is(refused.code, 2);
	t.regex(refused.stderr, /every\.cfg:2:1: callback \$main: conflicts with the act at \S+own\.cfg:2, which already redirects attachprog's slot for attach_work$/m);
	const end = await fixture.finish();
	t.is(end.code, 0, end.stderr);
	t.regex(end.stderr, /own\.cfg:2: act \$main attach_work: [1-9]\d* call\(s\) seen/);
});

test.serial('pdi attach detaches on SIGTERM, and pdi trace -p prints the calls of a running program until interrupted and unmaps its event ring at the detach', async t => {
	const fixture = await startFixture(t);
	const scratch = scratchDirectory('pdi-attach-');
	const config = path.join(scratch, 'count.cfg');
	writeFileSync(config, 'backend count = count\nrelink $main read count count_read\n');
	// Attached for 200 ms: the reader thread, blocked in a read when the relink went in, reads again every 5 ms.
	const attached = await untilPrinted(t, ['attach', String(fixture.pid), '-c', config], /^pdi: attached/m, 'SIGTERM', 200);
	t.is(attached.code, 0, attached.stderr);
	t.regex(attached.stderr, /^pdi: detached from process \d+$/m);
	const traced = await untilPrinted(t, ['trace', '-p', String(fixture.pid), '-e', 'pthread_cond_wait'], /pthread_cond_wait\(/, 'SIGINT');
	t.is(traced.code, 0, traced.stderr);
	t.regex(traced.stderr, new RegExp(`^pdi: tracing process ${fixture.pid}; Ctrl-C or SIGTERM detaches$`, 'm'));
	t.regex(traced.stderr, new RegExp(`^${fixture.pid} \\d+ {2}attachprog!pthread_cond_wait\\(0x[0-9a-f]+, 0x[0-9a-f]+\\) = 0$`, 'm'));
	t.regex(traced.stderr, /^pdi: detached from process \d+\n$/m);
	// The event ring is unmapped at the detach; before, its 4 MiB stayed mapped until the next attach.
	t.deepEqual(readFileSync(`/proc/${fixture.pid}/maps`, 'utf8').split('\n').filter(line => /\.ring( \(deleted\))?$/.test(line)), []);
	const end = await fixture.finish();
	t.regex(end.stderr, /^pdi-count: read [1-9]\d*$/m);
	t.notRegex(end.stderr, /error:/);
	t.is(end.code, 0);
});

test.serial('pdi trace -p into a pipe whose reader goes away (| head -1) detaches at once and exits 141, and the program runs on', async t => {
	const fixture = await startFixture(t);
	const command = `${shellWord(process.execPath)} ${shellWord(cliPath)} trace -p ${fixture.pid} -e pthread_cond_wait -o /dev/stdout | head -1; echo "status \${PIPESTATUS[0]}"`;
	const printed = execFileSync('bash', ['-c', command], {encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'pipe']});
	t.regex(printed, new RegExp(`^${fixture.pid} \\d+ {2}attachprog!pthread_cond_wait\\(0x[0-9a-f]+, 0x[0-9a-f]+\\) = 0\nstatus 141\n$`));
	// Detached: another session can attach, and the program ends as it should.
	const again = await untilPrinted(t, ['trace', '-p', String(fixture.pid), '-e', 'pthread_cond_wait'], /pthread_cond_wait\(/, 'SIGINT');
	t.is(again.code, 0, again.stderr);
	const end = await fixture.finish();
	t.is(end.code, 0, end.stderr);
});

async function get(port: number, file: string): Promise<string> {
	return new Promise((resolve, reject) => {
		http.get({host: '127.0.0.1', port, path: `/${file}`, agent: false}, response => {
			let body = '';
			response.on('data', (chunk: Buffer) => {
				body += chunk.toString();
			});
			response.on('end', () => {
				resolve(body);
			});
		}).on('error', reject);
	});
}

/** The one worker of an nginx master; the master listens before it forks the worker, so this waits for it. */
async function workerOf(master: number): Promise<number> {
	let children: string[] = [];
	for (let waited = 0; waited < 10_000; waited += 20) {
		children = readFileSync(`/proc/${master}/task/${master}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
		if (children.length === 1) {
			return Number(children[0]);
		}

		await delay(20);
	}

	throw new Error(`nginx master ${master} has children '${children.join(' ')}', not one worker`);
}

test.serial('a running nginx worker gets a count rule while serving requests, is traced with pdi trace -p, and detaching restores every slot', async t => {
	t.true(existsSync(nginxPath), `${nginxPath} is missing: apt-get install nginx`);

	const pages = webRoot();
	const spec = nginxCommand(pages, await freePort(), {workers: 1});
	t.teardown(() => {
		rmSync(spec.directory, {recursive: true, force: true});
	});
	const server = await startServer(spec);
	t.teardown(async () => {
		await server.stop();
	});
	const worker = await workerOf(server.pid);
	const page = readdirSync(pages).find(file => file.endsWith('.html'))!;
	const expected = await get(server.port, page);
	const before = slotValues(await attachedReport(worker));
	const scratch = scratchDirectory('pdi-attach-');
	const counts = path.join(scratch, 'count.txt');
	const attached = await attach(worker, {
		backends: [{name: 'count', library: 'count'}],
		rules: [{relink: {object: '$main', function: 'close', backend: 'count', wrapper: 'count_close'}}],
	}, {variables: {PDI_COUNT_OUTPUT: counts}});
	for (let request = 0; request < 5; request++) {
		t.is(await get(server.port, page), expected);
	}

	t.is(slotTarget(await attachedReport(worker, '$main'), 'close'), 'pdi-backend-count.so');
	await attached.detach();
	t.regex(readFileSync(counts, 'utf8'), /^pdi-count: close ([5-9]|\d\d+)$/m);
	t.deepEqual(sameSlots(before, slotValues(await attachedReport(worker))), before, 'every slot has its old value again');
	const output = path.join(scratch, 'trace.txt');
	const {child, stderr, exited} = startPdi(['trace', '-p', String(worker), '-e', 'open*', '-o', output]);
	stopOnTeardown(t, child);
	// Requests until a traced open shows (the attach takes a moment): not a timing assertion, a wait.
	for (let tries = 0; tries < 200 && !/open/.test(existsSync(output) ? readFileSync(output, 'utf8') : ''); tries++) {
		t.is(await get(server.port, page), expected);
		await delay(20);
	}

	child.kill('SIGINT');
	t.is(await exited, 0, stderr());
	t.regex(readFileSync(output, 'utf8'), new RegExp(`^${worker} ${worker} {2}nginx!open\\w*\\("\\/.*(?:\\.html"|"\\.\\.\\.)`, 'm'));
	t.is(await get(server.port, page), expected);
	t.is(await workerOf(server.pid), worker, 'the worker still runs');
});

test('pdi trace -p on a running bash (which defines its own setenv and getenv) writes only the calls -e names, to -o FILE', async t => {
	const shell = spawn('bash', ['-c', 'while :; do sleep 0.05; done'], {stdio: 'ignore'});
	stopOnTeardown(t, shell);
	const output = path.join(scratchDirectory('pdi-attach-bash-'), 'trace.txt');
	const {child, stderr, exited} = startPdi(['trace', '-p', String(shell.pid), '-e', 'fork', '-o', output]);
	stopOnTeardown(t, child);
	for (let tries = 0; tries < 500 && !/fork/.test(existsSync(output) ? readFileSync(output, 'utf8') : ''); tries++) {
		await delay(20);
	}

	child.kill('SIGINT');
	t.is(await exited, 0, stderr());
	const lines = readFileSync(output, 'utf8').split('\n').filter(line => line !== '');
	t.true(lines.length > 0, stderr());
	for (const line of lines) {
		t.regex(line, new RegExp(`^${shell.pid} ${shell.pid} {2}bash!fork\\(\\) = \\d+$`));
	}

	t.false(/bash!/.test(stderr()), 'trace lines went to stderr');
});

test('pdi trace -p --json says of a function -e names that the process has no call site of on pdi\'s stderr, never on the process\'s own', async t => {
	const fixture = await startFixture(t);
	const output = path.join(scratchDirectory('pdi-attach-notice-'), 'calls.ndjson');
	const {child, stderr, exited} = startPdi(['trace', '-p', String(fixture.pid), '--json', '-e', 'write,labs', '-o', output]);
	stopOnTeardown(t, child);
	for (let tries = 0; tries < 500 && !/"write"/.test(existsSync(output) ? readFileSync(output, 'utf8') : ''); tries++) {
		await delay(20);
	}

	child.kill('SIGINT');
	t.is(await exited, 0, stderr());
	const calls = readFileSync(output, 'utf8').split('\n').filter(line => line !== '').map(line => JSON.parse(line) as {function: string});
	t.true(calls.length > 0 && calls.every(call => call.function === 'write'), stderr());
	t.regex(stderr(), new RegExp(`^pdi: trace: labs: process ${fixture.pid} has no call site of it to trace \\(`, 'm'));
	const end = await fixture.finish();
	t.is(end.code, 0, end.stderr);
	t.notRegex(end.stderr, /pdi: trace:/);
});

test('attaching to a process that another tracer traces fails in one line naming it, status 2', async t => {
	const fixture = await startFixture(t, 'strace', ['-o', '/dev/null', attachprog]);
	const run = await pdi(['attach', String(fixture.pid), '-c', '/dev/null']);
	t.is(run.code, 2);
	t.regex(run.stderr, new RegExp(`^pdi: cannot attach to process ${fixture.pid}: it is already traced by process \\d+ \\(strace\\), and a process can have only one tracer .*\\n$`));
	t.is(run.stderr.split('\n').length, 2);
	t.is((await fixture.finish()).code, 0);
});

test('attaching to a statically linked program fails in one line, status 2', async t => {
	const fixture = await startFixture(t, attachprogStatic);
	const run = await pdi(['attach', String(fixture.pid), '-c', '/dev/null']);
	t.is(run.code, 2);
	t.is(run.stderr, `pdi: process ${fixture.pid} is statically linked: it has no dynamic loader to load pdi with\n`);
	const end = await fixture.finish();
	t.is(end.code, 0);
});

test('attaching to a zombie (a process that ended and was not reaped) fails in one line saying so, status 2', async t => {
	// A parent that reaps its child only when its stdin closes (then it ends): no zombie is left behind.
	const reaper = 'import os, sys\nchild = os.fork()\nif child == 0:\n    os._exit(0)\nprint(child, flush=True)\nsys.stdin.read()\nos.waitpid(child, 0)\n';
	const parent = spawn('python3', ['-c', reaper], {stdio: ['pipe', 'pipe', 'ignore']});
	t.teardown(() => {
		parent.stdin.end();
	});
	const zombie = await new Promise<number>(resolve => {
		parent.stdout.once('data', (chunk: Buffer) => {
			resolve(Number(chunk.toString().trim()));
		});
	});
	while (!readFileSync(`/proc/${zombie}/stat`, 'utf8').includes(') Z ')) {
		await new Promise(resolve => {
			setTimeout(resolve, 10);
		});
	}

	// Before: 'pdi: process N: cannot read its program (No such file or directory)'.
	for (const args of [['attach', String(zombie), '-c', '/dev/null'], ['trace', '-p', String(zombie)]]) {
		const run = await pdi(args);
		t.is(run.stderr, `pdi: process ${zombie} has ended (a zombie that its parent has not reaped yet): there is nothing to attach to\n`, args.join(' '));
		t.is(run.code, 2);
	}
});

test('attaching to a program that qemu-user runs fails in one line: it would enter the emulator', async t => {
	// qemu-x86_64 running a host program: qemu-user (Debian's qemu-user, which the tests need anyway) on any machine.
	const qemu = '/usr/bin/qemu-x86_64';
	t.true(existsSync(qemu), `${qemu} is missing: apt-get install qemu-user`);
	const child = spawn(qemu, ['/bin/sleep', '60'], {stdio: 'ignore'});
	stopOnTeardown(t, child);
	await new Promise(resolve => {
		child.once('spawn', resolve);
	});
	const advice = 'attaching would enter the emulator, not the program it runs; start the program under qemu with pdi\'s core for its architecture instead (docs/launching.md, "Programs of another architecture")';
	const run = await pdi(['attach', String(child.pid), '-c', '/dev/null']);
	t.is(run.code, 2);
	t.is(run.stderr, `pdi: process ${child.pid} runs under ${qemu}: ${advice}\n`);
	// Said before the config is read: a backend built for the emulated architecture was the first complaint.
	const config = writeFiles({'a.yaml': 'backends: [{name: mine, library: ./no-such-backend.so}]\nrules:\n  - relink: {object: $main, function: getpid, backend: mine, wrapper: w}\n'});
	for (const args of [['attach', String(child.pid), '-c', path.join(config, 'a.yaml')], ['trace', '-p', String(child.pid)]]) {
		const refused = await pdi(args);
		t.is(refused.code, 2, args.join(' '));
		t.is(refused.stderr, `pdi: process ${child.pid} runs under ${qemu}: ${advice}\n`, args.join(' '));
	}
});

test('attaching to a process that does not exist fails in one line, status 2', async t => {
	const missing = readFileSync('/proc/sys/kernel/pid_max', 'utf8').trim();
	const run = await pdi(['attach', missing, '-c', '/dev/null']);
	t.is(run.code, 2);
	t.is(run.stderr, `pdi: no such process: ${missing}\n`);
	await t.throwsAsync(attach(Number(missing), countConfig), {message: `no such process: ${missing}`});
	// A usage error comes first, whatever the pid: it was 'no such process' for a missing one.
	for (const pid of [missing, String(process.pid)]) {
		const both = await pdi(['trace', '-f', '-p', pid]);
		t.deepEqual([both.code, both.stderr], [2, 'pdi: -f/--follow and -p/--pid exclude each other: an attached process is traced alone\n'], pid);
	}
});

test('attaching to the process that attaches (pdi trace -p $$ under exec, attach(process.pid)) fails in one line, status 2', async t => {
	const own = 'pdi cannot attach to the process it runs in (in Node, interpose() installs a config from inside)';
	const traced = await new Promise<{code: number | null; stderr: string}>(resolve => {
		execFile('sh', ['-c', `exec ${shellWord(process.execPath)} ${shellWord(cliPath)} trace -p $$`], (error, _stdout, stderr) => {
			resolve({code: error ? (error.code as number) : 0, stderr});
		});
	});
	t.is(traced.code, 2);
	t.regex(traced.stderr, new RegExp(`^pdi: process \\d+ is the one attaching: ${own.replaceAll(/[()]/g, '\\$&')}\n$`));
	await t.throwsAsync(attach(process.pid, countConfig), {message: `process ${process.pid} is the one attaching: ${own}`});
});

test('the refusal under kernel.yama.ptrace_scope names the setting and what to do', t => {
	const facts = {pid: 42, tracerPid: 0, targetUid: 1000, ownUid: 1000};
	t.is(notPermittedMessage({...facts, ptraceScope: 1}), 'cannot attach to process 42: kernel.yama.ptrace_scope is 1, so a process may trace only its own descendants; run pdi as root, or allow attaching with `sysctl kernel.yama.ptrace_scope=0`');
	t.is(notPermittedMessage({...facts, ptraceScope: 2}), 'cannot attach to process 42: kernel.yama.ptrace_scope is 2, so only root (CAP_SYS_PTRACE) may attach');
	t.is(notPermittedMessage({...facts, ptraceScope: 3}), 'cannot attach to process 42: kernel.yama.ptrace_scope is 3, so no process may attach to another until the machine restarts');
	t.is(notPermittedMessage({...facts, targetUid: 33, ptraceScope: 1}), 'cannot attach to process 42: it runs as another user (uid 33); attach as that user or as root');
	t.regex(notPermittedMessage({...facts, tracerPid: 7, tracerName: 'gdb'}), /^cannot attach to process 42: it is already traced by process 7 \(gdb\)/);
});

test.serial('pdi trace -p on a program pdi trace runs is refused with one line, changes nothing, and the first trace keeps every call', async t => {
	// Before, the second trace took the first one's ring and output: the first lost every later call without a word,
	// the second showed the first one's functions, and after its detach a slot stayed held (an attached act was refused).
	const scratch = scratchDirectory('pdi-attach-traced-');
	const first = path.join(scratch, 'first.txt');
	const fixture = await startFixture(t, process.execPath, [cliPath, 'trace', '-e', 'write', '-o', first, '--', attachprog]);
	const before = readFileSync(first, 'utf8').split('\n').length;
	const second = await pdi(['trace', '-p', String(fixture.pid), '-e', 'read']);
	t.deepEqual([second.code, second.stdout], [2, '']);
	t.is(second.stderr, `pdi: process ${fixture.pid} is traced already (by pdi trace, trace() or observe()): one trace at a time in a process, and nothing was changed in it; its calls are in that trace\n`);
	const acting = path.join(scratch, 'act.yaml');
	writeFileSync(acting, 'rules:\n  - act: {object: $main, function: read, do: {count: true}}\n');
	const acted = await untilPrinted(t, ['attach', String(fixture.pid), '-c', acting, '-v'], /^pdi: attached/m, 'SIGTERM', 300);
	t.is(acted.code, 0, acted.stderr);
	t.regex(acted.stderr, /act \$main read: [1-9]\d* call\(s\) seen/);
	await delay(300);
	const end = await fixture.finish();
	t.is(end.code, 0, end.stderr);
	const lines = readFileSync(first, 'utf8').split('\n').filter(line => line !== '');
	t.true(lines.length > before, `${before} lines before, ${lines.length} at the end`);
	t.true(lines.every(line => /attachprog!write\(/.test(line)), lines.find(line => !/attachprog!write\(/.test(line)));
});

test.serial('attaching to a stopped process is refused with one line naming the process and the signal, and changes nothing', async t => {
	// Before: 'thread N is stopped (by signal 19): continue the process first'.
	const fixture = await startFixture(t);
	process.kill(fixture.pid, 'SIGSTOP');
	try {
		const config = path.join(scratchDirectory('pdi-attach-stopped-'), 'count.yaml');
		writeFileSync(config, JSON.stringify(countConfig));
		for (const args of [['attach', String(fixture.pid), '-c', config], ['trace', '-p', String(fixture.pid)]]) {
			const refused = await pdi(args);
			t.deepEqual([refused.code, refused.stderr], [2, `pdi: process ${fixture.pid} is stopped (by SIGSTOP): continue it first (kill -CONT ${fixture.pid}, or fg in its shell)\n`], args[0]);
		}
	} finally {
		process.kill(fixture.pid, 'SIGCONT');
	}

	const end = await fixture.finish();
	t.is(end.code, 0, end.stderr);
});
