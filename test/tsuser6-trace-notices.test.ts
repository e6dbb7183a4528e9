import test from 'ava';
import {trace} from '../src/ts/index.js';

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
