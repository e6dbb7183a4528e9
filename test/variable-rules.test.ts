import {writeFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {pdi} from './helpers/cli.js';
import {compileC, scratchDirectory} from './helpers/files.js';
import {fixBackend, runBare, runPreloaded, writeConfig} from './helpers/preload.js';
import {textValue} from './helpers/quote.js';

// A library that exports a variable, a thread-local variable and a function, and a program that uses all three
// and libc's stdout: the names a rule may take for functions by mistake.
const directory = scratchDirectory('pdi-variable-rules-');
compileC(directory, 'libvars.so', `
int vars_counter = 41;
__thread int vars_tls = 7;
int vars_add(int a, int b) { return a + b; }
`, ['-shared', '-fPIC']);
const program = compileC(directory, 'varsprog', `
#include <stdio.h>
extern int vars_counter;
extern __thread int vars_tls;
int vars_add(int, int);
int main(void) {
	vars_counter++;
	vars_tls += vars_counter;
	printf("counter=%d tls=%d add=%d\\n", vars_counter, vars_tls, vars_add(2, 3));
	fflush(stdout);
	return 0;
}
`, [`-L${directory}`, '-lvars', `-Wl,-rpath,${directory}`]);
const backend = `backend fix = ${textValue(fixBackend)}`;
const bareOutput = 'counter=42 tls=49 add=5\n';

const cases = [
	{rule: 'relink $main vars_counter fix wrap_fix_add', column: 14, name: 'vars_counter', kind: 'a data object', definer: /varsprog|libvars\.so/},
	{rule: 'redefine * vars_counter fix wrap_fix_add', column: 12, name: 'vars_counter', kind: 'a data object', definer: /varsprog|libvars\.so/},
	{rule: 'redefine libc.so.6 stdout fix wrap_fix_add', column: 20, name: 'stdout', kind: 'a data object', definer: /libc\.so\.6/},
	{rule: 'relink $main vars_tls fix wrap_fix_add', column: 14, name: 'vars_tls', kind: 'a thread-local variable', definer: /libvars\.so/},
	{rule: 'redefine * vars_tls fix wrap_fix_add', column: 12, name: 'vars_tls', kind: 'a thread-local variable', definer: /libvars\.so/},
	{rule: 'act libc.so.6 stdout return=0', column: 15, name: 'stdout', kind: 'a data object', definer: /varsprog|libc\.so\.6/},
] as const;

test('the program computes the same without pdi', async t => {
	const bare = await runBare(program);
	t.is(bare.code, 0, bare.stderr);
	t.is(bare.stdout, bareOutput);
});

for (const {rule, column, name, kind, definer} of cases) {
	test(`'${rule}' names a variable: the core refuses it at the function, naming what it is and where, instead of pointing its slots at code`, async t => {
		// Before: the slots of stdout or vars_counter were pointed at the wrapper's code, and the program crashed
		// (SIGBUS, SIGSEGV) at its first use of the variable, with no word from pdi.
		const refused = await runPreloaded(program, [], writeConfig([backend, rule]));
		t.is(refused.signal, null, refused.stderr);
		t.is(refused.code, 2, refused.stderr);
		t.is(refused.stdout, '');
		const message = new RegExp(`^pdi: \\S+rules\\.cmd:2:${column}: \\w+ ${name}: '${name}' is ${kind} of (.+), not a function: rules divert calls, not variables$`, 'm');
		t.regex(refused.stderr, message);
		t.regex(message.exec(refused.stderr)![1]!, definer);
		const warned = await runPreloaded(program, [], writeConfig([backend, rule], ['on_error = warn']));
		t.is(warned.code, 0, warned.stderr);
		t.is(warned.stdout, bareOutput);
		t.regex(warned.stderr, new RegExp(`^pdi: warning: \\S+rules\\.cmd:2:${column}: .*not variables \\((?:act )?rules? skipped\\)$`, 'm'));
	});
}

test('pdi run names the function field of a YAML rule that names a variable', async t => {
	const config = path.join(directory, 'stdout.yaml');
	writeFileSync(config, `backends: [{name: fix, library: ${JSON.stringify(fixBackend)}}]\nrules:\n  - relink:\n      object: $main\n      function: vars_counter\n      backend: fix\n      wrapper: wrap_fix_add\n`);
	const run = await pdi(['run', '-c', config, '--', program]);
	t.is(run.code, 2, run.stderr);
	t.is(run.stdout, '');
	t.regex(run.stderr, /^pdi: \S+stdout\.yaml:5:17: relink vars_counter: 'vars_counter' is a data object of .+, not a function: rules divert calls, not variables$/m);
});
