import {mkdirSync, renameSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {pdi, refusedByCheckAndRun, root} from './helpers/cli.js';
import {compileC, scratchDirectory} from './helpers/files.js';

// A backend that needs a library the loader cannot find passed `pdi config check`, and `pdi run` then failed when the
// program started. The check now asks the loader, with the loader's own search rules, in a child.
const directory = scratchDirectory('pdi-missing-dependency-');
const shared = ['-shared', '-fPIC', '-I', path.join(root, 'include')];
compileC(directory, 'libmissingdep.so', 'int missing_dep(void) { return 1; }\n', shared);
const backend = '#include <stdlib.h>\nint missing_dep(void);\nvoid *w_m(size_t n) { missing_dep(); return malloc(n); }\n';
const linked = ['-L', directory, '-Wl,--no-as-needed', '-lmissingdep'];
compileC(directory, 'dneeded.so', backend, [...shared, ...linked]);
compileC(directory, 'dorigin.so', backend, [...shared, ...linked, '-Wl,-rpath,$ORIGIN/lib']);
// Moved where only LD_LIBRARY_PATH or dorigin.so's run path finds it.
const libraries = path.join(directory, 'lib');
mkdirSync(libraries);
renameSync(path.join(directory, 'libmissingdep.so'), path.join(libraries, 'libmissingdep.so'));

/** A config in the scratch directory relinking $main's malloc to `library`'s w_m. */
function config(name: string, library: string): string {
	const file = path.join(directory, name);
	writeFileSync(file, `backend d = ./${library}\nrelink $main malloc d w_m\n`);
	return file;
}

test('config check refuses a backend whose needed library is missing, at its library, in the words pdi run fails with', async t => {
	const file = config('missing.cfg', 'dneeded.so');
	await refusedByCheckAndRun(t, file, `pdi: ${file}:1:13: backend 'd': cannot load ${path.join(directory, 'dneeded.so')}: libmissingdep.so: cannot open shared object file: No such file or directory\n`);
});

test('config check finds a backend\'s needed library as the loader does: through LD_LIBRARY_PATH and the backend\'s own $ORIGIN run path', async t => {
	const env = {...process.env, LD_LIBRARY_PATH: libraries};
	for (const [file, options] of [[config('needed.cfg', 'dneeded.so'), {env}], [config('origin.cfg', 'dorigin.so'), {}]] as const) {
		for (const args of [['config', 'check', file], ['run', '-c', file, '--', '/bin/true']]) {
			const result = await pdi(args, options);
			t.is(result.code, 0, `${path.basename(file)} ${args[0]}: ${result.stderr}`);
		}
	}
});
