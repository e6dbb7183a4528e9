import {execFileSync} from 'node:child_process';
import {readFileSync, realpathSync, writeFileSync, chmodSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {inspectProgram, type ProcessReport} from '../src/ts/index.js';
import {PdiError} from '../src/ts/errors.js';
import {pdi, root} from './helpers/cli.js';
import {compileC, scratchDirectory} from './helpers/files.js';
import {readelfSlotKeys, slotKeys} from './helpers/readelf.js';

const scratch = scratchDirectory('pdi-cli-test-');
const libc = execFileSync('sh', ['-c', 'ldd /bin/true | awk \'/libc.so.6/ {print $3}\''], {encoding: 'utf8'}).trim();

test('pdi inspect prints a table of the objects and import slots of /bin/true', async t => {
	const result = await pdi(['inspect', '--', '/bin/true']);
	t.is(result.code, 0, result.stderr);
	t.regex(result.stdout, /#\s+BASE\s+FLAGS\s+SONAME\s+PATH/);
	t.regex(result.stdout, new RegExp(`main,pie\\S*\\s+-\\s+${realpathSync('/bin/true')}`));
	t.regex(result.stdout, /libc\.so\.6\s+\S*libc\.so\.6/);
	t.regex(result.stdout, /imports of \/\S+\/true \(\d+ slots\)/);
	t.regex(result.stdout, /OFFSET\s+KIND\s+STATE\s+RELRO\s+SYMBOL\s+TARGET/);
	t.regex(result.stdout, /glob_dat\s+bound\s+ro\s+__libc_start_main@GLIBC_2\.34\s+libc\.so\.6!__libc_start_main@GLIBC_2\.34/);
});

test('pdi inspect --json prints a report that JSON.parse accepts, with the loader, the vDSO and the core marked', async t => {
	const result = await pdi(['inspect', '--json', '--', '/bin/true']);
	t.is(result.code, 0, result.stderr);
	const report = JSON.parse(result.stdout) as ProcessReport;
	t.is(report.arch, 'x86_64');
	t.is(report.objects[0]?.path, realpathSync('/bin/true'));
	t.true(report.objects[0]?.main);
	t.true(report.objects.some(object => object.loader && object.path.includes('ld-linux')));
	t.true(report.objects.some(object => object.vdso && object.name === 'linux-vdso.so.1'));
	const core = report.objects.find(object => object.pdi);
	t.is(core?.name, 'pdi-preload.so');
	t.true(report.objects.every(object => Array.isArray(object.imports)));
});

test('pdi inspect lists exactly the symbol-bound relocations that readelf shows for /bin/true', async t => {
	const result = await pdi(['inspect', '--json', '--imports', '$main', '--', '/bin/true']);
	t.is(result.code, 0, result.stderr);
	const report = JSON.parse(result.stdout) as ProcessReport;
	const main = report.objects.find(object => object.main);
	t.deepEqual(slotKeys(main?.imports ?? []), readelfSlotKeys('/bin/true'));
	t.true(report.objects.filter(object => !object.main).every(object => object.imports === null));
});

test('pdi inspect --imports libc.so.6 lists libc\'s own import slots as readelf shows them', async t => {
	const result = await pdi(['inspect', '--json', '--imports', 'libc.so.6', '--', '/bin/true']);
	t.is(result.code, 0, result.stderr);
	const report = JSON.parse(result.stdout) as ProcessReport;
	const withImports = report.objects.filter(object => object.imports !== null);
	t.is(withImports.length, 1);
	t.is(withImports[0]?.soname, 'libc.so.6');
	t.deepEqual(slotKeys(withImports[0]?.imports ?? []), readelfSlotKeys(libc));
	const table = await pdi(['inspect', '--imports', 'libc.so.6', '--', '/bin/true']);
	t.regex(table.stdout, /imports of \S+libc\.so\.6 \(\d+ slots\)/);
	t.regex(table.stdout, /__tls_get_addr@GLIBC_2\.3/);
});

test('pdi inspect -o writes the report to a file', async t => {
	const file = path.join(scratch, 'true.json');
	const result = await pdi(['inspect', '--json', '-o', file, '--', '/bin/true']);
	t.is(result.code, 0, result.stderr);
	t.is(result.stdout, '');
	const report = JSON.parse(readFileSync(file, 'utf8')) as ProcessReport;
	t.true(report.objects.length >= 3);
});

test('pdi inspect --run lets the program run and exits with its status; children do not overwrite the report', async t => {
	const file = path.join(scratch, 'sh.json');
	const result = await pdi(['inspect', '--json', '--run', '-o', file, '--', 'sh', '-c', 'echo from-sh; /bin/true; exit 7']);
	t.is(result.code, 7);
	t.is(result.stdout, 'from-sh\n');
	const report = JSON.parse(readFileSync(file, 'utf8')) as ProcessReport;
	t.is(report.objects[0]?.path, realpathSync(execFileSync('sh', ['-c', 'command -v sh'], {encoding: 'utf8'}).trim()));
});

test('pdi inspect --run shows the report before main runs: first on a shared stdout, also for a program that has not ended yet', async t => {
	// Before: the report came after the program had ended (after its own output, never for a server).
	const shared = await pdi(['inspect', '--run', '--imports', '$main', '--', 'sh', '-c', 'echo from-main; exit 3']);
	t.is(shared.code, 3, shared.stderr);
	t.regex(shared.stdout, /^process \d+ [\s\S]+\nfrom-main\n$/);
	const file = path.join(scratch, 'early.txt');
	const done = path.join(scratch, 'may end');
	const started = Date.now();
	// The program runs until the test lets it end (was a 5 s sleep, which a loaded machine outran: a false failure).
	const slow = pdi(['inspect', '--run', '-o', file, '--', 'sh', '-c', 'while [ ! -e "$1" ]; do sleep 0.05; done', 'sh', done]);
	let early = '';
	while (early === '' && Date.now() - started < 30_000) {
		await new Promise(resolve => {
			setTimeout(resolve, 100);
		});
		early = readFileSyncOrEmpty(file);
	}

	writeFileSync(done, '');
	t.regex(early, /^process \d+ /, 'the report is there while the program still runs');
	t.is((await slow).code, 0);
});

test('pdi inspect --run --imports matching nothing exits 1 without running main', async t => {
	const marker = path.join(scratch, 'main-ran');
	const result = await pdi(['inspect', '--run', '--imports', 'no-such-object.so', '--', 'sh', '-c', `: > ${marker}; exit 3`]);
	t.is(result.code, 1);
	t.is(result.stderr, 'pdi: no loaded object of sh matches \'no-such-object.so\'\n');
	t.throws(() => readFileSync(marker));
});

function readFileSyncOrEmpty(file: string): string {
	try {
		return readFileSync(file, 'utf8');
	} catch {
		return '';
	}
}

test('pdi inspect --run reports death by signal as 128+N and says it, as pdi run does', async t => {
	const result = await pdi(['inspect', '--run', '-o', path.join(scratch, 'kill.txt'), '--', 'sh', '-c', 'kill -TERM $$']);
	t.is(result.code, 128 + 15);
	t.regex(result.stderr, /^pdi: sh was killed by SIGTERM\n$/m);
	const crash = await pdi(['inspect', '--run', '-o', path.join(scratch, 'segv.txt'), '--', 'sh', '-c', 'kill -SEGV $$']);
	t.is(crash.code, 128 + 11);
	t.regex(crash.stderr, /^pdi: sh was killed by SIGSEGV\n$/m);
});

test('pdi inspect without a program prints one usage line and exits 2', async t => {
	const result = await pdi(['inspect']);
	t.is(result.code, 2);
	t.is(result.stdout, '');
	t.regex(result.stderr, /^pdi: missing PROGRAM \(usage: pdi inspect .*\)\n$/);
});

test('pdi inspect of a program that does not exist says so in one line', async t => {
	const missing = await pdi(['inspect', '--', '/no/such/program']);
	t.is(missing.code, 2);
	t.is(missing.stderr, 'pdi: /no/such/program: no such file or directory\n');
	const notInPath = await pdi(['inspect', '--', 'no-such-program-pdi']);
	t.is(notInPath.code, 2);
	t.is(notInPath.stderr, 'pdi: no-such-program-pdi: not found in PATH\n');
});

test('pdi inspect refuses a static binary with one clear line', async t => {
	const result = await pdi(['inspect', '--', path.join(root, 'test/fixtures/out/static/fixprog-static')]);
	t.is(result.code, 2);
	t.regex(result.stderr, /^pdi: .+\/fixprog-static: statically linked; pdi needs a dynamically linked program .*\n$/);
	t.is(result.stderr.split('\n').length, 2);
});

test('pdi inspect tells a shared library from a static program and a static-pie one, and says how to inspect the library', async t => {
	const source = path.join(scratch, 'kinds.c');
	writeFileSync(source, 'int mybe_answer(void) { return 42; }\nint main(void) { return mybe_answer() - 42; }\n');
	const library = path.join(scratch, 'mybe.so');
	execFileSync('gcc', ['-shared', '-fPIC', '-o', library, source]);
	const staticProgram = path.join(scratch, 'static-prog');
	execFileSync('gcc', ['-static', '-o', staticProgram, source]);

	const refused = await pdi(['inspect', '--', './mybe.so'], {cwd: scratch});
	t.is(refused.code, 2);
	t.is(refused.stdout, '');
	t.is(refused.stderr, 'pdi: ./mybe.so: a shared library, not a program: pdi inspect runs a program (to see this library\'s imports: pdi inspect --imports mybe.so -- PROGRAM-THAT-LOADS-IT)\n');
	const traced = await pdi(['trace', '--', library]);
	t.is(traced.stderr, `pdi: ${library}: a shared library, not a program: pdi trace runs a program (to trace this library's calls: pdi trace --object mybe.so -- PROGRAM-THAT-LOADS-IT)\n`);
	const run = await pdi(['run', '--', library]);
	t.is(run.code, 2);
	t.regex(run.stderr, /^pdi: \S+mybe\.so: a shared library, not a program: pdi starts a program \(run one that loads this library\)\n$/);

	// A library that also runs as a program (an interpreter and an entry point: libc.so.6 prints its version) is
	// still a library, named as a file or, not in PATH, by its soname.
	const libc = execFileSync('sh', ['-c', 'ldd /bin/true | sed -n "s/.*libc.so.6 => \\([^ ]*\\).*/\\1/p"'], {encoding: 'utf8'}).trim();
	t.regex(execFileSync('readelf', ['-l', libc], {encoding: 'utf8'}), /INTERP/);
	const result = await pdi(['inspect', '--', libc]);
	t.is(result.code, 2);
	t.is(result.stderr, `pdi: ${libc}: a shared library, not a program: pdi inspect runs a program (to see this library's imports: pdi inspect --imports libc.so.6 -- PROGRAM-THAT-LOADS-IT)\n`);
	const bySoname = await pdi(['inspect', '--', 'libc.so.6']);
	t.is(bySoname.stderr, 'pdi: libc.so.6: not found in PATH (a shared library\'s name? pdi starts a program: name one that loads it)\n');

	const statics = await pdi(['inspect', '--', staticProgram]);
	t.is(statics.code, 2);
	t.is(statics.stderr, `pdi: ${staticProgram}: statically linked; pdi needs a dynamically linked program (LD_PRELOAD has no effect on it)\n`);

	const staticPie = path.join(scratch, 'static-pie-prog');
	try {
		execFileSync('gcc', ['-static-pie', '-fPIE', '-o', staticPie, source], {stdio: 'ignore'});
	} catch {
		t.log('gcc -static-pie is not supported here: that case is not checked');
		return;
	}

	const pie = await pdi(['inspect', '--', staticPie]);
	t.is(pie.code, 2);
	t.is(pie.stderr, `pdi: ${staticPie}: statically linked (static-pie); pdi needs a dynamically linked program (LD_PRELOAD has no effect on it)\n`);
});

test('pdi inspect -c shows a slot taken by an act rule as the act rule at work, and a callback rule\'s as its backend, with the function each stub calls', async t => {
	const source = path.join(scratch, 'actprog.c');
	writeFileSync(source, '#include <stdio.h>\n#include <stdlib.h>\nint main(void) { void *p = malloc(10); printf("%p\\n", p); free(p); return 0; }\n');
	const program = path.join(scratch, 'actprog');
	execFileSync('gcc', ['-o', program, source]);
	const act = path.join(scratch, 'act.cfg');
	writeFileSync(act, 'act $main malloc call=1 return=0\n');
	const text = await pdi(['inspect', '-c', act, '--imports', '$main', '--', program]);
	t.is(text.code, 0, text.stderr);
	t.regex(text.stdout, /jump_slot\s+bound\s+rw\s+malloc@GLIBC_2\.2\.5\s+pdi act -> libc\.so\.6!malloc@GLIBC_2\.2\.5$/m);
	t.notRegex(text.stdout, /malloc@GLIBC_2\.2\.5\s+-$/m);

	const json = await pdi(['inspect', '--json', '-c', act, '--imports', '$main', '--', program]);
	const slots = (JSON.parse(json.stdout) as ProcessReport).objects[0]!.imports!;
	const malloc = slots.find(slot => slot.symbol === 'malloc');
	t.is(malloc?.target, null);
	t.is(malloc?.stub?.rule, 'act');
	t.regex(malloc?.stub?.backend ?? '', /pdi-backend-act\.so$/);
	t.is(malloc?.stub?.calls?.name, 'libc.so.6');
	t.is(malloc?.stub?.calls?.symbol, 'malloc');
	t.true(slots.filter(slot => slot.symbol !== 'malloc').every(slot => slot.stub === null));

	const callback = path.join(scratch, 'callback.cfg');
	writeFileSync(callback, 'backend t = trace\ncallback $main * t\n');
	const traced = await pdi(['inspect', '-c', callback, '--imports', '$main', '--', program]);
	t.is(traced.code, 0, traced.stderr);
	t.regex(traced.stdout, /malloc@GLIBC_2\.2\.5\s+callback pdi-backend-trace\.so -> libc\.so\.6!malloc@GLIBC_2\.2\.5$/m);
	t.regex(traced.stdout, /__libc_start_main@GLIBC_2\.34\s+libc\.so\.6!__libc_start_main@GLIBC_2\.34$/m);

	// A callback over the act rule's stub (as pdi trace --config installs them): both rules, then the function. Before:
	// `callback pdi-backend-trace.so -> -`, the act stub behind the callback's lying in no object.
	const both = await pdi(['inspect', '-c', act, '-c', callback, '--imports', '$main', '--', program]);
	t.is(both.code, 0, both.stderr);
	t.regex(both.stdout, /malloc@GLIBC_2\.2\.5\s+callback pdi-backend-trace\.so -> pdi act -> libc\.so\.6!malloc@GLIBC_2\.2\.5$/m);
	t.regex(both.stdout, /free@GLIBC_2\.2\.5\s+callback pdi-backend-trace\.so -> libc\.so\.6!free@GLIBC_2\.2\.5$/m);
	const bothJson = await pdi(['inspect', '--json', '-c', act, '-c', callback, '--imports', '$main', '--', program]);
	const bothSlots = (JSON.parse(bothJson.stdout) as ProcessReport).objects[0]!.imports!;
	const stacked = bothSlots.find(slot => slot.symbol === 'malloc')?.stub;
	t.is(stacked?.rule, 'callback');
	t.is(stacked?.calls?.symbol, 'malloc');
	t.is(stacked?.over?.rule, 'act');
	t.regex(stacked?.over?.backend ?? '', /pdi-backend-act\.so$/);
	t.is(stacked?.over?.calls?.symbol, 'malloc');
	t.is(stacked?.over?.over, null);
	t.is(bothSlots.find(slot => slot.symbol === 'free')?.stub?.over, null);
});

test('pdi inspect, pdi run and pdi trace refuse a truncated ELF program, saying how short it is, instead of a crash in the loader', async t => {
	// Before: inspect called a program cut in its program headers a shared library, and one cut after them 'killed by
	// SIGSEGV without a report from the pdi core (setuid programs ...)'; run and trace ended with status 139.
	const whole = readFileSync('/bin/true');
	for (const [length, needs] of [[40, '64'], [100, '\\d+'], [3000, '\\d+']] as const) {
		const file = path.join(scratch, `true-cut-${length}`);
		writeFileSync(file, whole.subarray(0, length));
		chmodSync(file, 0o755);
		for (const command of [['inspect'], ['run'], ['trace']]) {
			const result = await pdi([...command, '--', file]);
			t.is(result.code, 2, `${command[0]} ${length}`);
			t.regex(result.stderr, new RegExp(`^pdi: ${file}: a truncated ELF file \\(its headers need ${needs} bytes, the file has ${length}\\)\\n$`), `${command[0]} ${length}`);
		}
	}
});

test('pdi inspect of a program killed before the pdi core was loaded says so, without advice about setuid programs', async t => {
	// A dynamic loader that crashes at once: the program never gets to load the core. Before: 'killed by SIGSEGV
	// without a report from the pdi core (setuid programs and programs that clear LD_PRELOAD cannot be inspected)'.
	const loader = compileC(scratch, 'crashing-loader', 'int main(void) { return *(volatile int *)0; }\n', ['-static', '-O0']);
	const program = compileC(scratch, 'with-crashing-loader', 'int main(void) { return 0; }\n', [`-Wl,--dynamic-linker=${loader}`]);
	const result = await pdi(['inspect', '--', program]);
	t.deepEqual([result.code, result.stderr], [2, `pdi: ${program} was killed by SIGSEGV before the pdi core was loaded, so there is no report\n`]);
});

test('pdi inspect refuses a file that is neither ELF nor a script', async t => {
	// Binary data: a text file without a #! line is a /bin/sh script, as execvp() and shells run it.
	const file = path.join(scratch, 'not-a-program');
	writeFileSync(file, Buffer.from([0x7F, 0x45, 0x4C, 0x00, 0x01, 0x02, 0x0A]));
	chmodSync(file, 0o755);
	const result = await pdi(['inspect', '--', file]);
	t.is(result.code, 2);
	t.is(result.stderr, `pdi: ${file}: not an ELF executable or a script\n`);
});

test('pdi inspect --imports with a pattern that matches nothing fails with exit 1', async t => {
	const result = await pdi(['inspect', '--imports', 'libnothing.so', '--', '/bin/true']);
	t.is(result.code, 1);
	t.is(result.stderr, 'pdi: no loaded object of /bin/true matches \'libnothing.so\'\n');
});

test('an unknown option is a usage error with exit 2', async t => {
	const result = await pdi(['inspect', '--bogus', '--', '/bin/true']);
	t.is(result.code, 2);
	t.regex(result.stderr, /^pdi: unknown option '--bogus'/);
});

test('pdi paths names the preload core, the noop backend and the include directory', async t => {
	const result = await pdi(['paths', '--json']);
	t.is(result.code, 0, result.stderr);
	const paths = JSON.parse(result.stdout) as {preload: string; include: string; backends: Record<string, string>};
	t.regex(paths.preload, /\/pdi-preload\.so$/);
	t.regex(paths.backends['noop'] ?? '', /\/pdi-backend-noop\.so$/);
	t.true(readFileSync(path.join(paths.include, 'pdi/backend.h'), 'utf8').includes('PDI_BE_FUNC_INIT'));
});

test('--imports with a pattern no object can match ($mian, an unclosed [) is refused as trace --object refuses it, status 2, in the CLI and in inspectProgram()', async t => {
	// Was: 'no loaded object of ... matches', status 1, as if the program had merely not loaded it.
	const misspelt = await pdi(['inspect', '--imports', '$mian', '--', '/bin/true']);
	t.deepEqual([misspelt.code, misspelt.stderr], [2, 'pdi: --imports: unknown name \'$mian\' (\'$main\' names the main program; pdi expands no variables)\n']);
	const unclosed = await pdi(['inspect', '--imports', 'lib[c.so*', '--', '/bin/true']);
	t.deepEqual([unclosed.code, unclosed.stderr], [2, 'pdi: --imports: a \'[\' without its closing \']\' in \'lib[c.so*\' (it would match only a name with a \'[\' in it)\n']);
	await t.throwsAsync(inspectProgram('/bin/true', [], {imports: '$mian'}), {instanceOf: PdiError, message: /^imports: unknown name '\$mian'/});
});
