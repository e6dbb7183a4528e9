import {readFileSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {pdi, root} from './helpers/cli.js';
import {compileC, scratchDirectory} from './helpers/files.js';
import {textValue} from './helpers/quote.js';

// A wrapper named as the function it wraps (a pDI-Tools habit): inside the backend, `getpid` is bound by the loader
// to libc's getpid, not to the wrapper, so pdi_original((const void *)getpid) asked for libc's getpid and got NULL,
// and the wrapper had no original to call. It now answers as it does for the wrapper.
const scratch = scratchDirectory('pdi-wrapper-named-');
compileC(scratch, 'libtwice.so', 'int twice(int x) { return 2 * x; }\n', ['-shared', '-fPIC']);
const program = compileC(scratch, 'pids', `#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>
int twice(int x);
int main(void) {
	printf("getpid %s\\n", getpid() == (pid_t)syscall(SYS_getpid) ? "right" : "wrong");
	printf("twice %d\\n", twice(21));
	return 0;
}
`, ['-L', scratch, '-ltwice', `-Wl,-rpath,${scratch}`]);
const backend = path.join(scratch, 'same-names.so');
compileC(scratch, 'same-names.so', `#include <pdi/backend.h>
#include <stdio.h>
#include <sys/types.h>
static int found_getpid, found_twice, calls;
pid_t getpid(void) {
	pid_t (*original)(void) = (pid_t (*)(void))pdi_original((const void *)getpid);
	found_getpid = original != NULL;
	calls++;
	return original != NULL ? original() : -1;
}
int twice(int x) {
	int (*original)(int) = (int (*)(int))pdi_original((const void *)twice);
	found_twice = original != NULL;
	calls++;
	return original != NULL ? original(x) + 1000 : -1;
}
void PDI_BE_FUNC_FINI(void) {
	fprintf(stderr, "wrapped %d getpid original %s twice original %s\\n", calls, found_getpid ? "found" : "NULL", found_twice ? "found" : "NULL");
}
`, ['-shared', '-fPIC', '-I', path.join(root, 'include')]);

for (const kind of ['relink $main', 'redefine *']) {
	test(`a ${kind.split(' ')[0]!} rule whose wrapper has the name of the function it wraps (of libc, of a library of the program's) finds its original with pdi_original()`, async t => {
		const config = path.join(scratch, `${kind.split(' ')[0]!}.cfg`);
		writeFileSync(config, `backend s = ${textValue(backend)}\n${kind} getpid s getpid\n${kind} twice s twice\n`);
		const result = await pdi(['run', '-c', config, '--', program]);
		t.is(result.code, 0, result.stderr);
		t.is(result.stdout, 'getpid right\ntwice 1042\n');
		t.regex(result.stderr, /^wrapped [1-9]\d* getpid original found twice original found$/m);
	});
}

test('a wrapper named as a function with two versions finds its original, for a program bound to either (the backend\'s own name is bound to the oldest version, dlsym gives the newest)', async t => {
	const directory = scratchDirectory('pdi-wrapper-versions-');
	writeFileSync(path.join(directory, 'old.map'), 'V1 { global: foo; local: *; };\n');
	writeFileSync(path.join(directory, 'both.map'), 'V1 { global: foo; local: *; };\nV2 { global: foo; } V1;\n');
	const library = path.join(directory, 'libfoo.so');
	const oldLibrary = compileC(directory, 'libfoo-old.so', 'int foo(int x) { return x + 1; }\n', ['-shared', '-fPIC', `-Wl,--version-script=${path.join(directory, 'old.map')}`, '-Wl,-soname,libfoo.so']);
	const newLibrary = compileC(directory, 'libfoo-new.so', `int foo_v1(int x) { return x + 1; }
int foo_v2(int x) { return x + 2; }
__asm__(".symver foo_v1, foo@V1");
__asm__(".symver foo_v2, foo@@V2");
`, ['-shared', '-fPIC', `-Wl,--version-script=${path.join(directory, 'both.map')}`, '-Wl,-soname,libfoo.so']);
	const source = '#include <stdio.h>\nint foo(int);\nint main(void) { printf("foo(1)=%d\\n", foo(1)); return 0; }\n';
	const link = (name: string, built: string) => {
		writeFileSync(library, readFileSync(built));
		return compileC(directory, name, source, ['-L', directory, '-lfoo', `-Wl,-rpath,${directory}`]);
	};

	const oldProgram = link('old', oldLibrary);
	const newProgram = link('new', newLibrary);
	const wrapper = compileC(directory, 'foo-wrapper.so', `#include <pdi/backend.h>
#include <stddef.h>
int foo(int x) {
	int (*original)(int) = (int (*)(int))pdi_original((const void *)foo);
	return original != NULL ? original(x) + 300 : -1;
}
`, ['-shared', '-fPIC', '-I', path.join(root, 'include')]);
	// A plain redefine replaces the default version (foo@@V2), which the old program does not call: it names foo@V1.
	const cases = [['relink $main foo', oldProgram, 'foo(1)=302'], ['relink $main foo', newProgram, 'foo(1)=303'], ['redefine libfoo.so foo@V1', oldProgram, 'foo(1)=302'], ['redefine libfoo.so foo', newProgram, 'foo(1)=303']] as const;
	for (const [rule, program, output] of cases) {
		const config = path.join(directory, 'foo.cfg');
		writeFileSync(config, `backend s = ${textValue(wrapper)}\n${rule} s foo\n`);
		// Before: foo(1)=-1 in each, pdi_original() answered NULL.
		const run = await pdi(['run', '-c', config, '--', program]);
		t.is(run.stdout, `${output}\n`, `${rule} ${path.basename(program)} ${run.stderr}`);
		t.notRegex(run.stderr, /warning/);
	}

	// The plain name on the old program: its foo@V1 is left alone, and said (was: nothing, and -v counted its slot).
	writeFileSync(path.join(directory, 'foo.cfg'), `backend s = ${textValue(wrapper)}\nredefine * foo s foo\n`);
	const plain = await pdi(['run', '-c', path.join(directory, 'foo.cfg'), '--', oldProgram]);
	t.is(plain.stdout, 'foo(1)=2\n');
	// At -vv the definition replaced and each object's slots, as a relink says them (was: neither).
	const verbose = await pdi(['run', '-vv', '-c', path.join(directory, 'foo.cfg'), '--', newProgram]);
	t.regex(verbose.stderr, /^pdi: debug: \S+foo\.cfg:2: redefine foo: the definition of foo@V2 in \S+\/libfoo\.so$/m);
	t.regex(verbose.stderr, /^pdi: debug: \S+foo\.cfg:2: redefine foo: 1 slot\(s\) of \S+\/new$/m);
	t.regex(plain.stderr, /^pdi: warning: \S+foo\.cfg:2: redefine foo: 1 slot\(s\) bound to foo@V1, another version of it in \S+\/libfoo\.so, are left alone: a name without a version replaces the one its definer gives by default \(foo@@V2\); give foo@V1 a rule and a wrapper of its own$/m);
});
