import path from 'node:path';
import test from 'ava';
import {pdi} from './helpers/cli.js';
import {fixtures, runBare, runPreloaded, testArch, writeConfig} from './helpers/preload.js';

const directory = path.join(fixtures, 'backend');
const beprog = path.join(directory, 'beprog');
const probe = `backend p = ${path.join(directory, 'be-probe-backend.so')}`;

/** Runs beprog MODE with be-probe-backend's hooks on every call of the program, BE_PROBE = `probing`. */
async function probed(mode: string, probing: string) {
	return runPreloaded(beprog, [mode], writeConfig([probe, 'callback $main * p']), {BE_PROBE: probing});
}

test('hooks that divide by zero in a program that enabled floating-point traps raise no SIGFPE, and the program\'s own division still traps', async t => {
	const bare = await runBare(beprog, ['traps']);
	const run = await probed('traps', 'fpdiv');
	if (bare.stdout === 'traps=unsupported\n' || bare.code === 3) {
		// qemu-user models no floating-point traps: aarch64's feenableexcept fails (as on most
		// aarch64 cores), and i386's succeeds but nothing traps. The run must still match.
		t.log(`${testArch || 'host'}: no floating-point traps to test (${bare.stdout.trim()})`);
		t.is(run.stdout, bare.stdout);
		t.is(run.code, bare.code, run.stderr);
		return;
	}

	t.is(bare.signal, 'SIGFPE');
	t.is(bare.stdout, 'calls=2,4\n');
	t.regex(run.stderr, /^probe: divided$/m);
	t.is(run.stdout, 'calls=2,4\n');
	t.is(run.signal, 'SIGFPE', run.stderr);
});

test('a backend calling a function that nothing defines is refused when it loads, naming the file and the function, before the program runs', async t => {
	const undefinedBackend = path.join(directory, 'be-undefined-backend.so');
	const run = await runPreloaded(beprog, ['calls'], writeConfig([`backend u = ${undefinedBackend}`, 'relink $main be_int u wrap_be_int']));
	t.is(run.code, 2);
	t.is(run.stdout, '');
	t.regex(run.stderr, new RegExp(`^pdi: \\S+rules\\.cmd:1:13: backend 'u': cannot load \\S*be-undefined-backend\\.so: it calls 'be_no_such_function', which no loaded object defines \\(a misspelt name, or a library it needs not linked with -l\\); declare it weak to bind it at its first call$`, 'm'));
	const warned = await runPreloaded(beprog, ['calls'], writeConfig([`backend u = ${undefinedBackend}`, 'relink $main be_int u wrap_be_int'], ['on_error = warn']));
	t.is(warned.code, 0, warned.stderr);
	t.regex(warned.stdout, /^be_int=2$/m);
	t.regex(warned.stderr, /be_no_such_function.*\(backend skipped\)$/m);
});

test('a backend whose call to an undefined function is a weak reference loads, and its other wrappers work', async t => {
	const run = await runPreloaded(beprog, ['calls'], writeConfig([`backend w = ${path.join(directory, 'be-weak-backend.so')}`, 'relink $main be_int w wrap_be_int']));
	t.is(run.code, 0, run.stderr);
	t.regex(run.stdout, /^be_int=102$/m);
});

test('pdi run exits with status 2 for a backend calling a function that nothing defines; pdi config check, which does not know the program\'s objects, passes it', async t => {
	const config = writeConfig([`backend u = ${path.join(directory, 'be-undefined-backend.so')}`, 'relink $main be_int u wrap_be_int']);
	const run = await pdi(['run', '-c', config, '--', beprog, 'calls']);
	t.is(run.code, 2);
	t.is(run.stdout, '');
	t.regex(run.stderr, /^pdi: \S+rules\.cmd:1:13: backend 'u': cannot load \S+: it calls 'be_no_such_function', which no loaded object defines/m);
	t.is((await pdi(['config', 'check', config])).code, 0);
});
