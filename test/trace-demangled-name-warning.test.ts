// -e 'std::thread::join()' without -C matched nothing, and the only word was that the program had no call site of it.
import {execFileSync} from 'node:child_process';
import path from 'node:path';
import test from 'ava';
import {trace} from '../src/ts/index.js';
import {pdi} from './helpers/cli.js';
import {scratchDirectory, writeFiles} from './helpers/files.js';

const scratch = scratchDirectory('pdi-trace-demangled-');
const source = writeFiles({'joins.cc': '#include <thread>\nint main() { std::thread t([] {}); t.join(); }\n'}, 'pdi-trace-demangled-src-');
const program = path.join(scratch, 'joins');
execFileSync('g++', ['-O2', '-pthread', '-o', program, path.join(source, 'joins.cc')]);
const warning = '-e \'std::thread::join()\' is a C++ name as -C shows it: without -C, names are matched against the symbols (_ZN...), and it matches none';

test('pdi trace -e with a demangled C++ name but no -C warns at once that it matches no symbol; with -C it traces the call', async t => {
	const without = await pdi(['trace', '-e', 'std::thread::join()', '--', program]);
	t.is(without.code, 0, without.stderr);
	t.is(without.stderr.split('\n')[0], `pdi: warning: ${warning}`);
	const withC = await pdi(['trace', '-C', '-e', 'std::thread::join()', '--', program]);
	t.is(withC.code, 0, withC.stderr);
	t.notRegex(withC.stderr, /warning/);
	t.regex(withC.stderr, /joins!std::thread::join\(\)\(/);
	const mangled = await pdi(['trace', '-e', '_ZNSt6thread4joinEv', '--', program]);
	t.notRegex(mangled.stderr, /warning/);
});

test('trace() gives the same warning among its warnings when demangle is off', async t => {
	const traced = trace(program, [], {functions: 'std::thread::join()'});
	const calls = [];
	for await (const call of traced.calls) {
		calls.push(call);
	}

	const {warnings} = await traced.done;
	t.is(calls.length, 0);
	t.true(warnings.includes('pdi: warning: functions \'std::thread::join()\' is a C++ name as demangle: true shows it: without demangle: true, names are matched against the symbols (_ZN...), and it matches none'), warnings.join('\n'));
});
