import {spawnSync} from 'node:child_process';
import {writeFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import type {ImportSlot, ProcessReport} from '../src/ts/index.js';
import {pdi, root} from './helpers/cli.js';
import {compileC, scratchDirectory} from './helpers/files.js';

const scratch = scratchDirectory('pdi-inspect-ifunc-elsewhere-');

function build(): string {
	const implementationLibrary = compileC(scratch, 'libimpl.so', 'int impl_elsewhere(void) { return 42; }\n', ['-shared', '-fPIC']);
	const pickerLibrary = compileC(scratch, 'libpick.so', 'int impl_elsewhere(void);\nstatic void *resolve_pick(void) { return (void *)impl_elsewhere; }\nint pick(void) __attribute__((ifunc("resolve_pick")));\n', ['-shared', '-fPIC', implementationLibrary, `-Wl,-rpath,${scratch}`]);
	return compileC(scratch, 'prog', '#include <stdio.h>\n#include <sys/time.h>\nint pick(void);\nint main(void) { struct timeval tv; gettimeofday(&tv, 0); printf("%d\\n", pick()); return 0; }\n', [pickerLibrary, '-Wl,-z,now', `-Wl,-rpath,${scratch}`]);
}

/** `symbol -> object basename` of the program's own bindings, as LD_DEBUG=bindings prints them. */
function loaderBindings(program: string): Map<string, string> {
	const run = spawnSync(program, [], {env: {...process.env, LD_DEBUG: 'bindings'}, encoding: 'utf8'});
	const bindings = new Map<string, string>();
	for (const [, file, definer, symbol] of run.stderr.matchAll(/binding file (\S+) \[0\] to (\S+) \[0\]: normal symbol `([^']+)'/g)) {
		if (file === program && definer && symbol) {
			bindings.set(symbol, path.basename(definer));
		}
	}

	return bindings;
}

test('an IFUNC whose resolver picks another object\'s code is named after the definition the loader bound, with the implementation\'s object', async t => {
	const program = build();
	const result = await pdi(['inspect', '--json', '--imports', '$main', '--', program]);
	t.is(result.code, 0, result.stderr);
	const report = JSON.parse(result.stdout) as ProcessReport;
	const slots = report.objects.find(object => object.main)?.imports ?? [];
	const slot = (name: string): ImportSlot | undefined => slots.find(entry => entry.symbol === name);
	const bindings = loaderBindings(program);
	t.is(bindings.get('pick'), 'libpick.so');
	const pick = slot('pick')?.target;
	t.is(pick?.object, path.join(scratch, 'libpick.so'));
	t.is(pick?.symbol, 'pick');
	t.true(pick?.ifunc);
	t.is(pick?.implementation, 'impl_elsewhere');
	t.is(pick?.implementationObject, path.join(scratch, 'libimpl.so'));
	t.is(pick?.implementationName, 'libimpl.so');
	// glibc's gettimeofday is an IFUNC of libc.so.6 that picks the vdso's code, where there is a vdso.
	const time = slot('gettimeofday')?.target;
	t.is(time?.name, bindings.get('gettimeofday'));
	t.is(time?.symbol, 'gettimeofday');
	const printf = slot('printf')?.target;
	t.is(printf?.implementationObject, null);
	t.is(printf?.ifunc, false);
	const table = await pdi(['inspect', '--imports', '$main', '--', program]);
	t.regex(table.stdout, /\bpick +libpick\.so!pick \(ifunc: libimpl\.so!impl_elsewhere\)\n/);
});

// The slot of glibc's IFUNC strlen, relinked to a wrapper, holds the wrapper: it is named as the target, as any
// relinked slot's is, not as the resolver's pick. Was a bug: `libc.so.6!strlen@GLIBC_2.2.5 (ifunc: wrap_strlen)`.
for (const variant of [['-Wl,-z,lazy'], ['-Wl,-z,now'], ['-fno-plt']]) {
	test(`a relinked IFUNC's slot names the wrapper as its target (${variant.join(' ')})`, async t => {
		const directory = path.join(scratch, `relinked-${variant.join('').replaceAll(/[^a-z]/g, '')}`);
		spawnSync('mkdir', ['-p', directory]);
		const backend = compileC(directory, 'wrappers.so', '#include <pdi/backend.h>\n#include <stdlib.h>\n#include <string.h>\nsize_t wrap_strlen(const char *s) { return ((size_t (*)(const char *))pdi_original((const void *)wrap_strlen))(s) + 100; }\nint wrap_abs(int x) { return ((int (*)(int))pdi_original((const void *)wrap_abs))(x) + 1000; }\n', ['-shared', '-fPIC', `-I${path.join(root, 'include')}`]);
		const program = compileC(directory, 'prog', '#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\nint main(int argc, char **argv) { printf("%zu %d\\n", strlen(argv[0]), abs(-argc)); return 0; }\n', ['-O2', '-fno-builtin', ...variant]);
		const config = path.join(directory, 'pdi.cfg');
		writeFileSync(config, `backend w = ${backend}\nrelink $main strlen w wrap_strlen\nrelink $main abs w wrap_abs\n`);
		const result = await pdi(['inspect', '--json', '-c', config, '--imports', '$main', '--', program]);
		t.is(result.code, 0, result.stderr);
		const report = JSON.parse(result.stdout) as ProcessReport;
		const slots = report.objects.find(object => object.main)?.imports ?? [];
		for (const [symbol, wrapper] of [['strlen', 'wrap_strlen'], ['abs', 'wrap_abs']] as const) {
			const target = slots.find(entry => entry.symbol === symbol)?.target;
			t.is(target?.object, backend, symbol);
			t.is(target?.symbol, wrapper, symbol);
			t.false(target?.ifunc, symbol);
			t.is(target?.implementationObject, null, symbol);
		}

		const table = await pdi(['inspect', '-c', config, '--imports', '$main', '--', program]);
		t.regex(table.stdout, /\bstrlen@GLIBC_2\.2\.5 +wrappers\.so!wrap_strlen\n/);
	});
}
