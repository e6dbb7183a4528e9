import {writeFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {pdi, root} from './helpers/cli.js';
import {compileC, scratchDirectory} from './helpers/files.js';

// A library dlclosed and dlopened again is a new definition: a redefine of its function and a
// relink to a dependency it brings along take the new one, each time, wherever it is loaded.
const directory = scratchDirectory('pdi-dlclose-');
const include = `-I${path.join(root, 'include')}`;
const shared = ['-O2', '-shared', '-fPIC'];

compileC(directory, 'libplug.so', 'int plug_work(int x) { return x * 2; }\n', shared);
compileC(directory, 'libdep.so', 'int dep_fn(int x) { return x * 10; }\n', shared);
compileC(directory, 'libuser.so', 'int dep_fn(int);\nint user_fn(int x) { return dep_fn(x) + 1; }\n', [...shared, `-L${directory}`, '-ldep', '-Wl,-rpath,$ORIGIN']);
for (const index of [1, 2, 3, 4]) {
	compileC(directory, `libfill${index}.so`, `int fill${index}(void) { return ${index}; }\n`, shared);
}

// dlloop LIBRARY FUNCTION N: N rounds of dlopen, one call of FUNCTION(round), dlclose; then a
// filler library stays loaded, so that the next round's libraries land at other addresses.
const dlloop = compileC(directory, 'dlloop', `
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
  long sum = 0;
  int rounds = atoi(argv[3]);
  char filler[4096];
  for (int i = 0; i < rounds; i++) {
    void *handle = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    int (*function)(int) = handle ? (int (*)(int))dlsym(handle, argv[2]) : NULL;
    if (function == NULL) { fprintf(stderr, "%s\\n", dlerror()); return 1; }
    sum += function(i);
    dlclose(handle);
    snprintf(filler, sizeof filler, "%s/libfill%d.so", argv[4], i % 4 + 1);
    if (dlopen(filler, RTLD_NOW) == NULL) { fprintf(stderr, "%s\\n", dlerror()); return 1; }
  }
  printf("sum=%ld\\n", sum);
  return 0;
}
`, ['-O2', '-ldl']);

const backend = compileC(directory, 'backend.so', `
#include <pdi/backend.h>
#include <stdio.h>
static unsigned long calls;
__attribute__((visibility("default"))) int plus_1000(int x) {
  calls++;
  int (*original)(int) = (int (*)(int))pdi_original((const void *)plus_1000);
  return original(x) + 1000;
}
void PDI_BE_FUNC_FINI(void) { fprintf(stderr, "backend: %lu calls\\n", calls); }
`, [...shared, '-fvisibility=hidden', include]);

async function run(rule: string, library: string, function_: string): Promise<{code: number; stdout: string; stderr: string}> {
	const config = path.join(directory, `${function_}.yaml`);
	writeFileSync(config, `backends: [{name: b, library: '${backend}'}]\nrules:\n  - ${rule}\n`);
	return pdi(['run', '-c', config, '--', dlloop, path.join(directory, library), function_, '5', directory]);
}

test('a redefine reaches every load of its library, not only the first: 5 rounds of dlopen and dlclose', async t => {
	const result = await run('redefine: {object: libplug.so, function: plug_work, backend: b, wrapper: plus_1000}', 'libplug.so', 'plug_work');
	t.is(result.code, 0, result.stderr);
	// Bare: 2 * (0 + 1 + 2 + 3 + 4) = 20.
	t.is(result.stdout, 'sum=5020\n');
	t.is(result.stderr, 'backend: 5 calls\n');
});

test('a relink of a library\'s call into its own dependency holds when both load again at another address', async t => {
	const result = await run('relink: {object: libuser.so, function: dep_fn, backend: b, wrapper: plus_1000}', 'libuser.so', 'user_fn');
	t.is(result.code, 0, result.stderr);
	// Bare: 10 * (0 + 1 + 2 + 3 + 4) + 5 = 105.
	t.is(result.stdout, 'sum=5105\n');
	t.is(result.stderr, 'backend: 5 calls\n');
});
