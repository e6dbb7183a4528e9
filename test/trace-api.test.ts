import {execFile} from 'node:child_process';
import {existsSync, readFileSync, realpathSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {PdiError} from '../src/ts/errors.js';
import {ConfigError, inspectProgram, runProgram, spawn} from '../src/ts/index.js';
import type {CallEvent} from '../src/ts/trace/events.js';
import {observe} from '../src/ts/trace/observe.js';
import {trace} from '../src/ts/trace/trace.js';
import {pdi} from './helpers/cli.js';
import {scratchDirectory, temporaryEntries} from './helpers/files.js';
import {fixtures} from './helpers/preload.js';

const events = path.join(fixtures, 'trace', 'events');
const traceprog = path.join(fixtures, 'trace', 'traceprog');
const scratch = scratchDirectory('pdi-trace-api-');

/** What two runs of one program agree on: no pids, times or addresses (ASLR). */
function comparable(call: CallEvent) {
	const address = (value: unknown) => (typeof value === 'string' && /^0x[\da-f]{6,}$/.test(value) ? '0xADDRESS' : value);
	return {
		depth: call.depth, thread: call.thread, caller: call.caller, callee: call.callee, function: call.function, version: call.version,
		args: call.args?.map(value => address(value)) ?? null, ret: address(call.ret), errno: call.errno, abandoned: call.abandoned,
	};
}

async function collect(calls: AsyncIterable<CallEvent>): Promise<CallEvent[]> {
	const list: CallEvent[] = [];
	for await (const call of calls) {
		list.push(call);
	}

	return list;
}

test('trace() yields the same events as pdi trace --json, and its summary counts them', async t => {
	for (const [program, args] of [[traceprog, []], [events, ['longjmp']]] as const) {
		const {calls, done} = trace(program, args, {stdio: 'ignore'});
		const fromApi = await collect(calls);
		const {status, summary, warnings} = await done;
		t.is(status, 0);
		t.deepEqual(warnings, []);

		const file = path.join(scratch, `cli-${path.basename(program)}.json`);
		const run = await pdi(['trace', '--json', '-o', file, '--', program, ...args]);
		t.is(run.code, 0, run.stderr);
		const fromCli = readFileSync(file, 'utf8').trimEnd().split('\n').map(line => JSON.parse(line) as CallEvent);
		t.true(fromApi.length > 3);
		t.deepEqual(fromApi.map(call => comparable(call)), fromCli.map(call => comparable(call)));

		t.is(summary.lost, 0);
		t.is(summary.processes.length, 1);
		t.is(summary.processes[0]!.pid, fromApi[0]!.pid);
		t.deepEqual(summary.processes[0]!.programs, [realpathSync(program)]);
		t.is(summary.processes[0]!.calls, fromApi.length);
		const strcmp = fromApi.filter(call => call.function === 'strcmp').length;
		t.is(summary.processes[0]!.functions.find(entry => entry.function === 'strcmp')?.calls ?? 0, strcmp);
	}
});

test('trace() passes options on: functions, stringSize and the exit status', async t => {
	const {calls, done} = trace(traceprog, [], {functions: ['strlen', 'access'], stringSize: 3, stdio: 'ignore'});
	const list = await collect(calls);
	t.deepEqual([...new Set(list.map(call => call.function))].sort(), ['access', 'strlen']);
	const strlen = list.find(call => call.function === 'strlen')!;
	t.regex(String(strlen.args![0]), /^.{0,3}(\.\.\.)?$/);
	t.is((await done).status, 0);

	const failing = trace('sh', ['-c', 'exit 7'], {stdio: 'ignore'});
	await collect(failing.calls);
	t.is((await failing.done).status, 7);
});

test('trace() holds a slow consumer\'s program back instead of losing calls', async t => {
	const {calls, done, child} = trace(events, ['loop', '300000'], {functions: 'abs', stdio: 'ignore'});
	let seen = 0;
	let expected = 0;
	// Every place where the argument is not the next one: a lost run of calls or a reordering shows as a whole here.
	const jumps: string[] = [];
	for await (const call of calls) {
		const value = call.args![0] as number;
		if (value !== expected && jumps.length < 8) {
			jumps.push(`at event ${seen}: ${expected} expected, ${value} came`);
		}

		expected = value + 1;
		seen++;
		if (seen % 50_000 === 0) {
			// A consumer busy elsewhere: the program must wait, not drop events.
			await new Promise(resolve => {
				setTimeout(resolve, 200);
			});
		}
	}

	const {summary, warnings} = await done;
	t.deepEqual({seen, jumps, lost: summary.lost, warnings}, {seen: 300_000, jumps: [], lost: 0, warnings: []});
	t.is(typeof child.pid, 'number');
});

test('trace() and observe() refuse bad or unknown options and a missing program before starting anything', t => {
	t.throws(() => trace(traceprog, [], {stringSize: 5000}), {instanceOf: PdiError, message: /stringSize: expected 0 to 4096, got '5000'/});
	t.throws(() => trace(traceprog, [], {functions: 'a,,b'}), {instanceOf: PdiError, message: /is not a pattern/});
	// An empty list (a filter that happened to select nothing) says so, for objects too (it meant the program).
	t.throws(() => trace(traceprog, [], {functions: []}), {instanceOf: PdiError, message: 'functions: expected at least one pattern (GLOB, !GLOB, GLOB@OBJECT), got []; leave it out to trace every function'});
	t.throws(() => trace(traceprog, [], {objects: []}), {instanceOf: PdiError, message: 'objects: expected at least one object pattern ($main, a soname, a path or a glob), got []; leave it out to trace the program\'s own calls ($main)'});
	// A list's entry is one pattern: 'open,close' was split into two.
	t.throws(() => trace(traceprog, [], {functions: ['read', 'open,close']}), {instanceOf: PdiError, message: /^functions\[1\]: 'open,close' holds a comma, which separates patterns in a string; in a list give each pattern an entry of its own/});
	t.throws(() => observe({functions: ['open,close']}, () => undefined), {instanceOf: PdiError, message: /^functions\[0\]: 'open,close' holds a comma/});
	t.throws(() => trace(path.join(scratch, 'no-such-program')), {instanceOf: PdiError});
	t.throws(() => trace(traceprog, [], {function: 'open'} as never), {instanceOf: PdiError, message: /^unknown option 'function' \(did you mean 'functions'\?\); the options are objects, functions, /});
	t.throws(() => observe({stringsize: 8} as never, () => undefined), {instanceOf: PdiError, message: /^unknown option 'stringsize'/});
});

test('an option of trace() or observe() of the wrong type is a PdiError naming the option, never a raw TypeError, and nothing starts', t => {
	const cases: Array<[Record<string, unknown>, RegExp]> = [
		[{functions: 5}, /^functions: expected a string or an array of strings, got 5$/],
		[{functions: ['open', 5]}, /^functions: expected a string or an array of strings, got \["open",5\]$/],
		[{objects: 5}, /^objects: expected a string or an array of strings, got 5$/],
		[{objects: {pattern: '$main'}}, /^objects: expected a string or an array of strings, got \{"pattern":"\$main"\}$/],
		[{stringSize: '8'}, /^stringSize: expected a number, got '8'$/],
		[{depth: null}, /^depth: expected a number, got null$/],
		[{rawArgs: true}, /^rawArgs: expected a number, got true$/],
		[{prototypes: 3}, /^prototypes: expected a file name, got 3$/],
		[{follow: 'yes'}, /^follow: expected true or false, got 'yes'$/],
	];
	for (const [options, message] of cases) {
		t.throws(() => observe(options as never, () => undefined), {instanceOf: PdiError, message}, JSON.stringify(options));
		t.throws(() => trace(traceprog, [], {...options, stdio: 'ignore'} as never), {instanceOf: PdiError, message}, JSON.stringify(options));
	}

	t.throws(() => trace(traceprog, [], {env: 'PATH=/bin'} as never), {instanceOf: PdiError, message: /^env: expected an object of variables, got 'PATH=\/bin'$/});
	t.throws(() => trace(traceprog, [], {cwd: 7} as never), {instanceOf: PdiError, message: /^cwd: expected a directory name, got 7$/});
	t.throws(() => trace(traceprog, [], {stdio: 1} as never), {instanceOf: PdiError, message: /^stdio: expected 'pipe', 'inherit', 'ignore' or an array of them/});
	t.throws(() => trace(traceprog, 'x' as never), {instanceOf: PdiError, message: 'args: expected an array of strings, got \'x\''});
	t.throws(() => trace(traceprog, [], null as never), {instanceOf: PdiError, message: 'options: expected an object, got null'});
	t.throws(() => observe({}, 'log' as never), {instanceOf: PdiError, message: 'onCall: expected a function, got string'});
	t.throws(() => observe({follow: true}, () => undefined), {instanceOf: PdiError, message: /^follow: observe\(\) traces this process only, not its children/});
	// Options left out are fine, and a refused one left no observation behind.
	const observation = observe({functions: undefined, objects: ['$main']}, () => undefined);
	t.false(observation.closed);
	observation.close();
	t.true(observation.closed);
});

/** A script whose interpreter is a script whose own interpreter does not exist: the kernel's exec fails with ENOENT. */
function nestedScript(name: string): string {
	const inner = path.join(scratch, `${name}.interpreter`);
	writeFileSync(inner, '#!/nonexistent/interpreter\n', {mode: 0o755});
	const script = path.join(scratch, name);
	writeFileSync(script, `#!${inner}\necho never\n`, {mode: 0o755});
	return script;
}

test('trace() of a program pdi cannot trace throws at the call; of one whose exec fails after the checks, it returns and done rejects with a PdiError naming it', async t => {
	t.throws(() => trace('/nonexistent/prog', [], {}), {instanceOf: PdiError, message: '/nonexistent/prog: no such file or directory'});
	const checked = path.join(scratch, 'no-interpreter.sh');
	writeFileSync(checked, '#!/nonexistent/interpreter\necho never\n', {mode: 0o755});
	t.throws(() => trace(checked, [], {}), {instanceOf: PdiError, message: `${checked}: its interpreter /nonexistent/interpreter: no such file or directory`});
	// pdi checks the interpreter a script names, not that one's own: the exec fails after the checks.
	const script = nestedScript('nested-interpreter.sh');
	// A relative interpreter is the kernel's to find from the working directory, and so is pdi's check.
	const relative = path.join(scratch, 'relative-interpreter.sh');
	writeFileSync(relative, '#!nonexistent-interpreter\necho never\n', {mode: 0o755});
	t.throws(() => trace(relative, [], {}), {instanceOf: PdiError, message: `${relative}: its interpreter ${path.resolve('nonexistent-interpreter')}: no such file or directory`});
	const {calls, done, child} = trace(script, [], {stdio: 'ignore'});
	t.is(child.pid, undefined);
	const iterated = (async () => {
		for await (const call of calls) {
			t.fail(`a call of ${call.function}`);
		}
	})();
	const rejection = await t.throwsAsync(done, {instanceOf: PdiError, message: `${script}: could not be started: no such file or directory`});
	t.is((rejection?.cause as NodeJS.ErrnoException | undefined)?.code, 'ENOENT');
	await t.throwsAsync(iterated, {instanceOf: PdiError});
});

test('a trace() whose exec fails, handled where the loop over its calls throws, is not also an unhandled rejection of done that ends the process', async t => {
	// An interpreter whose own interpreter is missing passes pdi's checks; the exec fails after them.
	const script = nestedScript('no-interpreter-loop.sh');
	const module = path.resolve('dist/ts/index.js');
	const source = [
		`import {trace} from ${JSON.stringify(module)};`,
		`const {calls} = trace(${JSON.stringify(script)}, [], {stdio: 'ignore'});`,
		'try {',
		'\tfor await (const call of calls) console.log(call.function);',
		'} catch (error) {',
		'\tconsole.log(`caught: ${error.message}`);',
		'}',
		'await new Promise(resolve => setTimeout(resolve, 50));',
		'console.log(\'still running\');',
	].join('\n');
	const {code, stdout, stderr} = await new Promise<{code: number | null; stdout: string; stderr: string}>(resolve => {
		const child = execFile(process.execPath, ['--input-type=module', '-e', source], (_error, stdout, stderr) => {
			resolve({code: child.exitCode, stdout, stderr});
		});
	});
	t.is(stderr, '');
	t.is(stdout, `caught: ${script}: could not be started: no such file or directory\nstill running\n`);
	t.is(code, 0);
});

test('observe() in a worker thread while the main thread observes is refused with a PdiError, and the main thread\'s observation still sees its calls', async t => {
	const module = path.resolve('dist/ts/index.js');
	const source = [
		`import {observe} from ${JSON.stringify(module)};`,
		'import {readFileSync} from \'node:fs\';',
		'import {Worker} from \'node:worker_threads\';',
		'const seen = [];',
		'const observation = observe({functions: \'open64\'}, call => seen.push(call.args?.[0]));',
		'const worker = new Worker(`import {observe} from ${JSON.stringify(\'' + module + '\')}; import {parentPort} from \'node:worker_threads\';',
		'try { observe({functions: \'read\'}, () => undefined).close(); parentPort.postMessage(\'observing\'); } catch (error) { parentPort.postMessage(error.name + \': \' + error.message); }`, {eval: true});',
		'const said = await new Promise(resolve => worker.once(\'message\', resolve));',
		'await new Promise(resolve => worker.once(\'exit\', resolve));',
		'readFileSync(\'/etc/hostname\');',
		'await new Promise(resolve => setTimeout(resolve, 50));',
		'observation.close();',
		'observe({}, () => undefined).close();',
		'console.log(JSON.stringify({said, hostname: seen.includes(\'/etc/hostname\')}));',
	].join('\n');
	const printed = await new Promise<string>((resolve, reject) => {
		execFile(process.execPath, ['--input-type=module', '-e', source], (error, stdout, stderr) => {
			if (error) {
				reject(new Error(`${error.message}\n${stderr}`));
			} else {
				resolve(stdout.trim());
			}
		});
	});
	t.deepEqual(JSON.parse(printed), {
		said: 'PdiError: observe(): an observation is already active in this process (in this thread or another); close() it first',
		hostname: true,
	});
});

/** The event rings of this process's own calls (files `PID-NS.ring`) that it has mapped; trace() maps its children's too. */
function ownMappedRings(): string[] {
	const own = new RegExp(`/${process.pid}-\\d+\\.ring( \\(deleted\\))?$`);
	return readFileSync('/proc/self/maps', 'utf8').split('\n').filter(line => own.test(line));
}

test('observe() sees this process open a file, with its name decoded, and close() stops it and unmaps its event ring', async t => {
	const seen: CallEvent[] = [];
	const observation = observe({functions: 'open*'}, call => {
		seen.push(call);
	});
	t.throws(() => observe({}, () => undefined), {message: /already active/});
	readFileSync('/etc/hostname');
	for (let wait = 0; wait < 200 && !seen.some(call => call.args?.[0] === '/etc/hostname'); wait++) {
		// Events arrive asynchronously, on the event loop.
		await new Promise(resolve => {
			setTimeout(resolve, 10);
		});
	}

	const open = seen.find(call => call.args?.[0] === '/etc/hostname');
	t.truthy(open, JSON.stringify(seen));
	t.is(open!.pid, process.pid);
	t.is(open!.caller, process.execPath);
	t.regex(open!.callee!, /libc\.so\.6$/);
	t.is(typeof open!.ret, 'number');
	const summary = observation.close();
	t.is(summary.lost, 0);
	// Other tests of this file run meanwhile, in this process: compare what observe() saw of its own process.
	const own = summary.processes.find(entry => entry.pid === process.pid);
	t.is(own?.calls, seen.filter(call => call.pid === process.pid).length);
	t.is(observation.close(), summary);
	// Before, the backend kept its 4 MiB ring mapped until the next observe().
	t.deepEqual(ownMappedRings(), []);

	const before = seen.length;
	readFileSync('/etc/hostname');
	await new Promise(resolve => {
		setTimeout(resolve, 50);
	});
	t.is(seen.length, before);

	// A second observation after the first was closed works the same.
	const again: CallEvent[] = [];
	const second = observe({functions: 'open*'}, call => {
		again.push(call);
	});
	readFileSync('/etc/hostname');
	second.close();
	t.true(again.some(call => call.args?.[0] === '/etc/hostname'), JSON.stringify(again));
});

test('pdi trace -p of a process that does not exist says so in one line', async t => {
	// pid_max itself is never a process id (test/attach.test.ts traces running processes).
	const missing = readFileSync('/proc/sys/kernel/pid_max', 'utf8').trim();
	const run = await pdi(['trace', '-p', missing]);
	t.is(run.code, 2);
	t.is(run.stderr, `pdi: no such process: ${missing}\n`);
});

test('trace() of python3: the summary\'s counts equal the counts of the same run\'s events', async t => {
	const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
	const {calls, done} = trace(python, ['-c', 'import json; json.dumps(list(range(1000)))'], {stdio: 'ignore'});
	const counted = new Map<string, number>();
	for await (const call of calls) {
		counted.set(call.function, (counted.get(call.function) ?? 0) + 1);
	}

	const {status, summary} = await done;
	t.is(status, 0);
	t.is(summary.lost, 0);
	t.is(summary.processes.length, 1);
	const fromSummary = new Map(summary.processes[0]!.functions.map(entry => [entry.function, entry.calls]));
	t.true(fromSummary.size > 10);
	t.deepEqual(new Map([...fromSummary].sort()), new Map([...counted].sort()));
});

test('breaking out of trace()\'s calls keeps nothing more for them: the program runs to its end, the summary counts every call, and the calls cannot be iterated again', async t => {
	// objects as one string, as functions may be.
	const {calls, done} = trace(events, ['loop', '200000'], {objects: '$main', functions: 'abs', stdio: 'ignore'});
	let seen = 0;
	for await (const call of calls) {
		t.is(call.function, 'abs');
		if (++seen === 5) {
			break;
		}
	}

	const {status, summary} = await done;
	t.is(status, 0);
	t.is(summary.processes.reduce((total, entry) => total + entry.calls, 0), 200_000);
	t.is((calls as unknown as {size: number}).size, 0, 'the calls after the break were dropped, not kept in memory');
	t.throws(() => calls[Symbol.asyncIterator](), {instanceOf: PdiError, message: 'the calls of a trace can be iterated once'});
});

test('an onCall of observe() that throws still gets every other call, close() returns the summary and a new observe() may start; the error is an uncaught exception of the event loop', async t => {
	const script = [
		`import {observe} from ${JSON.stringify(path.resolve('src/ts/trace/observe.ts'))};`,
		'import {readFileSync} from \'node:fs\';',
		'const seen = [];',
		'const errors = [];',
		'process.on(\'uncaughtException\', error => errors.push(error.message));',
		'const observation = observe({functions: \'open*\'}, call => {',
		'\tseen.push(call.args?.[0]);',
		'\tif (seen.length === 1) throw new Error(\'boom\');',
		'});',
		'for (let i = 0; i < 3; i++) readFileSync(\'/etc/hostname\');',
		'const summary = observation.close();',
		'observe({}, () => undefined).close();',
		'setTimeout(() => console.log(JSON.stringify({seen: seen.filter(name => name === \'/etc/hostname\').length, errors, calls: summary.processes[0]?.calls})), 50);',
	].join('\n');
	const printed = await new Promise<string>((resolve, reject) => {
		execFile(process.execPath, ['--import', 'tsx/esm', '--input-type=module', '-e', script], (error, stdout, stderr) => {
			if (error) {
				reject(new Error(`${error.message}\n${stderr}`));
			} else {
				resolve(stdout.trim());
			}
		});
	});
	const result = JSON.parse(printed) as {seen: number; errors: string[]; calls: number};
	t.is(result.seen, 3);
	t.deepEqual(result.errors, ['boom']);
	t.true(result.calls >= 3);
});

/** Runs `body` with TMPDIR set to a fresh directory of its own, then puts TMPDIR back. */
async function withTemporaryDirectory(prefix: string, body: (directory: string) => Promise<void>): Promise<void> {
	const temporary = scratchDirectory(prefix);
	const {TMPDIR: formerTemporary} = process.env;
	process.env['TMPDIR'] = temporary;
	try {
		await body(temporary);
	} finally {
		if (formerTemporary === undefined) {
			delete process.env['TMPDIR'];
		} else {
			process.env['TMPDIR'] = formerTemporary;
		}
	}
}

test.serial('an argument list the kernel refuses (E2BIG) is a PdiError naming the program, from trace(), spawn() and runProgram(), with nothing left behind', async t => {
	const huge = 'a'.repeat(200_000);
	const message = '/bin/true: could not be started: argument list too long';
	await withTemporaryDirectory('pdi-e2big-', async temporary => {
		t.throws(() => trace('/bin/true', [huge]), {instanceOf: PdiError, message});
		t.throws(() => spawn({}, '/bin/true', [huge]), {instanceOf: PdiError, message});
		await t.throwsAsync(runProgram('/bin/true', [huge]), {instanceOf: PdiError, message});
		t.deepEqual(temporaryEntries(temporary), []);
	});
});

test.serial('a working directory that does not exist and a NUL byte in an argument or a variable are a PdiError naming them, from trace(), spawn(), runProgram() and inspectProgram(), with nothing left behind', async t => {
	await withTemporaryDirectory('pdi-launch-input-', async temporary => {
		const cwd = path.join(scratch, 'no such directory');
		const noDirectory = `cwd: ${cwd}: no such file or directory`;
		t.throws(() => trace('ls', [], {cwd}), {instanceOf: PdiError, message: noDirectory});
		t.throws(() => spawn({}, 'ls', [], {cwd}), {instanceOf: PdiError, message: noDirectory});
		await t.throwsAsync(runProgram('ls', [], {cwd}), {instanceOf: PdiError, message: noDirectory});
		await t.throwsAsync(inspectProgram('ls', [], {cwd}), {instanceOf: PdiError, message: noDirectory});
		await t.throwsAsync(runProgram('ls', [], {cwd: '/etc/hostname'}), {instanceOf: PdiError, message: 'cwd: /etc/hostname: not a directory'});

		const argument = 'args[1]: contains a NUL byte, which a program cannot be given';
		t.throws(() => trace('/bin/true', ['a', 'b\0c']), {instanceOf: PdiError, message: argument});
		t.throws(() => spawn({}, '/bin/true', ['a', 'b\0c']), {instanceOf: PdiError, message: argument});
		await t.throwsAsync(runProgram('/bin/true', ['a', 'b\0c']), {instanceOf: PdiError, message: argument});
		await t.throwsAsync(runProgram('/bin/true', [], {env: {A: 'x\0y'}}), {instanceOf: PdiError, message: 'env.A: contains a NUL byte, which a program cannot be given'});
		t.deepEqual(temporaryEntries(temporary), []);
	});
});

test('runProgram() of a program whose exec fails after the checks rejects with a PdiError naming it, as trace() does', async t => {
	// An interpreter whose own interpreter is missing passes pdi's checks (a missing one is refused by them).
	const script = nestedScript('no-interpreter-run.sh');
	const error = await t.throwsAsync(runProgram(script, [], {stdio: 'ignore'}), {instanceOf: PdiError, message: `${script}: could not be started: no such file or directory`});
	t.is((error?.cause as NodeJS.ErrnoException | undefined)?.code, 'ENOENT');
});

test('runProgram() with stdio \'pipe\' drains what the program writes: a large output does not hold it back for ever', async t => {
	const {status} = await runProgram('/usr/bin/seq', ['1', '300000'], {stdio: 'pipe'});
	t.is(status, 0);
	t.is((await runProgram('/bin/sh', ['-c', 'seq 1 100000 >&2; cat'], {stdio: ['pipe', 'ignore', 'pipe']})).status, 0);
});

test('runProgram() refuses an option it does not know and a value of the wrong type with a PdiError naming it, before anything starts', async t => {
	await t.throwsAsync(runProgram('/bin/true', [], {confg: {}} as never), {instanceOf: PdiError, message: /^unknown option 'confg' \(did you mean 'config'\?\); the options are configs, config, verbosity, env, cwd, stdio, signal$/});
	await t.throwsAsync(runProgram('/bin/true', [], {configs: '/etc/pdi.yaml'} as never), {instanceOf: PdiError, message: 'configs: expected an array of config file names, got \'/etc/pdi.yaml\''});
	await t.throwsAsync(runProgram('/bin/true', [], {verbosity: 'x'} as never), {instanceOf: PdiError, message: 'verbosity: expected a whole number of steps, 0 or more (each raises the log level one step, as a -v of pdi run, up to debug), got \'x\''});
	await t.throwsAsync(runProgram('/bin/true', [], {config: null} as never), {instanceOf: PdiError, message: 'config: expected a config object, got null'});
	await t.throwsAsync(runProgram('/bin/true', [], null as never), {instanceOf: PdiError, message: 'options: expected an object, got null'});
});

test('trace() refuses a lost config with a ConfigError, as runProgram() does', t => {
	// It was a plain PdiError: a harness catching ConfigError missed it.
	t.throws(() => trace('/bin/true', [], {config: null} as never), {instanceOf: ConfigError, message: 'config: expected a config object (as runProgram() takes) or one from loadConfig(), got null'});
});

test('-C and demangle: true show a C++ function by its demangled name in text, --json, -c and trace() events; without them, by its symbol', async t => {
	const program = path.join(fixtures, 'callback', 'cbexcept');
	const plain = await pdi(['trace', '-e', '_Z8cb_throwi', '--', program]);
	t.is(plain.code, 0, plain.stderr);
	t.regex(plain.stderr, /cbexcept!_Z8cb_throwi\(0x0?7,/);
	const text = await pdi(['trace', '-C', '-e', '_Z8cb_throwi', '--', program]);
	t.is(text.code, 0, text.stderr);
	t.regex(text.stderr, /cbexcept!cb_throw\(int\)\(0x0?7,/);
	t.notRegex(text.stderr, /_Z8cb_throwi/);
	const json = await pdi(['trace', '-C', '--json', '-e', '_Z8cb_throwi', '--', program]);
	const functions = json.stderr.split('\n').filter(line => line.startsWith('{')).map(line => (JSON.parse(line) as CallEvent).function);
	t.deepEqual([...new Set(functions)], ['cb_throw(int)'], json.stderr);
	const summary = await pdi(['trace', '-C', '-c', '-e', '_Z8cb_throwi', '--', program]);
	t.is(summary.code, 0, summary.stderr);
	t.regex(summary.stderr, /^cb_throw\(int\) +3 /m);
	t.notRegex(summary.stderr, /no call of it was traced/);
	const {calls, done} = trace(program, [], {functions: '_Z8cb_throwi', demangle: true, stdio: 'ignore'});
	const names: string[] = [];
	for await (const call of calls) {
		names.push(call.function);
	}

	t.is((await done).status, 0);
	t.deepEqual([...new Set(names)], ['cb_throw(int)']);
	t.throws(() => trace(program, [], {demangle: 'yes' as unknown as boolean}), {instanceOf: PdiError, message: 'demangle: expected true or false, got \'yes\''});
});

test('with -C, -e patterns match the demangled names as well as the symbols (include, exclude, no notice); without it, the symbols only', async t => {
	const program = path.join(fixtures, 'callback', 'cbexcept');
	const shown = (stderr: string) => stderr.split('\n').filter(line => /^\d+ \d+ /.test(line)).map(line => line.replace(/^\d+ \d+ {2}/, '').replace(/\(0x.*/, ''));
	const named = await pdi(['trace', '-C', '-e', 'cb_throw(int)', '--', program]);
	t.is(named.code, 0, named.stderr);
	t.deepEqual(shown(named.stderr), Array.from({length: 3}, () => 'cbexcept!cb_throw(int)'), named.stderr);
	t.notRegex(named.stderr, /^pdi: /m);
	const excluded = await pdi(['trace', '-C', '-e', '*,!cb_throw(*)', '--', program]);
	t.is(excluded.code, 0, excluded.stderr);
	t.false(shown(excluded.stderr).some(line => line.includes('cb_throw')), excluded.stderr);
	t.true(shown(excluded.stderr).length > 0, excluded.stderr);
	const summary = await pdi(['trace', '-C', '-c', '-e', 'cb_throw(int)', '--', program]);
	t.regex(summary.stderr, /^cb_throw\(int\) +3 /m);
	t.notRegex(summary.stderr, /^pdi: /m);
	const symbolsOnly = await pdi(['trace', '-e', 'cb_throw(int)', '--', program]);
	t.deepEqual(shown(symbolsOnly.stderr), []);
});

test('trace() with follow: done waits for a child that outlives the program (a daemonizing server), and its calls come too', async t => {
	const follow = path.join(fixtures, 'trace', 'follow');
	const {calls, done, child} = trace(follow, ['daemon', '300'], {follow: true, functions: 'abs', stdio: ['ignore', 'pipe', 'inherit']});
	let stdout = '';
	child.stdout.on('data', (chunk: Buffer) => {
		stdout += chunk.toString();
	});
	const seen = await collect(calls);
	const {status, summary} = await done;
	t.is(status, 0);
	const childPid = Number(/^child (\d+)$/m.exec(stdout)?.[1]);
	t.is(seen.filter(call => call.pid === childPid && call.function === 'abs').length, 3, stdout);
	t.is(summary.processes.find(entry => entry.pid === childPid)?.calls, 3);
});

test('trace() with follow gives in warnings the notices pdi trace -f prints of names no followed process had a call site of', async t => {
	// Was a bug: with follow, warnings was always [], where pdi trace -f names them.
	const functions = ['open', 'nonexistent_function', 'exit'];
	const {calls, done} = trace('/bin/sh', ['-c', 'cat /etc/hostname | wc -c; true'], {follow: true, functions, stdio: 'ignore'});
	await collect(calls);
	const {status, warnings} = await done;
	t.is(status, 0);
	const cli = await pdi(['trace', '-f', '-o', '/dev/null', '-e', functions.join(','), '--', '/bin/sh', '-c', 'cat /etc/hostname | wc -c; true']);
	t.is(cli.code, 0, cli.stderr);
	const printed = cli.stderr.split('\n').filter(line => line.startsWith('pdi: trace: '));
	t.deepEqual(printed.map(line => line.split(':')[2]).sort(), [' exit', ' nonexistent_function']);
	t.deepEqual(warnings, printed);
});
