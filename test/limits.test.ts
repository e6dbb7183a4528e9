import path from 'node:path';
import test from 'ava';
import {fixtures, runBare, runPreloaded, writeConfig} from './helpers/preload.js';
import {textValue} from './helpers/quote.js';

// Limits degrade, never corrupt: at each limit the program's output is the
// uninstrumented one (or shows exactly the rules that still apply) and the
// core reports the limit once per process. Fixtures: test/fixtures/processes.
const directory = path.join(fixtures, 'processes');
const procprog = path.join(directory, 'procprog');
const procBackend = `backend proc = ${textValue(path.join(directory, 'proc-backend.so'))}`;
const fixBackend = `backend fix = ${textValue(path.join(fixtures, 'backends/fix-backend.so'))}`;
const callbackRules = [procBackend, 'callback libpw.so * proc'];
const quiet = {FIX_BACKEND_QUIET: '1'};

/** The lines the core logged. */
function pdiLines(stderr: string): string[] {
	return stderr.split('\n').filter(line => line.startsWith('pdi:'));
}

/** The calls proc-backend's hooks saw, per process, in the order the processes ended. */
function hookCalls(stderr: string): Array<{calls: number; threads: number; depth: number; abandoned: number}> {
	return [...stderr.matchAll(/^proc-backend: pid=\d+ calls=(\d+) threads=(\d+) depth=(\d+) abandoned=(\d+)$/gm)]
		.map(([, calls, threads, depth, abandoned]) => ({calls: Number(calls), threads: Number(threads), depth: Number(depth), abandoned: Number(abandoned)}));
}

test('more threads than max_threads: output intact, every call hooked or counted, one report', async t => {
	const args = ['threads', '16', '100'];
	const expected = await runBare(procprog, args);
	const run = await runPreloaded(procprog, args, writeConfig(callbackRules, ['max_threads = 4']));
	t.is(run.code, 0, run.stderr);
	t.is(run.stdout, expected.stdout);
	const reports = pdiLines(run.stderr);
	t.is(reports.length, 1, run.stderr);
	const without = /^pdi: warning: callback: (\d+) calls ran without hooks, on threads beyond max_threads = 4 \(maxThreads in JSON\/YAML\)$/.exec(reports[0] ?? '');
	t.truthy(without, run.stderr);
	const [hooked] = hookCalls(run.stderr);
	t.is((hooked?.calls ?? 0) + Number(without?.[1]), 1600);
	t.true((hooked?.threads ?? 0) <= 4);
});

test('recursion deeper than cb_stack_size on four threads: output intact, the deeper calls counted, one report', async t => {
	const args = ['recurse', '100', '4'];
	const expected = await runBare(procprog, args);
	t.is(expected.stdout, 'recurse=400\n');
	const run = await runPreloaded(procprog, args, writeConfig(callbackRules));
	t.is(run.code, 0, run.stderr);
	t.is(run.stdout, expected.stdout);
	const reports = pdiLines(run.stderr);
	t.is(reports.length, 1, run.stderr);
	const deeper = /^pdi: warning: callback: (\d+) calls ran without hooks, nested deeper than cb_stack_size = 1024 bytes holds \((\d+) calls; cbStackSize in JSON\/YAML\)$/.exec(reports[0] ?? '');
	t.truthy(deeper, run.stderr);
	// Each thread nests 200 instrumented calls (pw_recurse and pw_down take turns); the stack holds `fits` of them.
	const fits = Number(deeper?.[2]);
	t.is(Number(deeper?.[1]), 4 * (200 - fits));
	t.is(hookCalls(run.stderr)[0]?.calls, 4 * fits);
	t.is(hookCalls(run.stderr)[0]?.depth, fits - 1);
});

test('more imports than cb_max_stubs at start: on_error = fail stops before main with one line; warn runs the program intact with one warning, leaving that object alone', async t => {
	const expected = await runBare(procprog, ['calls']);
	const failed = await runPreloaded(procprog, ['calls'], writeConfig(callbackRules, ['cb_max_stubs = 2']));
	t.is(failed.code, 2);
	t.is(failed.stdout, '');
	t.is(pdiLines(failed.stderr).length, 1, failed.stderr);
	t.regex(failed.stderr, /^pdi: \S+rules\.cmd:2:1: callback libpw\.so: .+\/libpw\.so needs \d+ stubs, but cb_max_stubs = 2 leaves 2 free$/m);
	const warned = await runPreloaded(procprog, ['calls'], writeConfig(callbackRules, ['cb_max_stubs = 2', 'on_error = warn']));
	t.is(warned.code, 0, warned.stderr);
	t.is(warned.stdout, expected.stdout);
	t.is(pdiLines(warned.stderr).length, 1, warned.stderr);
	t.regex(warned.stderr, /^pdi: warning: .*needs \d+ stubs, but cb_max_stubs = 2 leaves 2 free \(object skipped\)$/m);
});

test('a callback on every object under on_error = warn leaves alone only the objects the stubs left do not cover, and instruments the others', async t => {
	const expected = await runBare(procprog, ['calls']);
	// procprog needs more than 12 stubs; libpw.so (6) and the loader (4) fit in what is left.
	const run = await runPreloaded(procprog, ['calls'], writeConfig([procBackend, 'callback * * proc'], ['cb_max_stubs = 12', 'on_error = warn']));
	t.is(run.code, 0, run.stderr);
	t.is(run.stdout, expected.stdout);
	const reports = pdiLines(run.stderr);
	t.true(reports.length >= 1, run.stderr);
	for (const report of reports) {
		t.regex(report, /^pdi: warning: \S+rules\.cmd:2:1: callback \*: \/.+ needs \d+ stubs, but cb_max_stubs = 12 leaves \d+ free \(object skipped\)$/);
	}

	t.true(reports.some(report => report.includes('/procprog needs')), run.stderr);
	t.false(reports.some(report => report.includes('/libpw.so needs')), run.stderr);
	t.true((hookCalls(run.stderr)[0]?.calls ?? 0) > 0, 'libpw.so\'s calls are hooked');
});

test('more imports than cb_max_stubs in a library loaded later: the program runs on intact and the library is reported once, whatever loads next', async t => {
	const libraries = ['callback/libcbtarget.so', 'now-pie/libfix.so', 'trace/libtracelib.so'].map(name => path.join(fixtures, name));
	const args = ['dlopen', ...libraries];
	const expected = await runBare(procprog, args);
	for (const onError of ['fail', 'warn']) {
		const run = await runPreloaded(procprog, args, writeConfig([procBackend, 'callback libcbtarget.so * proc'], ['cb_max_stubs = 2', `on_error = ${onError}`]));
		t.is(run.code, 0, run.stderr);
		t.is(run.stdout, expected.stdout);
		const reports = pdiLines(run.stderr);
		t.is(reports.length, 1, run.stderr);
		// Under on_error = fail the program can no longer be stopped: the error is logged as one, and the rule skipped.
		const level = onError === 'warn' ? 'warning: ' : '';
		t.regex(reports[0] ?? '', new RegExp(`^pdi: ${level}\\S+rules\\.cmd:2:1: callback libcbtarget\\.so: .+\\/libcbtarget\\.so needs \\d+ stubs, but cb_max_stubs = 2 leaves 2 free \\(object skipped\\)$`));
	}
});

test('a library dlopened again takes back its stubs even when fewer stubs are free than it has sites', async t => {
	const library = path.join(fixtures, 'callback/libcbtarget.so');
	const args = ['dlclose', library, library, library];
	const expected = await runBare(procprog, args);
	// libcbtarget.so has 3 sites: after the first load 1 stub is free, and each later load needs none.
	const run = await runPreloaded(procprog, args, writeConfig([procBackend, 'callback libcbtarget.so * proc'], ['cb_max_stubs = 4', 'log_level = debug']));
	t.is(run.code, 0, run.stderr);
	t.is(run.stdout, expected.stdout);
	t.false(run.stderr.includes('needs'), run.stderr);
	t.is([...run.stderr.matchAll(/^pdi: debug: \S+rules\.cmd:2: callback \*: 3 slot\(s\) of .+\/libcbtarget\.so$/gm)].length, 3, run.stderr);
});

test('more objects than max_objects, with more loaded later: the rules reach the first ones, output otherwise intact, one report', async t => {
	const libraries = ['callback/libcbtarget.so', 'now-pie/libfix.so', 'trace/libtracelib.so'].map(name => path.join(fixtures, name));
	const args = ['dlopen', ...libraries];
	const expected = await runBare(procprog, args);
	const run = await runPreloaded(procprog, args, writeConfig([procBackend, 'relink * pw_add proc wrap_pw_add_100'], ['max_objects = 1']));
	t.is(run.code, 0, run.stderr);
	// The program is the first object: its call of pw_add still reaches the wrapper.
	t.is(run.stdout, expected.stdout.replace('pw_add=5', 'pw_add=105'));
	const reports = pdiLines(run.stderr);
	t.is(reports.length, 1, run.stderr);
	t.regex(reports[0] ?? '', /^pdi: warning: \S+pdi\.cfg:1:\d+: \d+ objects are loaded but max_objects is 1: rules reach only the first 1$/);
});

const initRules = [fixBackend, procBackend, 'relink $main pw_twice fix wrap_foo_99', 'callback libpw.so * proc'];

test('a backend whose init fails under on_error = fail: the program does not run, one line', async t => {
	const run = await runPreloaded(procprog, ['calls'], writeConfig(initRules), {...quiet, PROC_INIT_FAIL: '3'});
	t.is(run.code, 2);
	t.is(run.stdout, '');
	t.is(pdiLines(run.stderr).length, 1, run.stderr);
	t.regex(run.stderr, /^pdi: \S+rules\.cmd:2:1: backend 'proc': refused to initialise \(pdi_be_init returned 3\)$/m);
	t.deepEqual(hookCalls(run.stderr), []);
});

test('a backend that crashes in its constructor or its init is named, with the signal, before the program dies of it', async t => {
	for (const [variable, signal, where] of [['PROC_CTOR_CRASH', 'SIGSEGV', 'in a constructor, loading'], ['PROC_INIT_CRASH', 'SIGABRT', 'in pdi_be_init of']] as const) {
		const run = await runPreloaded(procprog, ['calls'], writeConfig(initRules), {...quiet, [variable]: '1'});
		t.is(run.signal, signal, run.stderr);
		t.is(run.stdout, '');
		t.is(pdiLines(run.stderr).length, 1, run.stderr);
		t.regex(run.stderr, new RegExp(`^pdi: \\S+rules\\.cmd:2:1: backend 'proc': crashed with ${signal} ${where} .+\\/proc-backend\\.so$`, 'm'));
	}
});

test('a backend that crashes in its PDI_BE_FUNC_CB_REQ at install or its PDI_BE_FUNC_FINI at exit is named too', async t => {
	// Before: only `killed by SIGSEGV`, nothing of pdi or the backend.
	for (const [variable, where, output] of [['PROC_CBREQ_CRASH', 'in pdi_be_cb_req of', ''], ['PROC_FINI_CRASH', 'in pdi_be_fini of', undefined]] as const) {
		const run = await runPreloaded(procprog, ['calls'], writeConfig(initRules), {...quiet, [variable]: '1'});
		t.is(run.signal, 'SIGSEGV', run.stderr);
		if (output !== undefined) {
			t.is(run.stdout, output);
		}

		t.is(pdiLines(run.stderr).length, 1, run.stderr);
		t.regex(run.stderr, new RegExp(`^pdi: \\S+rules\\.cmd:2:1: backend 'proc': crashed with SIGSEGV ${where} .+\\/proc-backend\\.so$`, 'm'));
	}
});

test('a backend that calls exit in its constructor or its init is named, with the status, and the program ends with that status', async t => {
	for (const [variable, where] of [['PROC_CTOR_EXIT', 'in a constructor, loading'], ['PROC_INIT_EXIT', 'in pdi_be_init of']] as const) {
		const run = await runPreloaded(procprog, ['calls'], writeConfig(initRules), {...quiet, [variable]: '7'});
		t.is(run.code, 7, run.stderr);
		t.is(run.stdout, '');
		t.is(pdiLines(run.stderr).length, 1, run.stderr);
		t.regex(run.stderr, new RegExp(`^pdi: \\S+rules\\.cmd:2:1: backend 'proc': called exit\\(7\\) ${where} .+\\/proc-backend\\.so$`, 'm'));
	}
});

test('a SIGSEGV handler that a backend\'s constructor installs is still in place after pdi loaded it', async t => {
	const run = await runPreloaded(procprog, ['calls'], writeConfig(initRules), {...quiet, PROC_OWN_SEGV: '1'});
	t.is(run.code, 42, `${run.signal ?? ''} ${run.stderr}`);
	t.regex(run.stderr, /^proc-backend: own SIGSEGV handler$/m);
	t.is(pdiLines(run.stderr).length, 0, run.stderr);
});

test('a backend whose init fails under on_error = warn: its rules are skipped, the others apply, one warning', async t => {
	const run = await runPreloaded(procprog, ['calls'], writeConfig(initRules, ['on_error = warn']), {...quiet, PROC_INIT_FAIL: '3'});
	t.is(run.code, 0, run.stderr);
	// The fix backend's relink applies (pw_twice=99); proc's callback does not (no hook counted, no fini of proc).
	t.is(run.stdout, 'pw_add=5\npw_twice=99\npw_work=12\n');
	const reports = pdiLines(run.stderr);
	t.is(reports.length, 1, run.stderr);
	t.regex(reports[0] ?? '', /^pdi: warning: \S+rules\.cmd:2:1: backend 'proc': refused to initialise \(pdi_be_init returned 3\) \(backend and its rules skipped\)$/);
	t.deepEqual(hookCalls(run.stderr), []);
});

test('a wrapper that never calls the original, and a pre hook that skips every call: the originals are never reached, nothing reported, nothing left open', async t => {
	const expected = await runBare(procprog, ['loop', '1000']);
	t.is(expected.stdout, 'pw_add total=3000\npw_work total=12000\npw_calls=1000\n');
	const run = await runPreloaded(procprog, ['loop', '1000'],
		writeConfig([procBackend, 'relink $main pw_add proc wrap_pw_add_42', 'callback libpw.so * proc']), {PROC_SKIP: '1'});
	t.is(run.code, 0, run.stderr);
	// pw_add always 42 and never reached (pw_calls counts the real pw_add); pw_step skipped with 7.
	t.is(run.stdout, 'pw_add total=42000\npw_work total=7000\npw_calls=0\n');
	t.deepEqual(pdiLines(run.stderr), []);
	// 1000 skipped calls, each popped: the callback stack never filled (no cb_stack_size report), none abandoned.
	t.deepEqual(hookCalls(run.stderr), [{calls: 1000, threads: 1, depth: 0, abandoned: 0}]);
});

test('callback limits too large to map stop the program before main with the size and the options that asked for it', async t => {
	for (const [option, message] of [
		['cb_stack_size = 2147483647', /: cannot map 524289 MiB for max_threads = 256 callback stacks of cb_stack_size = 2147483647 bytes \(maxThreads, cbStackSize in JSON\/YAML\): /],
		['cb_max_stubs = 2147483647', /: cannot map \d+ MiB for cb_max_stubs = 2147483647 callback sites \(cbMaxStubs in JSON\/YAML\): /],
	] as const) {
		const run = await runPreloaded(procprog, ['calls'], writeConfig(callbackRules, [option]));
		t.is(run.code, 2, run.stderr);
		t.is(run.stdout, '');
		t.regex(run.stderr, message);
		// Before, `cannot map 4096 callback sites and 256 thread stacks`: neither the size nor the option.
		t.is(pdiLines(run.stderr).length, 1, run.stderr);
	}
});
