import {execFile} from 'node:child_process';
import {writeFileSync} from 'node:fs';
import path from 'node:path';
import {promisify} from 'node:util';
import test from 'ava';
import type {ProcessReport} from '../src/ts/index.js';
import {pdi, root} from './helpers/cli.js';
import {scratchDirectory} from './helpers/files.js';
import {fixBackend, fixtures, runPreloaded, values, writeConfig} from './helpers/preload.js';
import {textValue} from './helpers/quote.js';

const variants = ['lazy-pie', 'now-pie', 'noplt-pie', 'lazy-nopie', 'now-nopie', 'noplt-nopie', 'norelro-pie'];
const defBackend = `backend be = ${textValue(path.join(fixtures, 'backends/def-backend.so'))}`;
const everyPath = ['main', 'a', 'b', 'def', 'default', 'handle', 'pointer', 'late'];

function defprog(variant: string): [string, string[]] {
	const directory = path.join(fixtures, variant, 'redefine');
	return [path.join(directory, 'defprog'), [directory]];
}

for (const variant of variants) {
	test(`${variant}: redefining libdef.so's f reaches main, liba, libb, libdef itself, dlsym, a taken pointer and a lazy late dlopen`, async t => {
		const [program, args] = defprog(variant);
		const result = await runPreloaded(program, args, writeConfig([defBackend, 'redefine libdef.so f be wrap_f']));
		t.is(result.code, 0, result.stderr);
		const seen = values(result.stdout);
		for (const name of everyPath) {
			t.is(seen.get(name), '102', name);
		}
	});

	test(`${variant}: a redefine wrapper that calls the function by name reaches the original`, async t => {
		const [program, args] = defprog(variant);
		const result = await runPreloaded(program, args, writeConfig([defBackend, 'redefine * f be wrap_f_by_name']));
		t.is(result.code, 0, result.stderr);
		const seen = values(result.stdout);
		for (const name of everyPath) {
			t.is(seen.get(name), '1002', name);
		}
	});

	test(`${variant}: without a rule every path reaches the original f`, async t => {
		const [program, args] = defprog(variant);
		const result = await runPreloaded(program, args, undefined);
		t.is(result.code, 0, result.stderr);
		const seen = values(result.stdout);
		for (const name of everyPath) {
			t.is(seen.get(name), '2', name);
		}
	});
}

test('redefining libc\'s getpid reaches the program; its other output is unchanged', async t => {
	const [program, args] = defprog('now-pie');
	const bare = await runPreloaded(program, args, undefined);
	const result = await runPreloaded(program, args, writeConfig([defBackend, 'redefine libc.so.6 getpid be wrap_getpid']));
	t.is(result.code, 0, result.stderr);
	t.is(values(result.stdout).get('getpid_is_4242'), '1');
	t.is(result.stdout.replace('getpid_is_4242=1', 'getpid_is_4242=0'), bare.stdout);
});

async function run(program: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
	const {stdout} = await promisify(execFile)(program, args, {env: {...process.env, ...env}});
	return stdout;
}

for (const ifunc of ['strlen', 'memcpy']) {
	test(`redefining libc's IFUNC ${ifunc} for the whole of ls keeps its output identical and counts the calls`, async t => {
		const bare = await run('/bin/ls', ['-la', '/usr/lib', '/etc']);
		const result = await runPreloaded('/bin/ls', ['-la', '/usr/lib', '/etc'],
			writeConfig(['backend count = count', `redefine libc.so.6 ${ifunc} count count_${ifunc}`]));
		t.is(result.code, 0, result.stderr);
		t.is(result.stdout, bare);
		const counted = new RegExp(`^pdi-count: ${ifunc} (\\d+)$`, 'm').exec(result.stderr);
		t.truthy(counted, result.stderr);
		t.true(Number(counted?.[1]) > 0);
	});
}

test('redefining foo@@V2 leaves callers bound to foo@V1 alone, and the reverse', async t => {
	const program = path.join(fixtures, 'now-pie/fixprog');
	const backend = `backend fix = ${textValue(fixBackend)}`;
	const v2 = await runPreloaded(program, [], writeConfig([backend, 'redefine libfix.so foo@@V2 fix wrap_foo_99']));
	t.is(v2.code, 0, v2.stderr);
	t.is(values(v2.stdout).get('foo'), '99');
	t.is(values(v2.stdout).get('foo_v1'), '1');
	const v1 = await runPreloaded(program, [], writeConfig([backend, 'redefine libfix.so foo@V1 fix wrap_foo_99']));
	t.is(v1.code, 0, v1.stderr);
	t.is(values(v1.stdout).get('foo'), '2');
	t.is(values(v1.stdout).get('foo_v1'), '99');
});

test('a library linked with -Bsymbolic keeps calling its own g: the documented limit of redefine', async t => {
	const [program, args] = defprog('lazy-pie');
	const result = await runPreloaded(program, args, writeConfig([defBackend, 'redefine libsymbolic.so g be wrap_g']));
	t.is(result.code, 0, result.stderr);
	t.is(values(result.stdout).get('symbolic_main'), '102', 'callers outside the library are redefined');
	t.is(values(result.stdout).get('symbolic_inside'), '2', 'the library\'s internal call was bound at link time');
});

test('a redefine whose definer loads later applies before that library\'s constructors run', async t => {
	const directory = path.join(fixtures, 'now-nopie');
	const result = await runPreloaded(path.join(directory, 'dlprog'), [path.join(directory, 'libctor.so')],
		writeConfig([`backend fix = ${textValue(fixBackend)}`, 'redefine * fix_add fix wrap_fix_add_original']));
	t.is(result.code, 0, result.stderr);
	t.is(values(result.stdout).get('ctor fix_add'), '1042');
	t.is(values(result.stdout).get('ctor_call'), '1002');
});

test('a relink and a redefine of one function compose: the relink wrapper\'s original is the redefine wrapper', async t => {
	const program = path.join(fixtures, 'now-pie/fixprog');
	const result = await runPreloaded(program, [], writeConfig([`backend fix = ${textValue(fixBackend)}`, 'relink $main fix_add fix wrap_fix_add_original', 'redefine libfix.so fix_add fix wrap_fix_add']));
	t.is(result.code, 0, result.stderr);
	t.is(values(result.stdout).get('fix_add'), '1105', '$main: relink(+1000) over redefine(+100)');
	t.is(values(result.stdout).get('fix_add_twice'), '102', 'libfix: the redefine only');
});

test('two redefines of one definition conflict, and the error names both rules', async t => {
	const result = await runPreloaded(path.join(fixtures, 'now-pie/fixprog'), [],
		writeConfig([`backend fix = ${textValue(fixBackend)}`, 'redefine * fix_add fix wrap_fix_add', 'redefine libfix.so fix_add fix wrap_fix_add_original']));
	t.is(result.code, 2);
	t.regex(result.stderr, /^pdi: \S+rules\.cmd:3:1: redefine fix_add: conflicts with the redefine at \S+rules\.cmd:2/m);
	t.is(result.stdout, '');
});

test('pdi inspect -c shows the redefined symbol and the slots that now point at the wrapper', async t => {
	const directory = path.join(fixtures, 'now-pie/redefine');
	const config = writeConfig([defBackend, 'redefine libdef.so f be wrap_f']);
	const result = await pdi(['inspect', '--json', '-c', config, '--imports', 'lib[ab].so', '--', path.join(directory, 'defprog')]);
	t.is(result.code, 0, result.stderr);
	const report = JSON.parse(result.stdout) as ProcessReport;
	const libdef = report.objects.find(object => object.soname === 'libdef.so');
	t.deepEqual(libdef?.redefined.map(entry => `${entry.symbol}->${path.basename(entry.object ?? '')}!${entry.wrapper}`), ['f->def-backend.so!wrap_f']);
	for (const name of ['liba.so', 'libb.so']) {
		const slot = report.objects.find(object => object.soname === name)?.imports?.find(entry => entry.symbol === 'f');
		t.is(slot?.target?.symbol, 'wrap_f', name);
	}

	const table = await pdi(['inspect', '-c', config, '--imports', '$main', '--', path.join(directory, 'defprog')]);
	t.regex(table.stdout, /^redefined in .+\/libdef\.so: f -> def-backend\.so!wrap_f$/m);
});

test('pdi run: at exit a redefine whose backend has no fini keeps reaching the calls of library destructors that run after pdi\'s, and one whose backend has a fini is put back first', async t => {
	const directory = scratchDirectory('pdi-redefine-exit-');
	const file = (name: string, text: string) => {
		writeFileSync(path.join(directory, name), text);
		return path.join(directory, name);
	};

	const gcc = async (...args: string[]) => promisify(execFile)('gcc', args, {cwd: directory});
	file('target.c', 'int dtor_target(int x) { return x; }\n');
	file('caller.c', '#include <stdio.h>\nint dtor_target(int x);\nint dtor_caller_present(void) { return 1; }\n__attribute__((destructor)) static void at_end(void) { printf("destructor: %d\\n", dtor_target(1)); }\n');
	file('prog.c', '#include <stdio.h>\nint dtor_target(int x);\nint dtor_caller_present(void);\nint main(void) { printf("main: %d %d\\n", dtor_target(1), dtor_caller_present()); return 0; }\n');
	file('be.c', '#include <pdi/backend.h>\n__attribute__((visibility("default"))) int wrap_target(int x) { return 100 + ((int (*)(int))pdi_original((const void *)wrap_target))(x); }\n#ifdef WITH_FINI\nstatic volatile int finished;\nvoid PDI_BE_FUNC_FINI(void) { finished = 1; }\n#endif\n');
	await gcc('-shared', '-fPIC', '-o', 'libdtortarget.so', 'target.c');
	await gcc('-shared', '-fPIC', '-o', 'libdtorcall.so', 'caller.c', '-L.', '-ldtortarget', '-Wl,-rpath,$ORIGIN');
	await gcc('-o', 'prog', 'prog.c', '-L.', '-ldtorcall', '-ldtortarget', '-Wl,-rpath,$ORIGIN');
	const include = path.join(root, 'include');
	await gcc('-shared', '-fPIC', '-I', include, '-o', 'be-nofini.so', 'be.c');
	await gcc('-shared', '-fPIC', '-DWITH_FINI', '-I', include, '-o', 'be-fini.so', 'be.c');
	const outputs: string[] = [];
	for (const backend of ['be-nofini.so', 'be-fini.so']) {
		const config = file(`${backend}.cfg`, `backend b = ${textValue(path.join(directory, backend))}\nredefine libdtortarget.so dtor_target b wrap_target\n`);
		const run = await pdi(['run', '-c', config, '--', path.join(directory, 'prog')]);
		t.is(run.code, 0, run.stderr);
		outputs.push(run.stdout);
	}

	t.deepEqual(outputs, ['main: 101 1\ndestructor: 101\n', 'main: 101 1\ndestructor: 1\n']);
});
