// A program built with a PLT takes function addresses from its GLOB_DAT slots: a stub there would make a function
// compare unequal to itself. Was a bug for a moment: pdi counted a program with few PLT calls among many such slots
// as one built -fno-plt (to reach Rust's GOT calls), and `&free` under pdi trace was no longer libc's free.
import {writeFileSync} from 'node:fs';
import test from 'ava';
import {pdi} from './helpers/cli.js';
import {compileC, scratchDirectory} from './helpers/files.js';

const scratch = scratchDirectory('pdi-function-identity-');
const source = `#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
typedef void (*function)(void);
static function table[16];
int main(void) {
  int n = 0;
  table[n++] = (function)&free; table[n++] = (function)&malloc; table[n++] = (function)&strcmp;
  table[n++] = (function)&strlen; table[n++] = (function)&memcmp; table[n++] = (function)&abs;
  table[n++] = (function)&atoi; table[n++] = (function)&calloc; table[n++] = (function)&realloc;
  printf("free: %s\\n", (void *)table[0] == dlsym(RTLD_DEFAULT, "free") ? "same" : "different");
  void *memory = malloc(10);
  free(memory);
  return 0;
}
`;

for (const [name, options] of [['lazy', []], ['now', ['-Wl,-z,now']], ['now-nopie', ['-Wl,-z,now', '-no-pie']]] as const) {
	test(`a program built with a PLT (${name}) that takes many functions' addresses and calls few through its PLT keeps their identity under pdi trace`, async t => {
		const program = compileC(scratch, `identity-${name}`, source, ['-O1', ...options, '-ldl']);
		const run = await pdi(['trace', '-o', '/dev/null', '--', program]);
		t.is(run.code, 0, run.stderr);
		t.is(run.stdout, 'free: same\n');
	});
}

// A relink diverts the addresses its object takes too (so that calls through them reach the wrapper), which makes
// the function compare unequal to other objects' view of it; docs/mechanisms.md sends users who compare addresses
// to redefine, which every object sees alike.
test('a relink makes its object\'s &strlen the wrapper, unequal to libc\'s; a redefine keeps every object\'s view alike', async t => {
	const program = compileC(scratch, 'strlen-identity', String.raw`
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
size_t (*volatile taken)(const char *) = strlen;
int main(void) {
	printf("%s %zu\n", (void *)taken == dlsym(RTLD_DEFAULT, "strlen") ? "same" : "different", taken("four"));
	return 0;
}
`, ['-O1', '-ldl']);
	const backend = compileC(scratch, 'strlen-backend.so', String.raw`
#include <pdi/backend.h>
#include <stddef.h>
__attribute__((visibility("default"))) size_t w_strlen(const char *s) {
	return ((size_t (*)(const char *))pdi_original((const void *)w_strlen))(s) + 100;
}
`, ['-shared', '-fPIC', '-I', new URL('../include', import.meta.url).pathname]);
	const outputs: string[] = [];
	for (const rule of ['relink $main strlen', 'redefine * strlen']) {
		const config = `${scratch}/${rule.split(' ')[0]!}.cfg`;
		writeFileSync(config, `backend b = ${backend}\n${rule} b w_strlen\n`);
		const run = await pdi(['run', '-c', config, '--', program]);
		t.is(run.code, 0, run.stderr);
		outputs.push(run.stdout);
	}

	t.deepEqual(outputs, ['different 104\n', 'same 104\n']);
});
