import path from 'node:path';
import test from 'ava';
import {observe, trace} from '../src/ts/index.js';
import {fixtures} from './helpers/preload.js';

// What `pdi trace` says on stderr of a function -e names plainly that a traced process had no call site of (or that
// pdi never traces), trace() gives in `warnings`. Before, trace() asked the backend for no notices at all: the name
// went unmentioned, and a trace that could never show a call of it looked like one of a program that made none.
test('trace(): a function functions names that the program has no call site of, or that pdi never traces, is in warnings', async t => {
	const traced = trace('cat', ['/etc/hostname'], {functions: 'open*,no_such_function_xyz,exit', stdio: 'ignore'});
	const called: string[] = [];
	for await (const call of traced.calls) {
		called.push(call.function);
	}

	const {status, warnings} = await traced.done;
	t.is(status, 0);
	t.true(called.some(name => name.startsWith('open')));
	t.is(warnings.length, 2, warnings.join('\n'));
	t.regex(warnings[0]!, /^pdi: trace: no_such_function_xyz: process \d+ has no call site of it to trace \(/);
	t.regex(warnings[1]!, /^pdi: trace: exit: pdi never traces exit \(/);
});

test('trace(): a trace whose functions all have call sites has no warnings', async t => {
	const {done} = trace('cat', ['/etc/hostname'], {functions: 'open*,close', stdio: 'ignore'});
	t.deepEqual((await done).warnings, []);
});

test('trace(): a process after an exec does not say it had no call site of a name the image before it called, as pdi trace does not (the shell\'s read, then exec cat)', async t => {
	const traced = trace('sh', ['-c', 'read line </etc/hostname; exec cat /etc/hostname'], {functions: 'read', stdio: 'ignore'});
	let reads = 0;
	for await (const call of traced.calls) {
		reads += call.function === 'read' ? 1 : 0;
	}

	const {status, warnings} = await traced.done;
	t.is(status, 0);
	t.true(reads > 0);
	t.deepEqual(warnings, []);
});

test('trace() and observe() warn of an objects pattern that matched no object, and of none that matched (they said nothing)', async t => {
	const traced = trace('cat', ['/etc/hostname'], {objects: ['libnotthere.so.9', '$main', 'libc.so.6'], stdio: 'ignore'});
	for await (const call of traced.calls) {
		t.truthy(call.function);
	}

	t.deepEqual((await traced.done).warnings, ['pdi: warning: no object matching \'libnotthere.so.9\' (objects) was loaded at start or later, so nothing of it was traced']);
	const dlprog = path.join(fixtures, 'lazy-pie/dlprog');
	const later = trace(dlprog, [path.join(fixtures, 'lazy-pie/libctor.so')], {objects: 'libctor.so', stdio: 'ignore'});
	let calls = 0;
	for await (const call of later.calls) {
		calls += call.function === 'fix_add' ? 1 : 0;
	}

	t.deepEqual((await later.done).warnings, []);
	t.true(calls > 0);
	const notices: string[] = [];
	const observation = observe({objects: 'libnotthere.so.9'}, () => undefined, notice => notices.push(notice));
	observation.close();
	t.deepEqual(notices, ['pdi: warning: no object matching \'libnotthere.so.9\' (objects) was loaded while observed, so nothing of it was traced']);
});
