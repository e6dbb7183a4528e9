import {readFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {pdi} from './helpers/cli.js';
import {compileC, scratchDirectory} from './helpers/files.js';

test('a bad -p value is one line naming -p, status 2, before anything is attached', async t => {
	// Before: 'pdi: abc is not a process id' (no option named; 'pdi:  is not a process id' for -p '').
	const expected = (value: string) => `pdi: -p: expected a process id (a decimal integer from 1 to 2147483647), got '${value}'\n`;
	for (const value of ['abc', '', '0', '-1', ' 12', '12abc', '0x10', '1.5', '2147483648']) {
		const run = await pdi(['trace', '-p', value]);
		t.deepEqual([run.code, run.stdout, run.stderr], [2, '', expected(value)], value);
	}

	// Also when a PROGRAM follows it (that said only that -p starts no PROGRAM).
	const withProgram = await pdi(['trace', '-p', 'abc', 'ls']);
	t.deepEqual([withProgram.code, withProgram.stderr], [2, expected('abc')]);
	const multiline = await pdi(['trace', '--pid=1\n2']);
	t.deepEqual([multiline.code, multiline.stderr], [2, String.raw`pdi: -p: expected a process id (a decimal integer from 1 to 2147483647), got '1\x0a2'` + '\n']);
	// A process id of no process is said as pdi attach says it (test/trace-api.test.ts).
	const missing = await pdi(['trace', '-p', '2147483647']);
	t.deepEqual([missing.code, missing.stderr], [2, 'pdi: no such process: 2147483647\n']);
});

test('pdi trace -c CONFIG -- PROGRAM, with -c taken for --config, says that -c is --summary in pdi trace, not only that the config is no program', async t => {
	const run = await pdi(['trace', '-c', 'pdi-config-that-is-not-here.yaml', '--', '/bin/true']);
	t.deepEqual([run.code, run.stdout], [2, '']);
	t.is(run.stderr, 'pdi: pdi-config-that-is-not-here.yaml: not found in PATH (in pdi trace, -c is --summary and takes no value: pdi trace takes no config file; pdi run -c CONFIG runs a program with one)\n');
	const plain = await pdi(['trace', '--', 'pdi-program-that-is-not-here']);
	t.is(plain.stderr, 'pdi: pdi-program-that-is-not-here: not found in PATH\n', 'no such advice without -c');
});

test('a name -e both includes and excludes for every callee is not said to have no call site (-e \'open,!open\' said process N has no call site of open)', async t => {
	for (const args of [['-e', 'open,!open'], ['-f', '-e', 'open,!op*'], ['-c', '-e', 'open,!o*,getpid_not_imported']]) {
		// Without -o the lines and the notices go to pdi's stderr.
		const run = await pdi(['trace', ...args, '--', '/bin/cat', '/etc/hostname']);
		t.is(run.code, 0, run.stderr);
		t.notRegex(run.stderr, /^pdi: trace: open: /m, args.join(' '));
	}

	const kept = await pdi(['trace', '-e', 'getpid_not_imported,open,!open', '--', '/bin/cat', '/etc/hostname']);
	t.regex(kept.stderr, /^pdi: trace: getpid_not_imported: process \d+ has no call site of it/m, 'a name no exclusion takes out is still said');
});

test('pdi trace -c reads no string argument: its table shows none (it read one per call, a system call each)', async t => {
	const directory = scratchDirectory('pdi-trace-count-reads-');
	// The pipe probe makes each string read a write(): the program's own syscw counts them.
	const program = compileC(directory, 'lengths', `#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(int argc, char **argv) {
  volatile size_t sum = 0;
  for (long i = 0; i < atol(argv[1]); i++)
    sum += strlen(argv[0]);
  char line[128];
  FILE *io = fopen("/proc/self/io", "r");
  while (fgets(line, sizeof line, io))
    if (strncmp(line, "syscw:", 6) == 0)
      fputs(line, stdout);
  return 0;
}
`, ['-O2', '-fno-builtin']);
	const env = {...process.env, PDI_TRACE_PROBE: 'pipe'};
	const writes = (stdout: string) => Number(/^syscw: (\d+)$/m.exec(stdout)?.[1]);
	const counted = await pdi(['trace', '-c', '-o', path.join(directory, 'table.txt'), '--', program, '1000'], {env});
	t.is(counted.code, 0, counted.stderr);
	t.true(writes(counted.stdout) < 50, counted.stdout);
	t.regex(readFileSync(path.join(directory, 'table.txt'), 'utf8'), /^strlen +1000 +0 /m);
	// The same calls traced line by line read their strings, and show them.
	const lines = await pdi(['trace', '-e', 'strlen', '-o', path.join(directory, 'lines.txt'), '--', program, '1000'], {env});
	t.true(writes(lines.stdout) >= 1000, lines.stdout);
	t.regex(readFileSync(path.join(directory, 'lines.txt'), 'utf8'), /strlen\("\/.*"\.\.\.\) = \d+\n/);
});
