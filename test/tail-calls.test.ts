import {execFileSync} from 'node:child_process';
import {readFileSync} from 'node:fs';
import {createRequire} from 'node:module';
import path from 'node:path';
import test from 'ava';
import {interpose} from '../src/ts/index.js';
import {pdi} from './helpers/cli.js';
import {scratchDirectory} from './helpers/files.js';
import {fixtures, runBare, runPreloaded, testArch, writeConfig} from './helpers/preload.js';
import {textValue} from './helpers/quote.js';

const directory = path.join(fixtures, 'tail');
const tailprog = path.join(directory, 'tailprog');
const backend = `backend tb = ${textValue(path.join(directory, 'tail-backend.so'))}`;
const scratch = scratchDirectory('pdi-tail-');

const objdump: Record<string, string> = {'': 'objdump', aarch64: 'aarch64-linux-gnu-objdump', i386: 'i686-linux-gnu-objdump'};

/** What tail-backend.so records for the struct results, which travel differently per architecture. */
const big = testArch === 'aarch64' ? '<leaf_big <tail_big' : '<leaf_big=sret <tail_big=sret';
const pair = testArch === 'i386' ? '<leaf_pair=sret <tail_pair=sret' : '<leaf_pair=9 <tail_pair=9';

/** The trace of one round of tailrun.c at outer depth `d`: every tail-called function nests one deeper and returns its own value. */
function round(d: number): string {
	const [a, b, c] = [d, d + 1, d + 2];
	return [
		`>tail_strlen@${a} >strlen@${b} <strlen=5 <tail_strlen=5`,
		`>tail_int@${a} >leaf_int@${b} <leaf_int=34 <tail_int=34`,
		`>tail_ptr@${a} >leaf_ptr@${b} <leaf_ptr=5 <tail_ptr=5`,
		`>tail_double@${a} >leaf_double@${b} <leaf_double=5250 <tail_double=5250`,
		`>tail_big@${a} >leaf_big@${b} ${big}`,
		`>tail_pair@${a} >leaf_pair@${b} ${pair}`,
		`>tail_stack@${a} >leaf_stack@${b} <leaf_stack=396 <tail_stack=396`,
		`>tail_chain1@${a} >mid_chain2@${b} >leaf_chain3@${c} <leaf_chain3=322 <mid_chain2=322 <tail_chain1=322`,
		`>tail_jump@${a} >leaf_longjmp@${b} <!leaf_longjmp <!tail_jump`,
		`>tail_int@${a} >leaf_int@${b} <leaf_int=4 <tail_int=4`,
	].join(' ');
}

let traces = 0;
async function traced(args: readonly string[], commands: readonly string[]) {
	const file = path.join(scratch, `trace-${traces++}.txt`);
	const run = await runPreloaded(tailprog, args, writeConfig([backend, ...commands]), {TAIL_TRACE_OUT: file});
	let trace = '';
	try {
		trace = readFileSync(file, 'utf8');
	} catch {}

	return {run, trace};
}

test('the tail-call fixtures really end in jumps: libtail.so and libtailmid.so branch to their imports without a call', t => {
	for (const library of ['libtail.so', 'libtailmid.so']) {
		const listing = execFileSync(objdump[testArch] ?? 'objdump', ['-d', '--no-show-raw-insn', path.join(directory, library)], {encoding: 'utf8'});
		// A struct returned in memory is copied after the call (on i386 the 16-byte pair too).
		const copied = testArch === 'i386' ? /^[\da-f]+ <tail_(big|pair)>:/ : /^[\da-f]+ <tail_big>:/;
		const functions = listing.split(/\n(?=[\da-f]+ <)/).filter(block => /^[\da-f]+ <(tail|mid)_\w+>:/.test(block) && !copied.test(block));
		t.true(functions.length >= (library === 'libtail.so' ? (testArch === 'i386' ? 7 : 8) : 1), library);
		for (const block of functions) {
			const name = /<(\w+)>:/.exec(block)?.[1];
			t.regex(block, /\n\s+[\da-f]+:\s+(jmp|b)\s/, `${library}!${name} ends in a jump`);
			t.notRegex(block, /\n\s+[\da-f]+:\s+(call|bl)\s+[\da-f]+ <(leaf|mid|strlen)/, `${library}!${name} makes no call to its import`);
		}
	}
});

test('tail calls between instrumented objects: identical output, and each call of a tail chain nests, returns its own value and is not abandoned', async t => {
	const expected = await runBare(tailprog, ['2']);
	const {run, trace} = await traced(['2'], ['callback * * tb']);
	t.is(run.code, 0, run.stderr);
	t.is(run.stdout, expected.stdout);
	t.regex(run.stdout, /^tail_chain1=322$/m);
	t.is(trace, `trace ${round(0)} ${round(0)} \n`);
});

test('a tail call from the program\'s callee into an object that is not instrumented still returns through the caller\'s frame', async t => {
	const expected = await runBare(tailprog, ['1']);
	const {run, trace} = await traced(['1'], ['callback $main * tb']);
	t.is(run.code, 0, run.stderr);
	t.is(run.stdout, expected.stdout);
	t.regex(trace, /^trace >tail_strlen@0 <tail_strlen=5 >tail_int@0 <tail_int=34 /);
	t.regex(trace, />tail_jump@0 <!tail_jump >tail_int@0 <tail_int=4 \n$/);
});

test('interpose() in this process: an addon\'s calls into tail-calling libraries finish and give the same results', t => {
	const require = createRequire(import.meta.url);
	const addon = require(path.join(directory, 'tailaddon.node')) as {run(rounds: number): string};
	const expected = addon.run(1);
	const file = path.join(scratch, 'in-process.txt');
	process.env['TAIL_TRACE_OUT'] = file;
	const handle = interpose({
		backends: [{name: 'tb', library: path.join(directory, 'tail-backend.so')}],
		rules: ['tailaddon.node', 'libtail.so', 'libtailmid.so', 'libtailleaf.so'].map(object => ({callback: {object, backend: 'tb'}})),
	});
	try {
		t.is(addon.run(3), expected.repeat(3));
	} finally {
		handle.close();
	}

	t.is(addon.run(1), expected);
	t.is(readFileSync(file, 'utf8'), `trace ${round(0)} ${round(0)} ${round(0)} \n`);
});

for (const [name, command, args] of [
	['/bin/ls /', '/bin/ls', ['/']],
	['python3 -c', 'python3', ['-c', 'import json; print(sum(range(10)), json.dumps({"a": [1, 2.5]}))']],
	['a C++ program using std::vector and std::string', path.join(directory, 'vecprog'), []],
] as const) {
	test(`pdi trace --object '*' over ${name} finishes with the program's own output and no abandoned frame`, async t => {
		// The interpreter itself: without -f an exec ends tracing, and python3 may be a script (a pyenv shim) that execs it.
		const program = command === 'python3' ? execFileSync(command, ['-c', 'import sys; print(sys.executable)'], {encoding: 'utf8'}).trim() : command;
		const expected = execFileSync(program, args, {encoding: 'utf8'});
		const file = path.join(scratch, `cli-${traces++}.txt`);
		// python3 makes about 1.7 million traced calls (6 s here alone); a hang is what the time-out catches, not slowness under load.
		const result = await pdi(['trace', '--object', '*', '-o', file, '--', program, ...args], {timeout: 90_000});
		t.is(result.code, 0, result.stderr);
		t.is(result.stdout, expected);
		const lines = readFileSync(file, 'utf8').split('\n');
		t.true(lines.length > 20);
		t.deepEqual(lines.filter(line => line.includes('<abandoned>')), []);
	});
}

test('pdi trace --object libstdc++.so.6 on a C++ program finishes with its own output', async t => {
	const vecprog = path.join(directory, 'vecprog');
	const expected = execFileSync(vecprog, {encoding: 'utf8'});
	const file = path.join(scratch, `cli-${traces++}.txt`);
	const result = await pdi(['trace', '--object', 'libstdc++.so.6', '-o', file, '--', vecprog], {timeout: 30_000});
	t.is(result.code, 0, result.stderr);
	t.is(result.stdout, expected);
	t.regex(readFileSync(file, 'utf8'), /^\d+ \d+ {2}libstdc\+\+\.so\.6!\w+\(/m);
});

test('a rule with only a pre hook over tail-calling objects: identical output, each function seen once, nothing left open', async t => {
	const expected = await runBare(tailprog, ['2']);
	const file = path.join(scratch, `lean-${traces++}.txt`);
	const leanBackend = `backend l = ${textValue(path.join(fixtures, 'callback', 'cb-lean-backend.so'))}`;
	const run = await runPreloaded(tailprog, ['2'], writeConfig([leanBackend, 'callback * * l']), {LEAN_OUT: file, LEAN_NAMES: 'tail_:leaf_:mid_'});
	t.is(run.code, 0, run.stderr);
	t.is(run.stdout, expected.stdout);
	// Without a post hook no call stays open, so every call is outermost; the order is round()'s.
	const entries = round(0).split(' ').filter(entry => /^>(tail|leaf|mid)_/.test(entry)).map(entry => entry.replace(/@\d+$/, '@0')).join(' ');
	t.is(/^trace (.*)$/m.exec(readFileSync(file, 'utf8'))?.[1], `${entries} ${entries} `);
});
