import {writeFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {scratchDirectory} from './helpers/files.js';
import {fixBackend, fixtures, runBare, runPreloaded, testArch, values, writeConfig} from './helpers/preload.js';
import {textValue} from './helpers/quote.js';

// Hard cases of an interposition library (docs/reliability.md, "Hard cases")
// that no other file covers: signal handlers on an alternate stack, stack
// switches, thread churn, TLS descriptors and IRELATIVE slots, functions that
// return twice, thread and process exit, dlmopen namespaces, versions, IFUNCs
// and canonical PLT entries, other linkers and relocation formats,
// memory-deny-write-execute.
// Fixtures: test/fixtures/hard/README.md.
const directory = path.join(fixtures, 'hard');
const hardprog = path.join(directory, 'hardprog');
const procBackend = `backend proc = ${textValue(path.join(fixtures, 'processes/proc-backend.so'))}`;
const backend = `backend fix = ${textValue(fixBackend)}`;
const quiet = {FIX_BACKEND_QUIET: '1'};

type Counts = {calls: number; threads: number; depth: number; abandoned: number};

/** The proc-backend line of a run (calls its hooks saw, thread numbers, deepest nesting, abandoned frames). */
function counts(stderr: string): Counts | undefined {
	const match = /^proc-backend: pid=\d+ calls=(\d+) threads=(\d+) depth=(\d+) abandoned=(\d+)$/m.exec(stderr);
	return match ? {calls: Number(match[1]), threads: Number(match[2]), depth: Number(match[3]), abandoned: Number(match[4])} : undefined;
}

/** The lines the core logged. */
function pdiLines(stderr: string): string[] {
	return stderr.split('\n').filter(line => line.startsWith('pdi:'));
}

/** Runs hardprog ARGS bare and with `callback OBJECT * proc` (plus settings); the instrumented run and the bare output. */
async function compared(args: string[], object: string, settings: string[] = []) {
	const bare = await runBare(hardprog, args);
	const run = await runPreloaded(hardprog, args, writeConfig([procBackend, `callback ${object} * proc`], settings));
	return {bare, run, counts: counts(run.stderr)};
}

for (const object of ['$main', '*']) {
	test(`a signal handler on an alternate stack above an open instrumented call nests its own call in it (callback ${object}): output identical, nothing abandoned`, async t => {
		const {bare, run, counts: seen} = await compared(['altstack'], object);
		t.is(bare.stdout, 'altstack raise=5 handler=31 after=4\n');
		t.is(run.signal, null, run.stderr);
		t.is(run.code, 0, run.stderr);
		t.is(run.stdout, bare.stdout);
		t.is(seen?.abandoned, 0);
		t.true((seen?.depth ?? 0) >= 1, 'the handler\'s call nests in hard_raise\'s');
	});

	test(`a coroutine that switches stacks inside a call of jump_fcontext, Boost.Context's switch (callback ${object}), runs as without pdi: the switch is never instrumented`, async t => {
		const {bare, run, counts: seen} = await compared(['fcontext'], object);
		t.is(bare.stdout, 'fcontext first=61 main=10\nfcontext second=252 after=7\n');
		t.is(run.signal, null, run.stderr);
		t.is(run.stdout, bare.stdout);
		t.is(seen?.abandoned, 0);
	});

	test(`setjmp, sigsetjmp, getcontext and vfork called through the program's PLT return twice as without pdi (callback ${object})`, async t => {
		const {bare, run, counts: seen} = await compared(['twice'], object);
		t.is(bare.stdout, 'twice jumped=104 passes=3 vfork=7 after=7\n');
		t.is(run.code, 0, run.stderr);
		t.is(run.stdout, bare.stdout);
		t.is(seen?.abandoned, 0);
		t.deepEqual(pdiLines(run.stderr), []);
	});

	test(`calls from a TLS destructor after pthread_exit and from an atexit handler are instrumented and answer as without pdi (callback ${object})`, async t => {
		const {bare, run, counts: seen} = await compared(['exits'], object);
		t.is(bare.stdout, 'exits destructor=16\natexit=28\n');
		t.is(run.code, 0, run.stderr);
		t.is(run.stdout, bare.stdout);
		t.is(seen?.abandoned, 0);
	});

	test(`a thread cancelled while blocked inside an instrumented call unwinds through the handler, its cleanup handler runs, and its frame is posted as abandoned (callback ${object})`, async t => {
		const {bare, run, counts: seen} = await compared(['cancel'], object);
		t.is(bare.stdout, 'cancel canceled=1 cleaned=1 after=7\n');
		t.is(run.code, 0, run.stderr);
		t.is(run.stdout, bare.stdout);
		t.true((seen?.abandoned ?? 0) >= 1, run.stderr);
	});

	test(`TLSDESC and IRELATIVE slots and a null weak reference are left alone by a callback on every import (callback ${object === '*' ? '*' : 'libhard.so'})`, async t => {
		const {bare, run} = await compared(['tls'], object === '*' ? '*' : 'libhard.so');
		t.is(bare.stdout, 'tls main=1001 threads_bad=0 irelative=41 optional=-1\n');
		t.is(run.code, 0, run.stderr);
		t.is(run.stdout, bare.stdout);
		t.deepEqual(pdiLines(run.stderr), []);
	});
}

test('1000 short-lived threads, at most five alive, with max_threads = 8: every call hooked, slots recycled, nothing reported', async t => {
	const {bare, run, counts: seen} = await compared(['churn', '1000'], '$main', ['max_threads = 8']);
	t.is(bare.stdout, 'churn=1000 bad=0\n');
	t.is(run.code, 0, run.stderr);
	t.is(run.stdout, bare.stdout);
	// 1000 hard_work, pthread_create and pthread_join each, and main's few others; a call without
	// hooks (a thread without a slot) would be reported at exit.
	t.true((seen?.calls ?? 0) >= 3006, run.stderr);
	t.true((seen?.threads ?? 0) <= 8);
	t.deepEqual(pdiLines(run.stderr), []);
});

test('the first instrumented call of a new thread, made inside a signal handler, claims the thread\'s slot there', async t => {
	const {bare, run, counts: seen} = await compared(['sigfirst'], '$main');
	t.is(bare.stdout, 'sigfirst handler=22 thread=25\n');
	t.is(run.code, 0, run.stderr);
	t.is(run.stdout, bare.stdout);
	t.is(seen?.threads, 2);
	t.is(seen?.abandoned, 0);
});

test('relinks and redefines of other functions leave the TLSDESC and IRELATIVE slots of every object alone', async t => {
	const rules = [procBackend, 'redefine * hard_work proc wrap_pw_add_100', 'relink * raise proc wrap_pw_twice_1000', 'relink * hard_irelative proc wrap_pw_add_42'];
	const run = await runPreloaded(hardprog, ['tls'], writeConfig(rules));
	t.is(run.code, 0, run.stderr);
	t.is(run.stdout, 'tls main=1001 threads_bad=0 irelative=42 optional=-1\n');
});

test('after a redefine of f, dlsym finds the wrapper by RTLD_DEFAULT and by the definer\'s handle, and another library\'s own f, by its handle, unchanged', async t => {
	const redefineDirectory = path.join(fixtures, 'now-pie/redefine');
	const bare = await runBare(hardprog, ['dlsym', redefineDirectory]);
	t.is(bare.stdout, 'dlsym default=2 def=2 other=51\n');
	for (const object of ['libdef.so', '*']) {
		const run = await runPreloaded(hardprog, ['dlsym', redefineDirectory], writeConfig([`backend be = ${textValue(path.join(fixtures, 'backends/def-backend.so'))}`, `redefine ${object} f be wrap_f`]));
		t.is(run.code, 0, run.stderr);
		t.is(run.stdout, 'dlsym default=102 def=102 other=51\n', object);
	}
});

test('a library dlmopened into a new namespace is left alone, before and after the same library loads in the base namespace, which the rules reach', async t => {
	const library = path.join(fixtures, 'now-pie/libctor.so');
	for (const rule of ['relink libctor.so fix_add fix wrap_fix_add_original', 'redefine * fix_add fix wrap_fix_add_original']) {
		const run = await runPreloaded(hardprog, ['dlmopen', library], writeConfig([backend, rule]), quiet);
		t.is(run.code, 0, run.stderr);
		const lines = run.stdout.split('\n').filter(line => line.includes('='));
		t.deepEqual(lines, ['ctor fix_add=42', 'namespace ctor_call=2', 'ctor fix_add=1042', 'base ctor_call=1002', 'namespace again ctor_call=2'], rule);
		t.is(run.stderr, '', rule);
	}
});

for (const variant of ['lazy-pie', 'now-pie', 'noplt-pie', 'lazy-nopie', 'now-nopie', 'noplt-nopie', 'norelro-pie']) {
	test(`${variant}: a callback reaches a dlopened library before its constructor runs`, async t => {
		const variantDirectory = path.join(fixtures, variant);
		const run = await runPreloaded(path.join(variantDirectory, 'dlprog'), [path.join(variantDirectory, 'libctor.so')], writeConfig([procBackend, 'callback libctor.so * proc']));
		t.is(run.code, 0, run.stderr);
		t.regex(run.stdout, /^ctor fix_add=42$/m);
		// The constructor's fix_add, printf and fflush, then ctor_call's fix_add.
		t.is(counts(run.stderr)?.calls, 4, run.stderr);
	});

	test(`${variant}: relink and redefine reach an old symbol version, the library's own IFUNC, and a function called through a table of pointers or both called and kept as a pointer`, async t => {
		const program = path.join(fixtures, variant, 'fixprog');
		const run = async (rule: string) => {
			const result = await runPreloaded(program, [], writeConfig([backend, rule]), quiet);
			t.is(result.code, 0, `${rule}: ${result.stderr}`);
			return values(result.stdout);
		};

		const oldVersion = await run('relink $main foo@V1 fix wrap_foo_99');
		t.is(oldVersion.get('foo_v1'), '99');
		t.is(oldVersion.get('foo'), '2');
		t.is((await run('relink $main fix_ifunc fix wrap_foo_99')).get('fix_ifunc'), '99');
		t.is((await run('redefine libfix.so fix_ifunc fix wrap_foo_99')).get('fix_ifunc'), '99');
		const redefined = await run('redefine libfix.so fix_addr_taken fix wrap_foo_99');
		t.is(redefined.get('table'), '99');
		t.is(redefined.get('fix_add'), '5');
		const relinked = await run('relink $main fix_addr_taken fix wrap_foo_99');
		t.is(relinked.get('table'), '99');
		// defprog both calls f (a PLT or -fno-plt GOT slot) and keeps its address in data (an absolute slot).
		const redefineDirectory = path.join(fixtures, variant, 'redefine');
		const both = await runPreloaded(path.join(redefineDirectory, 'defprog'), [redefineDirectory],
			writeConfig([`backend be = ${textValue(path.join(fixtures, 'backends/def-backend.so'))}`, 'relink $main f be wrap_f']));
		t.is(both.code, 0, both.stderr);
		// (liba's own call is not asserted: where the program owns f's canonical PLT entry, a -fno-plt liba calls
		// through that address, so through $main's slot: docs/mechanisms.md, Relink limits.)
		t.deepEqual(['main', 'pointer'].map(name => values(both.stdout).get(name)), ['102', '102']);
	});
}

test('a backtrace taken inside an instrumented call reaches its caller through pdi\'s handler, and libgcc_s.so.1, which libc loads for it, gets a callback too', async t => {
	for (const object of ['$main', '*', 'libgcc_s.so.1']) {
		const {bare, run, counts: seen} = await compared(['backtrace'], object);
		t.is(bare.stdout, 'backtrace reaches_caller=1\n');
		t.is(run.code, 0, `${object}: ${run.stderr}`);
		t.is(run.stdout, bare.stdout, object);
		t.true((seen?.calls ?? 0) > 0, object);
	}
});

test('a redefine and a callback reach a gconv module that libc loads by itself for iconv', async t => {
	const dlprog = path.join(fixtures, 'lazy-pie/dlprog');
	const redefined = await runPreloaded(dlprog, ['--iconv'], writeConfig([backend, 'redefine ISO8859-2.so gconv fix wrap_gconv_traced']), quiet);
	t.is(redefined.code, 0, redefined.stderr);
	t.is(values(redefined.stdout).get('iconv'), 'ą');
	t.regex(redefined.stderr, /^fix-backend: gconv$/m);
	const called = await runPreloaded(dlprog, ['--iconv'], writeConfig([procBackend, 'callback ISO8859-2.so * proc']));
	t.is(values(called.stdout).get('iconv'), 'ą');
	t.true((counts(called.stderr)?.calls ?? 0) > 0, called.stderr);
});

test('a redefine and a callback reach an NSS module that getpwnam loads', async t => {
	const dlprog = path.join(fixtures, 'lazy-pie/dlprog');
	const redefined = await runPreloaded(dlprog, ['--getpwnam'], writeConfig([backend, 'redefine libnss_systemd.so.2 _nss_systemd_getpwnam_r fix wrap_getpwnam_r_traced']), quiet);
	t.is(redefined.code, 0, redefined.stderr);
	t.is(values(redefined.stdout).get('getpwnam'), 'none');
	t.regex(redefined.stderr, /^fix-backend: getpwnam_r$/m);
	const called = await runPreloaded(dlprog, ['--getpwnam'], writeConfig([procBackend, 'callback libnss_systemd.so.2 * proc']));
	t.is(values(called.stdout).get('getpwnam'), 'none');
	t.true((counts(called.stderr)?.calls ?? 0) > 0, called.stderr);
});

test('a callback on all of libc.so.6 (in sort), on every object of python3 and on the Node executable leaves their output identical', async t => {
	const input = path.join(scratchDirectory('pdi-hard-'), 'numbers.txt');
	writeFileSync(input, '3\n20\n1\n');
	const python = ['-c', 'import json, re; print(sum(len(json.dumps({"a": [i] * 3})) for i in range(2000)), re.sub("b", "c", "abba"))'];
	const node = ['-e', 'console.log(require("crypto").createHash("sha1").update("x").digest("hex"))'];
	for (const [program, args, object] of [['/usr/bin/sort', ['-n', input], 'libc.so.6'], ['/usr/bin/python3', python, '*'], [process.execPath, node, '$main']] as const) {
		const bare = await runBare(program, args);
		const run = await runPreloaded(program, args, writeConfig([procBackend, `callback ${object} * proc`]));
		t.is(run.code, 0, `${program}: ${run.stderr}`);
		t.is(run.stdout, bare.stdout, program);
	}
});

if (testArch === 'aarch64') {
	test('a function with SVE arguments and result (the variant PCS) is never routed through a stub: its whole vector arrives and comes back', async t => {
		const sveprog = path.join(directory, 'sveprog');
		const bare = await runBare(sveprog);
		t.regex(bare.stdout, /^sve lanes=(\d+) sum=\d+\.0\n$/);
		const lanes = Number(/lanes=(\d+)/.exec(bare.stdout)?.[1]);
		t.is(bare.stdout, `sve lanes=${lanes} sum=${lanes * (lanes + 1)}.0\n`);
		t.true(lanes > 2, 'qemu gives SVE vectors wider than the 128 bits a q register holds');
		const run = await runPreloaded(sveprog, [], writeConfig([procBackend, 'callback $main * proc']));
		t.is(run.code, 0, run.stderr);
		t.is(run.stdout, bare.stdout);
	});

	test('a program whose return addresses are signed (PAC, -mbranch-protection=standard) runs as without pdi under a callback on every import', async t => {
		const program = path.join(directory, 'hardprog-pac');
		for (const mode of ['twice', 'exits', 'altstack', 'tls']) {
			const bare = await runBare(program, [mode]);
			const run = await runPreloaded(program, [mode], writeConfig([procBackend, 'callback * * proc']));
			t.is(run.code, 0, `${mode}: ${run.stderr}`);
			t.is(run.stdout, bare.stdout, mode);
			t.true((counts(run.stderr)?.calls ?? 0) > 0, mode);
		}
	});
}

const links = testArch === 'aarch64' ? ['gold', 'sysv-hash', 'gnu-hash'] : ['gold', 'sysv-hash', 'gnu-hash', 'relr', 'ibt-plt'];
for (const link of links) {
	test(`linked ${link}: relink, redefine and a callback on every import work as on the default link`, async t => {
		const program = path.join(directory, `link-${link}`, 'fixprog');
		const bare = await runBare(program);
		t.true(bare.stdout.endsWith('done\n'), bare.stderr);
		const relinked = await runPreloaded(program, [], writeConfig([backend, 'relink $main fix_add fix wrap_fix_add']), quiet);
		t.is(values(relinked.stdout).get('fix_add'), '105', relinked.stderr);
		const redefined = await runPreloaded(program, [], writeConfig([backend, 'redefine libfix.so fix_add fix wrap_fix_add']), quiet);
		t.is(values(redefined.stdout).get('fix_add'), '105', redefined.stderr);
		t.is(values(redefined.stdout).get('fix_add_twice'), '102');
		const called = await runPreloaded(program, [], writeConfig([procBackend, 'callback * * proc']));
		t.is(called.code, 0, called.stderr);
		const withoutAddresses = (stdout: string) => stdout.replaceAll(/0x[\da-f]+/g, 'ADDRESS');
		t.is(withoutAddresses(called.stdout), withoutAddresses(bare.stdout));
		t.true((counts(called.stderr)?.calls ?? 0) > 10, called.stderr);
	});
}

test('a non-PIE program keeps one address for a function whose canonical PLT entry it owns, under a redefine and a relink of it', async t => {
	const program = path.join(fixtures, 'now-nopie/fixprog');
	const bare = await runBare(program);
	const address = (stdout: string, name: string) => new RegExp(`^${name} at (0x[\\da-f]+)$`, 'm').exec(stdout)?.[1];
	for (const rule of ['redefine libfix.so fix_addr_taken fix wrap_foo_99', 'relink $main fix_addr_taken fix wrap_foo_99']) {
		const run = await runPreloaded(program, [], writeConfig([backend, rule]), quiet);
		t.is(run.code, 0, run.stderr);
		t.is(address(run.stdout, 'table_entry'), address(bare.stdout, 'table_entry'), rule);
		t.is(address(run.stdout, 'lib_pointer'), address(run.stdout, 'table_entry'), rule);
		t.is(values(run.stdout).get('table'), '99', rule);
	}
});

test('memory-deny-write-execute: a callback rule is refused naming it, a relink still works, and the warning about later loads names it', async t => {
	const mdwe = path.join(directory, 'mdwe');
	const cbprog = path.join(fixtures, 'callback/cbprog');
	const callbackRule = [procBackend, 'callback $main * proc'];
	const refused = await runPreloaded(mdwe, [cbprog, 'trace'], writeConfig(callbackRule));
	t.is(refused.code, 2, refused.stderr);
	t.is(refused.stdout, '');
	t.regex(refused.stderr, /^pdi: \S+rules\.cmd:2:1: callback \$main: callback refused: this process runs with memory-deny-write-execute \(PR_SET_MDWE\), which forbids making the stubs pdi writes executable$/m);
	t.regex(refused.stderr, /^pdi: warning: rules will not reach objects loaded later: this process runs with memory-deny-write-execute \(PR_SET_MDWE\), which forbids patching the loader's debug hook$/m);
	const warned = await runPreloaded(mdwe, [cbprog, 'trace'], writeConfig(callbackRule, ['on_error = warn']));
	t.is(warned.code, 0, warned.stderr);
	t.is(warned.stdout, 'traced\n');
	t.regex(warned.stderr, /callback refused: this process runs with memory-deny-write-execute \(PR_SET_MDWE\).* \(rule skipped\)$/m);
	const relinked = await runPreloaded(mdwe, [path.join(fixtures, 'now-pie/fixprog')], writeConfig([backend, 'relink $main fix_add fix wrap_fix_add']), quiet);
	t.is(relinked.code, 0, relinked.stderr);
	t.is(values(relinked.stdout).get('fix_add'), '105');
});

test('memory-deny-write-execute by a seccomp filter, as systemd sets it: a callback rule fails with the system\'s reason for the stubs, not "stubs exhausted"', async t => {
	const run = await runPreloaded(path.join(directory, 'mdwe'), ['--seccomp', path.join(fixtures, 'callback/cbprog'), 'trace'], writeConfig([procBackend, 'callback $main * proc']));
	t.is(run.code, 2, run.stderr);
	t.is(run.stdout, '');
	t.regex(run.stderr, /^pdi: \S+rules\.cmd:2:1: callback \$main: cannot make the callback stubs executable: Operation not permitted$/m);
	t.regex(run.stderr, /^pdi: warning: rules will not reach objects loaded later: cannot make the loader's code writable: Operation not permitted$/m);
});

test(`a callback reaches the GLOB_DAT calls of an -O2 -fno-plt program that uses an atomic operation${testArch ? ` (${testArch})` : ''}`, async t => {
	// On aarch64 the atomic add is a call of libgcc's outline atomics, which ask __getauxval through a PLT: that one
	// JUMP_SLOT made pdi take the program for one that calls through its PLT, and leave malloc, strcpy, printf and free alone.
	const run = await runPreloaded(path.join(fixtures, 'hard', 'atomicprog'), [], writeConfig([procBackend, 'callback $main * proc']));
	t.is(run.code, 0, run.stderr);
	t.is(run.stdout, 'atomic 1\n');
	t.true((counts(run.stderr)?.calls ?? 0) >= 4, run.stderr);
});

test(`a callback reaches the GLOB_DAT calls of an -O2 -fno-plt program that also has a PLT call of the compiler's own, as every Rust program does${testArch ? ` (${testArch})` : ''}`, async t => {
	// Rust calls the functions it names through its GOT, and LLVM's own _Unwind_Resume, memcpy and memset through a
	// PLT: those JUMP_SLOTs made pdi take the program for one that calls through its PLT and leave every GLOB_DAT call
	// alone (pdi trace of a Rust program showed its __cxa_finalize and nothing else).
	const program = path.join(fixtures, 'hard', 'mixedprog');
	const run = await runPreloaded(program, [], writeConfig([procBackend, 'callback $main * proc']));
	t.is(run.code, 0, run.stderr);
	t.is(run.stdout, 'mixed 1\ndone\n');
	// malloc twice, memcpy, strcpy, printf, getpid, puts, free twice.
	t.true((counts(run.stderr)?.calls ?? 0) >= 9, run.stderr);
});

test(`a callback and a redefine of a function the object calls conflict in every link mode, naming both rules${testArch ? ` (${testArch})` : ''}`, async t => {
	// DESIGN §4. Before, only where the slot was bound at start (-z now): a lazy slot, which the redefine reaches through
	// its symbol table, let the callback in on top of the redefine.
	for (const variant of ['lazy-pie', 'now-pie', 'lazy-nopie', 'now-nopie']) {
		const run = await runPreloaded(path.join(fixtures, variant, 'fixprog'), [], writeConfig([backend, procBackend, 'redefine libfix.so fix_add fix wrap_fix_add', 'callback $main * proc']), quiet);
		t.is(run.code, 2, `${variant}: ${run.stderr}`);
		t.regex(run.stderr, /^pdi: \S+:4:1: callback \$main: conflicts with the redefine at \S+:3, which already redirects fixprog's slot for fix_add$/m, variant);
		t.is(run.stdout, '', variant);
		// A callback whose backend leaves fix_add alone (its cb_req says 0) conflicts with nothing: both rules work.
		// Before: the same conflict, whatever cb_req said.
		const redefined = await runPreloaded(path.join(fixtures, variant, 'fixprog'), [], writeConfig([backend, 'redefine libfix.so fix_add fix wrap_fix_add']), quiet);
		const both = await runPreloaded(path.join(fixtures, variant, 'fixprog'), [], writeConfig([backend, procBackend, 'redefine libfix.so fix_add fix wrap_fix_add', 'callback $main * proc']), {...quiet, PROC_CBREQ_DECLINE: 'fix_add'});
		t.is(both.code, 0, `${variant}: ${both.stderr}`);
		const unplaced = (text: string) => text.replaceAll(/0x[\da-f]+/g, '0x');
		t.is(unplaced(both.stdout), unplaced(redefined.stdout), variant);
		t.regex(both.stdout, /^fix_add=105$/m, variant);
		t.true((counts(both.stderr)?.calls ?? 0) > 0, both.stderr);
	}
});
