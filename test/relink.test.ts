import {execFileSync} from 'node:child_process';
import {readFileSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {pdi} from './helpers/cli.js';
import {scratchDirectory} from './helpers/files.js';
import {fixBackend, fixtures, runPreloaded, values, writeConfig} from './helpers/preload.js';
import {textValue} from './helpers/quote.js';

const variants = ['lazy-pie', 'now-pie', 'noplt-pie', 'lazy-nopie', 'now-nopie', 'noplt-nopie', 'norelro-pie'];
const backend = `backend fix = ${textValue(fixBackend)}`;

for (const variant of variants) {
	const program = path.join(fixtures, variant, 'fixprog');

	test(`${variant}: relinking $main's fix_add changes what main sees and leaves libfix's own call alone`, async t => {
		const result = await runPreloaded(program, [], writeConfig([backend, 'relink $main fix_add fix wrap_fix_add']));
		t.is(result.code, 0, result.stderr);
		const seen = values(result.stdout);
		t.is(seen.get('fix_add'), '105');
		t.is(seen.get('fix_add_twice'), '2');
		t.is(seen.get('foo'), '2');
		t.true(result.stdout.endsWith('done\n'));
		t.is(result.stderr, 'fix-backend: fini\n');
	});

	test(`${variant}: relinking libfix.so's import of fix_add changes only libfix's calls`, async t => {
		const result = await runPreloaded(program, [], writeConfig([backend, 'relink libfix.so fix_add fix wrap_fix_add']));
		t.is(result.code, 0, result.stderr);
		const seen = values(result.stdout);
		t.is(seen.get('fix_add'), '5');
		t.is(seen.get('fix_add_twice'), '102');
	});

	test(`${variant}: a wrapper reaches the original through pdi_original()`, async t => {
		const result = await runPreloaded(program, [], writeConfig([backend, 'relink $main fix_add fix wrap_fix_add_original']));
		t.is(result.code, 0, result.stderr);
		t.is(values(result.stdout).get('fix_add'), '1005');
		t.regex(result.stdout, /called fix_add at 0x[\da-f]+\nfix_add=1005/);
	});

	test(`${variant}: a wrapper that calls the hooked function by name does not loop, even relinked everywhere`, async t => {
		const result = await runPreloaded(program, [], writeConfig([backend, 'relink * fix_add fix wrap_fix_add_recursive']));
		t.is(result.code, 0, result.stderr);
		const seen = values(result.stdout);
		t.is(seen.get('fix_add'), '10005');
		t.is(seen.get('fix_add_twice'), '10002');
	});

	test(`${variant}: a rule applies to a dlopened library before its constructor runs`, async t => {
		const directory = path.join(fixtures, variant);
		const result = await runPreloaded(path.join(directory, 'dlprog'), [path.join(directory, 'libctor.so')],
			writeConfig([backend, 'relink libctor.so fix_add fix wrap_fix_add_original']));
		t.is(result.code, 0, result.stderr);
		const seen = values(result.stdout);
		t.is(seen.get('ctor fix_add'), '1042');
		t.is(seen.get('ctor_call'), '1002');
	});
}

test('a rule applies to a gconv module that libc loads by itself for iconv', async t => {
	const result = await runPreloaded(path.join(fixtures, 'lazy-pie/dlprog'), ['--iconv'],
		writeConfig([backend, 'relink ISO8859-2.so strcmp fix wrap_strcmp_traced']));
	t.is(result.code, 0, result.stderr);
	t.is(values(result.stdout).get('iconv'), 'ą');
	t.regex(result.stderr, /^fix-backend: strcmp$/m);
});

test('a rule applies to an NSS module that getpwnam loads', async t => {
	const result = await runPreloaded(path.join(fixtures, 'lazy-pie/dlprog'), ['--getpwnam'],
		writeConfig([backend, 'relink libnss_systemd.so.2 getenv fix wrap_getenv_traced', 'relink libnss_systemd.so.2 secure_getenv fix wrap_secure_getenv_traced']));
	t.is(result.code, 0, result.stderr);
	t.is(values(result.stdout).get('getpwnam'), 'none');
	t.regex(result.stderr, /^fix-backend: (secure_)?getenv$/m);
});

test('16 threads calling a relinked function while libraries load and unload all reach the wrapper', async t => {
	const directory = path.join(fixtures, 'lazy-pie');
	const result = await runPreloaded(path.join(directory, 'threadprog'), ['300000', path.join(directory, 'libctor.so')],
		writeConfig([backend, 'relink $main fix_add_quiet fix wrap_fix_add_quiet', 'relink libctor.so fix_add fix wrap_fix_add_original']));
	t.is(result.code, 0, result.stderr);
	t.regex(result.stdout, /^calls=4800000 original=0 wrapped=4800000 wrapped_value=1002 loads=yes$/m);
	t.regex(result.stdout, /^ctor fix_add=1042$/m);
	t.notRegex(result.stdout, /^ctor fix_add=42$/m);
});

test('relinking libfix.so\'s import of strlen, a libc IFUNC, changes libfix\'s calls and not the program\'s', async t => {
	const result = await runPreloaded(path.join(fixtures, 'now-pie/fixprog'), [],
		writeConfig([backend, 'relink libfix.so strlen fix wrap_strlen_seven']));
	// fixprog exits 1 when fix_use_libc's strlen (now 7) disagrees with its own (12): only libfix's slot changed.
	t.is(result.code, 1, result.stderr);
	t.regex(result.stdout, /\nfix_use_libc\n$/);
	const untouched = await runPreloaded(path.join(fixtures, 'now-pie/fixprog'), [], writeConfig([backend, 'relink $main strlen fix wrap_strlen_seven']));
	t.is(untouched.code, 0, 'the program\'s own strlen result is not compared with anything it prints');
	t.true(untouched.stdout.endsWith('done\n'));
});

test('the bundled count backend counts the calls its rules divert and reports them at exit', async t => {
	const counted = await runPreloaded('/bin/ls', ['-l', '/'],
		writeConfig(['backend count = count', 'relink * malloc count count_malloc', 'relink * free count count_free']));
	t.is(counted.code, 0, counted.stderr);
	const malloc = /^pdi-count: malloc (\d+)$/m.exec(counted.stderr);
	t.truthy(malloc, counted.stderr);
	t.true(Number(malloc?.[1]) > 0);
});

test('a rule that names pdi\'s own core or a backend as its object is refused with the reason', async t => {
	const program = path.join(fixtures, 'now-pie/fixprog');
	const core = await runPreloaded(program, [], writeConfig([backend, 'relink pdi-preload.so getenv fix wrap_getenv_traced']));
	t.is(core.code, 2);
	t.regex(core.stderr, /^pdi: \S+rules\.cmd:2:8: relink getenv: object \S+pdi-preload\.so is pdi itself and donttouch_pdi \(protectPdi\) is on$/m);
	t.is(core.stdout, '');
	const ownBackend = await runPreloaded(program, [], writeConfig([backend, 'relink fix-backend.so fix_add fix wrap_fix_add']));
	t.is(ownBackend.code, 2);
	t.regex(ownBackend.stderr, /is a backend and donttouch_backends \(protectBackends\) is on/);
});

test('allow_lib_as_be lets a rule take its wrapper from an ordinary library, and without it the rule is refused', async t => {
	const program = path.join(fixtures, 'now-pie/fixprog');
	const commands = ['object fixlib = libfix.so', 'relink $main fix_ifunc fixlib fix_ifunc_slow'];
	const allowed = await runPreloaded(program, [], writeConfig(commands, ['allow_lib_as_be = on']));
	t.is(allowed.code, 0, allowed.stderr);
	t.regex(allowed.stdout, /called fix_ifunc_slow at 0x[\da-f]+\nfix_ifunc=7/);
	const refused = await runPreloaded(program, [], writeConfig(commands));
	t.is(refused.code, 2);
	t.regex(refused.stderr, /unknown backend 'fixlib'/);
	t.is(refused.stdout, '');
});

test('pdi run with allow_lib_as_be names the library as written and points at its field when no object matches it or it lacks the wrapper', async t => {
	const scratch = scratchDirectory('pdi-lib-as-be-');
	const program = path.join(fixtures, 'now-pie/fixprog');
	const file = (name: string, rule: string) => {
		const config = path.join(scratch, name);
		writeFileSync(config, `allow_lib_as_be = on\n${rule}\n`);
		return config;
	};

	const unmatched = await pdi(['run', '-c', file('lib-unmatched.cfg', 'relink $main fix_add ./nosuch.so w'), '--', program]);
	t.is(unmatched.code, 2);
	t.regex(unmatched.stderr, /^pdi: \S+lib-unmatched\.cfg:2:22: relink fix_add: no loaded object matches '\S+\/pdi-lib-as-be-\w+\/nosuch\.so' to take the wrapper from\n$/);
	const lacking = await pdi(['run', '-c', file('lib-lacking.cfg', 'relink $main fix_add libfix.so no_such_wrapper'), '--', program]);
	t.is(lacking.code, 2);
	t.regex(lacking.stderr, /^pdi: \S+lib-lacking\.cfg:2:32: relink fix_add: wrapper 'no_such_wrapper' is not defined by libfix\.so \(.+libfix\.so\)\n$/);
});

test('on_error = warn logs a failing rule, skips it and runs the program with the others', async t => {
	const result = await runPreloaded(path.join(fixtures, 'now-pie/fixprog'), [],
		writeConfig([backend, 'relink $main fix_add fix no_such_wrapper', 'relink libfix.so fix_add fix wrap_fix_add'], ['on_error = warn']));
	t.is(result.code, 0, result.stderr);
	t.regex(result.stderr, /^pdi: warning: \S+rules\.cmd:2:26: relink fix_add: wrapper 'no_such_wrapper' is not defined by fix .*\(rule skipped\)$/m);
	t.is(values(result.stdout).get('fix_add'), '5');
	t.is(values(result.stdout).get('fix_add_twice'), '102');
});

test('max_objects bounds the objects rules reach and says so', async t => {
	const result = await runPreloaded(path.join(fixtures, 'now-pie/fixprog'), [],
		writeConfig([backend, 'relink libfix.so fix_add fix wrap_fix_add'], ['max_objects = 2']));
	t.is(result.code, 0, result.stderr);
	t.regex(result.stderr, /^pdi: warning: \S+pdi\.cfg:\d+:\d+: \d+ objects are loaded but max_objects is 2: rules reach only the first 2$/m);
	t.is(values(result.stdout).get('fix_add_twice'), '2', 'libfix.so comes after the first two objects');
});

test('a wrapper or handler that names an exported variable of the backend is refused by the core with the reason', async t => {
	const program = path.join(fixtures, 'now-pie/fixprog');
	const core = await runPreloaded(program, [], writeConfig([backend, 'relink $main fix_add fix fix_not_a_function']));
	t.is(core.signal, null, core.stderr);
	t.is(core.code, 2, core.stderr);
	t.regex(core.stderr, /^pdi: \S+rules\.cmd:2:26: relink fix_add: wrapper 'fix_not_a_function' is a data object in fix \(.+\/fix-backend\.so\), not a function$/m);
	t.is(core.stdout, '');
	const handler = await runPreloaded(program, [], writeConfig([backend, 'callback $main * fix fix_not_a_function'], ['cb_allow_handler = on']));
	t.is(handler.code, 2, handler.stderr);
	t.regex(handler.stderr, /^pdi: \S+rules\.cmd:2:\d+: callback \$main: handler 'fix_not_a_function' is a data object in fix \(.+\/fix-backend\.so\), not a function$/m);
	const warned = await runPreloaded(program, [], writeConfig([backend, 'relink $main fix_add fix fix_not_a_function'], ['on_error = warn']));
	t.is(warned.code, 0, warned.stderr);
	t.regex(warned.stderr, /not a function \(rule skipped\)$/m);
	t.is(values(warned.stdout).get('fix_add'), '5');
});

test('pdi run refuses a wrapper that names an exported variable of the backend with the core\'s words, before the program runs', async t => {
	const program = path.join(fixtures, 'now-pie/fixprog');
	const cli = await pdi(['run', '-c', writeConfig([backend, 'relink $main fix_add fix fix_not_a_function']), '--', program]);
	t.is(cli.code, 2, cli.stderr);
	t.regex(cli.stderr, /^pdi: \S+rules\.cmd:2:26: relink fix_add: wrapper 'fix_not_a_function' is a data object in fix \(.+\/fix-backend\.so\), not a function$/m);
	t.is(cli.stdout, '');
});

test('a backend built for another architecture is refused with the architectures, not glibc\'s "No such file or directory"', async t => {
	const directory = scratchDirectory('pdi-foreign-');
	const foreign = path.join(directory, 'foreign-backend.so');
	const bytes = readFileSync(fixBackend);
	bytes.writeUInt16LE(243, 18); // e_machine = EM_RISCV
	writeFileSync(foreign, bytes);
	const config = writeConfig([`backend fix = ${textValue(foreign)}`, 'relink $main fix_add fix wrap_fix_add']);
	const result = await runPreloaded(path.join(fixtures, 'now-pie/fixprog'), [], config);
	t.is(result.code, 2, result.stderr);
	const refusal = /^pdi: \S+rules\.cmd:1:15: backend 'fix': cannot load \S+foreign-backend\.so: it is built for riscv(32|64), and this process is (x86-64|aarch64|i386)$/m;
	t.regex(result.stderr, refusal);
	t.is(result.stdout, '');
	// pdi run says it before the program starts, in the same words; pdi config check, which knows no program, warns.
	// (pdi run starts programs of its own architecture: this machine's fixprog, also when the core above is another's.)
	const run = await pdi(['run', '-c', config, '--', path.join(fixtures, '..', 'out', 'now-pie', 'fixprog')]);
	t.is(run.code, 2, run.stderr);
	t.regex(run.stderr, refusal);
	t.is(run.stdout, '');
	const check = await pdi(['config', 'check', config]);
	t.is(check.code, 0, check.stderr);
	t.regex(check.stderr, /^pdi: warning: \S+rules\.cmd:1:15: backend 'fix': \S+foreign-backend\.so is built for riscv(32|64): only a process of that architecture can load it \(pdi run on this (x86-64|aarch64|i386) machine refuses it\)$/m);
});

for (const variant of ['lazy-pie', 'now-pie']) {
	test(`${variant}: relinking foo@V1 changes the program's calls of that version; foo@@V1, where V2 is the default, changes nothing and says so at exit; plain foo, which the program imports in both versions, is refused naming them`, async t => {
		// Before, lazily bound: `no loaded object defines 'foo'` stopped the program (status 2), although libfix defines
		// foo@V1, only not as the default; bound at start, the rule relinked foo@V1 as if @@ had not been written.
		const program = path.join(fixtures, variant, 'fixprog');
		const v1 = await runPreloaded(program, [], writeConfig([backend, 'relink $main foo@V1 fix wrap_foo_99']));
		t.is(v1.code, 0, v1.stderr);
		t.deepEqual([values(v1.stdout).get('foo_v1'), values(v1.stdout).get('foo')], ['99', '2']);
		const defaultV1 = await runPreloaded(program, [], writeConfig([backend, 'relink $main foo@@V1 fix wrap_foo_99']));
		t.is(defaultV1.code, 0, defaultV1.stderr);
		t.deepEqual([values(defaultV1.stdout).get('foo_v1'), values(defaultV1.stdout).get('foo')], ['1', '2']);
		t.regex(defaultV1.stderr, /relink foo@@V1: no object matching '\$main' imported it while the program ran: the rule changed nothing/);
		const defaultV2 = await runPreloaded(program, [], writeConfig([backend, 'relink $main foo@@V2 fix wrap_foo_99']));
		t.deepEqual([values(defaultV2.stdout).get('foo_v1'), values(defaultV2.stdout).get('foo')], ['1', '99']);
		// Both versions, from one object: was `fixprog calls the foo of libfix.so, but wrapper 'wrap_foo_99' already
		// stands for the one of libfix.so ... give the objects of each definition a rule`, advice that fits no case.
		const both = await runPreloaded(program, [], writeConfig([backend, 'relink $main foo fix wrap_foo_99']));
		t.is(both.code, 2, both.stderr);
		t.regex(both.stderr, /^pdi: \S+:2:1: relink foo: .+fixprog calls foo in two versions of .+libfix\.so, foo@V[12] and foo@V[12], but wrapper 'wrap_foo_99' can stand for one, as pdi_original\(\) has one answer per wrapper: write a rule for each version \(function: foo@VERSION, @@ for the default\) with a wrapper of its own$/m);
	});
}

test('a wrapper the backend defines without exporting it (-fvisibility=hidden, static) is refused with how to export it', async t => {
	// Before: only "is not defined by", though the function is there; docs/launching.md's own compile line builds
	// with -fvisibility=hidden.
	const directory = scratchDirectory('pdi-hidden-wrapper-');
	const hidden = path.join(directory, 'hidden.so');
	execFileSync('gcc', ['-O2', '-shared', '-fPIC', '-fvisibility=hidden', '-o', hidden, '-x', 'c', '-'], {input: 'int wrap_fix_add(int a, int b) { return a + b + 1; }\nstatic int unused_static(void) { return 0; }\nint (*keep)(void) = unused_static;\n'});
	const config = path.join(directory, 'hidden.yaml');
	writeFileSync(config, `backends: [{name: h, library: ${JSON.stringify(hidden)}}]\nrules:\n  - relink: {object: $main, function: fix_add, backend: h, wrapper: wrap_fix_add}\n`);
	const check = await pdi(['config', 'check', config]);
	t.is(check.code, 2);
	t.is(check.stderr, `pdi: ${config}:3:69: relink fix_add: wrapper 'wrap_fix_add' is not defined by h (${hidden}), which defines it without exporting it (static, or hidden by -fvisibility=hidden): give it __attribute__((visibility("default")))\n`);
});
