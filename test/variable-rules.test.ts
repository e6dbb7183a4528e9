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

test('with two versions of one name, a variable in one library and a function in another, a relink is judged by what each slot is bound to', async t => {
	// Before: the first definition in load order decided: libu.so's slot of the variable thing@V_VAR was pointed at the
	// wrapper when the function came first (the variable then read code bytes), and a relink of the function was
	// refused when the variable came first.
	const versions = scratchDirectory('pdi-variable-versions-');
	const library = (name: string, source: string, version: string, options: string[] = []) => {
		writeFileSync(path.join(versions, `${name}.map`), `${version} { global: thing; local: *; };\n`);
		return compileC(versions, `lib${name}.so`, source, ['-shared', '-fPIC', `-Wl,--version-script=${path.join(versions, `${name}.map`)},-soname,lib${name}.so`, ...options]);
	};

	const variable = library('vv', 'int thing = 42;\n', 'V_VAR');
	library('fn', 'int thing(void) { return 3; }\n', 'V_FN');
	compileC(versions, 'libu.so', 'extern int thing;\nint read_var(void) { return thing; }\n', ['-shared', '-fPIC', `-L${versions}`, '-lvv', '-Wl,-soname,libu.so', `-Wl,-rpath,${versions}`]);
	const both = compileC(versions, 'both', '#include <stdio.h>\nint thing(void);\nint read_var(void);\nint main(void) { printf("f=%d var=%d\\n", thing(), read_var()); return 0; }\n', [`-L${versions}`, '-lfn', '-lu', '-lvv', `-Wl,-rpath,${versions}`]);
	const bare = await runBare(both);
	t.is(bare.stdout, 'f=3 var=42\n');
	const ofVariable = await runPreloaded(both, [], writeConfig([backend, 'relink libu.so thing fix wrap_fix_add']));
	t.is(ofVariable.code, 2, ofVariable.stderr);
	t.regex(ofVariable.stderr, new RegExp(`^pdi: \\S+rules\\.cmd:2:16: relink thing: 'thing' is a data object of ${variable.replaceAll('.', '\\.')}, not a function: rules divert calls, not variables$`, 'm'));
	// The variable's library loaded first (preloaded): the program's slot is still the function's.
	const thousand = compileC(versions, 'thousand.so', 'int thousand(void) { return 1000; }\n', ['-shared', '-fPIC']);
	const ofFunction = await pdi(['run', '-c', writeConfig([`backend t = ${textValue(thousand)}`, 'relink $main thing t thousand']), '--', both], {env: {...process.env, LD_PRELOAD: variable}});
	t.is(ofFunction.code, 0, ofFunction.stderr);
	t.is(ofFunction.stdout, 'f=1000 var=42\n');
});
