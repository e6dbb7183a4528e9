import {execFileSync} from 'node:child_process';
import {readFileSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {PdiError, PrototypeError, trace as traceApi} from '../src/ts/index.js';
import {parsePrototypes} from '../src/ts/trace/prototypes.js';
import {pdi} from './helpers/cli.js';
import {compileC, scratchDirectory} from './helpers/files.js';
import {fixtures} from './helpers/preload.js';

const traceprog = path.join(fixtures, 'trace', 'traceprog');
const scratch = scratchDirectory('pdi-trace-decode-');
const bareOutput = execFileSync(traceprog, {encoding: 'utf8'});

/** `pdi trace OPTIONS -- PROGRAM` with the trace in a file: the run and the trace's lines. */
async function trace(options: readonly string[], command: readonly string[] = [traceprog], env: NodeJS.ProcessEnv = {}) {
	const file = path.join(scratch, `trace-${Math.random().toString(36).slice(2)}.txt`);
	const run = await pdi(['trace', '-o', file, ...options, '--', ...command], {timeout: 30_000, env: {...process.env, ...env}});
	const lines = run.code === 0 ? readFileSync(file, 'utf8').split('\n').filter(line => line !== '') : [];
	return {run, lines};
}

/** The part of a line after `PID TID  ` (and the timestamp and the indentation). */
function call(line: string): string {
	return line.replace(/^\d+ \d+ {2}(\d+\.\d{6} )?\s*/, '');
}

test('pdi trace -e \'open*,read,close\' -- cat /etc/hostname decodes the file name and the open flags', async t => {
	const {run, lines} = await trace(['-e', 'open*,read,close'], ['cat', '/etc/hostname']);
	t.is(run.code, 0, run.stderr);
	t.is(run.stdout, readFileSync('/etc/hostname', 'utf8'));
	t.true(lines.some(line => /^cat!open(at)?\((AT_FDCWD, )?"\/etc\/hostname", O_RDONLY\) = (\d+)$/.test(call(line))), lines.join('\n'));
	const fd = lines.map(line => /O_RDONLY\) = (\d+)$/.exec(line)?.[1]).find(Boolean);
	t.true(lines.some(line => new RegExp(`^cat!read\\(${fd}, 0x[\\da-f]+, \\d+\\) = [1-9]\\d*$`).test(call(line))), lines.join('\n'));
	t.true(lines.some(line => call(line) === `cat!close(${fd}) = 0`), lines.join('\n'));
	t.deepEqual(lines.filter(line => !/^cat!(open\w*|read|close)\(/.test(call(line))), []);
	const [pid, tid] = lines[0]!.split(' ');
	t.is(pid, tid);
	t.true(lines.every(line => line.startsWith(`${pid} ${tid}  `)));
});

test('strings are quoted, escaped and cut at -s with ...', async t => {
	const cut = await trace(['-s', '8', '-e', 'strlen,access']);
	t.is(cut.run.code, 0, cut.run.stderr);
	t.true(cut.lines.map(call).includes('traceprog!strlen("abcdefgh"...) = 62'), cut.lines.join('\n'));
	t.true(cut.lines.map(call).includes(String.raw`traceprog!access("no\tsuch\n"..., F_OK) = -1 errno ENOENT`), cut.lines.join('\n'));
	const whole = await trace(['-e', 'strlen,access']);
	t.true(whole.lines.map(call).includes('traceprog!strlen("abcdefghijklmnopqrstuvwxyz012345"...) = 62'), whole.lines.join('\n'));
	t.true(whole.lines.map(call).includes(String.raw`traceprog!access("no\tsuch\nfile", F_OK) = -1 errno ENOENT`), whole.lines.join('\n'));
});

test('an invalid string pointer shows as its address, with the errno of the failed call, and the program runs unchanged', async t => {
	const {run, lines} = await trace(['--object', '*']);
	t.is(run.code, 0, run.stderr);
	t.is(run.stdout, bareOutput);
	t.true(lines.map(call).includes('traceprog!access(0x8, F_OK) = -1 errno EFAULT'), lines.join('\n'));
	t.true(lines.some(line => /^traceprog!printf\("access %d %s\\n", \.\.\.\) = 17$/.test(call(line))), lines.join('\n'));
	// Where process_vm_readv is refused, strings are probed through a pipe: the same text.
	const probed = await trace(['--object', '*'], [traceprog], {PDI_TRACE_PROBE: 'pipe'});
	t.is(probed.run.stdout, bareOutput);
	t.deepEqual(probed.lines.map(call).filter(line => !/0x[\da-f]{6,}/.test(line)), lines.map(call).filter(line => !/0x[\da-f]{6,}/.test(line)));
});

test('common libm functions are decoded from the built-in table: double and float arguments and results, an int and a pointer among them', async t => {
	const mathprog = path.join(fixtures, 'trace', 'mathprog');
	const {run, lines} = await trace(['-e', '!printf'], [mathprog]);
	t.is(run.code, 0, run.stderr);
	t.is(run.stdout, execFileSync(mathprog, {encoding: 'utf8'}));
	const calls = lines.map(call).map(line => line.replace(/0x[\da-f]+/, 'PTR'));
	t.deepEqual(calls, [
		'mathprog!sqrt(2) = 1.41421',
		'mathprog!pow(2, 10) = 1024',
		'mathprog!floor(8.5) = 8',
		'mathprog!fabs(-0.5) = 0.5',
		'mathprog!atan2(0.5, 2) = 0.244979',
		'mathprog!sqrtf(9) = 3',
		'mathprog!ldexp(0.5, 3) = 4',
		'mathprog!frexp(8, PTR) = 0.5',
	]);
});

test('fma, lgamma, lround and ilogb are decoded too: three double arguments, a long result, an int result', async t => {
	// Before: not in the table, so shown as registers: 'fma(0x35, 0x0, 0x0) = 0x5', 'lgamma(0x8, 0x0, 0x0) = 0x3fe8000000000000'.
	const program = compileC(scratch, 'moremath', `#include <math.h>
#include <stdio.h>
__attribute__((noinline)) double fused(double x, double y, double z) { return fma(x, y, z); }
int main(void) {
  volatile double five = 5.0, rounded = 2.6, power = 1024.0;
  printf("%g %g %ld %d\\n", fused(2, 3, 4), lgamma(five), lround(rounded), ilogb(power));
  return 0;
}
`, ['-O2', '-lm']);
	const {run, lines} = await trace(['-e', '!printf'], [program]);
	t.is(run.code, 0, run.stderr);
	t.is(run.stdout, '10 3.17805 3 10\n');
	t.deepEqual(lines.map(call).sort(), ['moremath!fma(2, 3, 4) = 10', 'moremath!ilogb(1024) = 10', 'moremath!lgamma(5) = 3.17805', 'moremath!lround(2.6) = 3'].sort());
});

test('--prototypes decodes the fixture library\'s own function; without it, registers in hex', async t => {
	const file = path.join(scratch, 'tracelib.h');
	writeFileSync(file, '# the fixture library\n\nint tl_greet(const char *name, int count); # strlen(name) * count\n');
	const decoded = await trace(['--prototypes', file, '-e', 'tl_*']);
	t.is(decoded.run.code, 0, decoded.run.stderr);
	t.deepEqual(decoded.lines.map(call), ['traceprog!tl_greet("world", 3) = 15']);
	const raw = await trace(['--args', '2', '-e', 'tl_*']);
	t.regex(call(raw.lines[0]!), /^traceprog!tl_greet\(0x[\da-f]+, 0x3\) = 0xf$/);
});

test('--prototypes errors name the option and FILE:LINE:COL, and trace()\'s name its prototypes option', async t => {
	const file = path.join(scratch, 'bad.h');
	writeFileSync(file, 'int good(int x);\n\nint bad(struct point p);\n');
	const result = await pdi(['trace', '--prototypes', file, '--', traceprog]);
	t.is(result.code, 2);
	t.is(result.stderr, `pdi: --prototypes: ${file}:3:9: 'struct point' passed by value cannot be decoded (pass a pointer, or declare it void *)\n`);
	const missing = await pdi(['trace', '--prototypes', path.join(scratch, 'none.h'), '--', traceprog]);
	t.is(missing.stderr, `pdi: --prototypes: ${path.join(scratch, 'none.h')}: no such file or directory\n`);
	t.throws(() => traceApi(traceprog, [], {prototypes: file}), {message: `prototypes: ${file}:3:9: 'struct point' passed by value cannot be decoded (pass a pointer, or declare it void *)`});
});

test('trace()\'s prototype-file error is a PrototypeError exported by pdi, a PdiError, with the file, line and column of the declaration (it was named PrototypeError and not exported)', t => {
	const file = path.join(scratch, 'bad-place.h');
	writeFileSync(file, 'int good(int x);\n\nint bad(struct point p);\n');
	const error = t.throws(() => traceApi(traceprog, [], {prototypes: file}), {instanceOf: PrototypeError});
	t.true(error instanceof PdiError);
	t.is(error?.name, 'PrototypeError');
	t.like(error, {file, line: 3, column: 9, message: `prototypes: ${file}:3:9: 'struct point' passed by value cannot be decoded (pass a pointer, or declare it void *)`});
	// A file that cannot be read is a PdiError, not a PrototypeError: it has no line.
	const missing = t.throws(() => traceApi(traceprog, [], {prototypes: path.join(scratch, 'none.h')}), {instanceOf: PdiError});
	t.false(missing instanceof PrototypeError);
});

test('an abandoned call (left by longjmp) has ret and errno null, as CallEvent\'s abandoned: true alternative types it', async t => {
	const {calls, done} = traceApi(path.join(fixtures, 'callback', 'cbprog'), ['longjmp'], {functions: 'cb_longjmp', stdio: 'ignore'});
	const events = [];
	for await (const event of calls) {
		events.push(event);
	}

	t.is((await done).status, 0);
	t.is(events.length, 1);
	const [event] = events;
	t.like(event, {function: 'cb_longjmp', abandoned: true, ret: null, errno: null});
	if (event?.abandoned) {
		const ret: null = event.ret;
		const errno: null = event.errno;
		t.deepEqual([ret, errno], [null, null]);
	}
});

test('the prototype parser maps C types to the backend\'s kinds', t => {
	const text = 'const char *f(char const *a, char *b, unsigned long c, size_t d, long long e, unsigned char g, FILE *h, double i, float j, enum e k, _Bool l, int m[], ...);\nvoid g(void);\n';
	t.deepEqual(parsePrototypes(text, 'p.h'), [{name: 'f', spec: 'sspzz8Ypdgibp.'}, {name: 'g', spec: 'v'}]);
	// 64 bits on every architecture ('8', '9': two stack words on i386), where long and off_t follow the ABI ('l').
	const wide = 'unsigned long long w(long long int a, int64_t b, uint64_t c, intmax_t d, uintmax_t e, off64_t f, long g, off_t h, long unsigned long i);';
	t.deepEqual(parsePrototypes(wide, 'p.h'), [{name: 'w', spec: '9889898ll9'}]);
	for (const [bad, message] of [
		['int f(my_t x);', 'p.h:1:7: unknown type \'my_t\' (use a C base type, or void * for pointers)'],
		['int f(int x)', 'p.h:1:13: missing \';\''],
		['int f(int (*cb)(int));', 'p.h:1:11: function pointers cannot be decoded (declare the parameter void *)'],
		['int f(...);', 'p.h:1:7: \'...\' must be the last parameter, after a named one'],
		['int f(int a, long double x);', 'p.h:1:14: \'long double\' is not supported (integers, pointers, float and double are)'],
		['long double f(int a);', 'p.h:1:1: \'long double\' is not supported (integers, pointers, float and double are)'],
		['int f(int x);\nint f(int y);', 'p.h:2:5: \'f\' is already declared on line 1'],
	] as const) {
		t.throws(() => parsePrototypes(bad, 'p.h'), {message});
	}
});

test('--prototypes refuses type words that make no C type, at the word that makes them none, before and after the name', async t => {
	const file = path.join(scratch, 'bp.h');
	writeFileSync(file, 'short long nm(int i);\n');
	const result = await pdi(['trace', '--prototypes', file, '--', traceprog]);
	t.is(result.code, 2);
	t.is(result.stderr, `pdi: --prototypes: ${file}:1:7: 'short long' is not a type\n`);
	for (const [bad, column, words] of [
		['long long long f(void);', 11, 'long long long'], ['int int f(void);', 5, 'int int'],
		['char char f(void);', 6, 'char char'], ['unsigned unsigned f(void);', 10, 'unsigned unsigned'],
		['signed signed f(void);', 8, 'signed signed'], ['int f(signed unsigned x);', 14, 'signed unsigned'],
		['short char f(void);', 7, 'short char'], ['int f(long char c);', 12, 'long char'],
		['int f(short double);', 13, 'short double'], ['unsigned double f(void);', 10, 'unsigned double'],
		['int f(long float x);', 12, 'long float'], ['const char *nm(_Bool unsigned i);', 22, '_Bool unsigned'],
		['unsigned long int long long f(void);', 24, 'unsigned long int long long'], ['size_t int f(void);', 8, 'size_t int'],
		['struct s unsigned *f(void);', 10, 'struct s unsigned'], ['void _Complex f(void);', 6, 'void _Complex'],
	] as const) {
		t.throws(() => parsePrototypes(bad, 'bp.h'), {message: `bp.h:1:${column}: '${words}' is not a type`}, bad);
	}
});

test('--prototypes refuses complex types at _Complex and long double at long, whichever order the words come in', t => {
	const unsupported = 'is not supported (integers, pointers, float and double are)';
	for (const [bad, column, words] of [
		['_Complex double f(void);', 1, '_Complex double'], ['double _Complex f(void);', 8, 'double _Complex'],
		['int f(float _Complex z);', 13, 'float _Complex'], ['long double _Complex f(void);', 13, 'long double _Complex'],
		['double long f(void);', 8, 'long double'], ['int f(double const long x);', 20, 'long double'],
	] as const) {
		t.throws(() => parsePrototypes(bad, 'bp.h'), {message: `bp.h:1:${column}: '${words}' ${unsupported}`}, bad);
	}

	t.throws(() => parsePrototypes('int f(int *unsigned);', 'bp.h'), {message: 'bp.h:1:12: unexpected \'unsigned\''});
});

test('--prototypes takes C\'s type words in any order C allows, with qualifiers anywhere among them', t => {
	const text = 'long unsigned int f(int long long unsigned a, char signed b, unsigned c, int short d, long const volatile e, '
		+ 'const unsigned const char g, signed h, unsigned size_t, size_t i, short unsigned int j, long int signed k);\n'
		+ 'int const long long unsigned g(unsigned long x);\nchar unsigned h(void);\n';
	t.deepEqual(parsePrototypes(text, 'bp.h'), [
		{name: 'f', spec: 'z9Cuhl' + 'YiuzHl'}, {name: 'g', spec: '9z'}, {name: 'h', spec: 'Y'},
	]);
});

test('--prototypes results narrower than int show only their own bits: the callee leaves the rest of the register as it was', async t => {
	// At -O2 each function returns its argument's register with only the low bits meaning something: eax holds 0x200
	// for (unsigned char)0x200, 0x12345 for (short)0x12345. Before, those were shown whole (512, 74565).
	const narrow = ['unsigned char to_uchar(unsigned x)', 'signed char to_schar(unsigned x)', 'char to_char(unsigned x)',
		'short to_short(unsigned x)', 'unsigned short to_ushort(unsigned x)', 'uint8_t to_u8(unsigned x)', 'int16_t to_i16(unsigned x)'];
	const library = compileC(scratch, 'libnarrow.so', `#include <stdint.h>\n${narrow.map(f => `${f} { return x; }\n`).join('')}`, ['-O2', '-shared', '-fPIC']);
	const calls = [['to_uchar', 0x2_00, '0'], ['to_schar', 0x1_ff, '-1'], ['to_char', 0x1_41, '\'A\''], ['to_short', 0x1_23_45, '9029'],
		['to_ushort', 0x3_ff_fe, '65534'], ['to_u8', 0x1_80, '128'], ['to_i16', 0x1_80_00, '-32768']] as const;
	const program = compileC(scratch, 'narrow', `#include <stdint.h>\n#include <stdio.h>\n${narrow.map(f => `${f};\n`).join('')}int main(void) {\n${calls.map(([name, x]) => `\tprintf("%d\\n", (int)${name}(${x}));\n`).join('')}\treturn 0;\n}\n`, ['-L', scratch, '-l:libnarrow.so', `-Wl,-rpath,${path.dirname(library)}`]);
	const header = path.join(scratch, 'narrow.h');
	writeFileSync(header, narrow.map(f => `${f};\n`).join(''));
	const {run, lines} = await trace(['--prototypes', header, '-e', 'to_*'], [program]);
	t.is(run.code, 0, run.stderr);
	t.is(run.stdout, '0\n-1\n65\n9029\n65534\n128\n-32768\n');
	t.deepEqual(lines.map(call), calls.map(([name, x, shown]) => `narrow!${name}(${x}) = ${shown}`));
});

test('pipe2, dup3 and accept4 flags show as the flags they take: no O_RDONLY access mode, 0 as 0', async t => {
	// Before, pipe2 and dup3 took open's kind (pipe2(p, O_RDONLY|O_CLOEXEC), a 0 as O_RDONLY) and accept4's 0 was 0x0.
	const program = compileC(scratch, 'fdflags', `#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>
int main(void) {
	int p[2];
	pipe2(p, O_CLOEXEC); pipe2(p, 0); pipe2(p, O_NONBLOCK | O_CLOEXEC); dup3(p[0], 20, O_CLOEXEC);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	accept4(s, 0, 0, SOCK_CLOEXEC | SOCK_NONBLOCK); accept4(s, 0, 0, 0);
	return 0;
}
`);
	const {run, lines} = await trace(['-e', 'pipe2,dup3,accept4'], [program]);
	t.is(run.code, 0, run.stderr);
	t.deepEqual(lines.map(line => call(line).replace(/0x[\da-f]+/, 'P').replace(/\(\d+, /, '(N, ')), [
		'fdflags!pipe2(P, O_CLOEXEC) = 0', 'fdflags!pipe2(P, 0) = 0', 'fdflags!pipe2(P, O_NONBLOCK|O_CLOEXEC) = 0', 'fdflags!dup3(N, 20, O_CLOEXEC) = 20',
		'fdflags!accept4(N, NULL, NULL, SOCK_NONBLOCK|SOCK_CLOEXEC) = -1 errno EINVAL', 'fdflags!accept4(N, NULL, NULL, 0) = -1 errno EINVAL',
	]);
});

test('--prototypes double and float arguments past the eighth are read from their stack words', async t => {
	// Ten floating-point arguments: the ninth and the tenth are on the stack. Before, both showed as 0, with a warning
	// of the core that the backend read past the last floating-point register.
	const declaration = 'long spill(double a1, double a2, double a3, double a4, double a5, double a6, double a7, double a8, double a9, '
		+ 'int i1, float a10, const char *s)';
	const library = compileC(scratch, 'libspill.so', `${declaration} { return (long)(a1 + a9 + a10) + i1 + s[0]; }\n`, ['-O2', '-shared', '-fPIC']);
	const program = compileC(scratch, 'spill', `#include <stdio.h>\n${declaration};\nint main(void) {\n\tprintf("%ld\\n", spill(1, 2, 3, 4, 5, 6, 7, 8, 9.5, 11, 10.25f, "stacked"));\n\treturn 0;\n}\n`, ['-L', scratch, '-l:libspill.so', `-Wl,-rpath,${path.dirname(library)}`]);
	const header = path.join(scratch, 'spill.h');
	writeFileSync(header, `${declaration};\n`);
	const {run, lines} = await trace(['--prototypes', header, '-e', 'spill'], [program]);
	t.is(run.code, 0, run.stderr);
	t.is(run.stderr, '');
	t.is(run.stdout, '146\n');
	t.deepEqual(lines.map(call), ['spill!spill(1, 2, 3, 4, 5, 6, 7, 8, 9.5, 11, 10.25, "stacked") = 146']);
});

test('declarations pasted from a header keep their C comments and storage classes: // and /* */ (over lines too) are comments, static and inline are ignored; an open comment is an error at its start', t => {
	const text = '// my library\n/* one\n   two */ int f(const char *name /* who */, int count); // trailing\nstatic inline double g(double x);\n';
	t.deepEqual(parsePrototypes(text, 'p.h'), [{name: 'f', spec: 'isi'}, {name: 'g', spec: 'dd'}]);
	t.throws(() => parsePrototypes('int f(int x);\nint g(int y); /* never closed\n', 'p.h'), {message: 'p.h:2:15: a comment \'/*\' without its \'*/\''});
	// Columns after a comment are still the line's own.
	t.throws(() => parsePrototypes('/* c */ int f(my_t x);', 'p.h'), {message: 'p.h:1:15: unknown type \'my_t\' (use a C base type, or void * for pointers)'});
});

test('-e exclusions and @OBJECT select by function name and callee object, at every object', async t => {
	const none = await trace(['-e', '!*', '--object', '*']);
	t.is(none.run.code, 0, none.run.stderr);
	t.is(none.run.stdout, bareOutput);
	t.deepEqual(none.lines, []);
	const noStrings = await trace(['-e', '!str*,!printf']);
	t.true(noStrings.lines.length > 0);
	t.deepEqual(noStrings.lines.filter(line => /!(str\w*|printf)\(/.test(line)), []);
	const libc = await trace(['-e', '*@libc.so.6', '--object', '$main']);
	t.true(libc.lines.some(line => call(line).startsWith('traceprog!qsort(')));
	t.deepEqual(libc.lines.filter(line => line.includes('tl_greet')), []);
	const both = await trace(['--object', '$main', '--object', 'libtracelib.so', '-e', 'strlen']);
	t.deepEqual(both.lines.map(line => call(line).replace(/\(.*/, '')), ['traceprog!strlen', 'libtracelib.so!strlen']);
	const own = await trace(['-e', '*@libtracelib.so']);
	t.deepEqual(own.lines.map(line => call(line).replace(/\(.*/, '')), ['traceprog!tl_greet']);
});

test('-T and -t show durations and start times in seconds, µs resolution', async t => {
	const {run, lines} = await trace(['-T', '-t', '-e', 'qsort,strcmp']);
	t.is(run.code, 0, run.stderr);
	const parsed = lines.map(line => /^\d+ \d+ {2}(\d+\.\d{6}) +traceprog!(\w+)\(.*\) = .* <(\d+\.\d{6})>$/.exec(line));
	t.true(parsed.every(Boolean), lines.join('\n'));
	const calls = parsed.map(match => ({start: Number(match![1]), name: match![2], duration: Number(match![3])}));
	t.deepEqual(calls.map(entry => entry.name), ['strcmp', 'strcmp', 'strcmp', 'qsort']);
	const qsort = calls.at(-1)!;
	for (const entry of calls) {
		t.true(entry.start < 10 && entry.duration < 10);
		t.true(entry.start >= qsort.start && entry.start + entry.duration <= qsort.start + qsort.duration + 0.000_002);
	}
});

test('calls are indented by depth; --depth 0 keeps only the outermost', async t => {
	const all = await trace(['-e', 'qsort,strcmp']);
	t.is(all.lines.length, 4);
	t.true(all.lines.slice(0, 3).every(line => /^\d+ \d+ {4}traceprog!strcmp\("\w+", "\w+"\) = -?\d+$/.test(line)), all.lines.join('\n'));
	t.regex(all.lines[3]!, /^\d+ \d+ {2}traceprog!qsort\(0x[\da-f]+, 3, 8, 0x[\da-f]+\) = void$/);
	const outer = await trace(['--depth', '0', '-e', 'qsort,strcmp']);
	t.is(outer.run.stdout, bareOutput);
	t.deepEqual(outer.lines.map(line => call(line).replace(/\(.*/, '')), ['traceprog!qsort']);
	const nested = await trace(['--depth', '1', '--object', '*', '-e', 'tl_greet,strlen']);
	t.true(nested.lines.some(line => /^\d+ \d+ {4}libtracelib\.so!strlen\("world"\) = 5$/.test(line)), nested.lines.join('\n'));
});

test('pdi trace refuses bad -s, --depth, -e and --object values in one line', async t => {
	for (const [args, message] of [
		[['--object', ''], 'pdi: --object: expected an object pattern ($main, a soname, a path or a glob) on one line, got ""\n'],
		[['--object', '$main', '--object', 'a\nb'], 'pdi: --object: expected an object pattern ($main, a soname, a path or a glob) on one line, got "a\\nb"\n'],
		[['-s', 'x'], 'pdi: -s: expected 0 to 4096, got \'x\'\n'],
		[['--depth', '-1'], 'pdi: --depth: expected 0 to 1000000, got \'-1\'\n'],
		[['-e', 'a,,b'], 'pdi: -e: \'\' in \'a,,b\' is not a pattern (GLOB, !GLOB, GLOB@OBJECT)\n'],
		[['-e', ''], 'pdi: -e: expected at least one pattern (GLOB, !GLOB, GLOB@OBJECT), got \'\'; leave it out to trace every function\n'],
		[['-e', 'a@'], 'pdi: -e: \'a@\' in \'a@\' is not a pattern (GLOB, !GLOB, GLOB@OBJECT)\n'],
		[['-e', 'qsort,str[a-z'], 'pdi: -e: \'str[a-z\' in \'qsort,str[a-z\' is not a glob: a \'[\' without its closing \']\'\n'],
		[['-e', '!strcmp@libc.so[6'], 'pdi: -e: \'!strcmp@libc.so[6\' in \'!strcmp@libc.so[6\' is not a glob: a \'[\' without its closing \']\'\n'],
		[['-e', 'strcmp\\'], 'pdi: -e: \'strcmp\\\' in \'strcmp\\\' is not a glob: it ends in a lone \'\\\'\n'],
	] as const) {
		const result = await pdi(['trace', ...args, '--', traceprog]);
		t.is(result.code, 2);
		t.is(result.stderr, message);
	}

	const brackets = await trace(['-e', 'q[!a-r]ort,str[[:lower:]]mp,\\[,[]x]']);
	t.deepEqual(brackets.lines.map(line => call(line).replace(/\(.*/, '')), [...Array.from({length: 3}, () => 'traceprog!strcmp'), 'traceprog!qsort']);
});

test('open, mmap and socket arguments show as flag names', async t => {
	const target = path.join(scratch, 'created');
	const script = `import os, socket; os.open(${JSON.stringify(target)}, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o640); socket.socket(socket.AF_INET, socket.SOCK_STREAM)`;
	const {run, lines} = await trace(['-s', '256', '-e', 'open*,mmap*,socket'], ['/usr/bin/python3', '-c', script]);
	t.is(run.code, 0, run.stderr);
	const calls = lines.map(call);
	t.true(calls.some(line => new RegExp(`!open(64)?\\("${target}", O_WRONLY\\|O_CREAT\\|O_TRUNC\\|O_CLOEXEC, 0640\\) = \\d+$`).test(line)), calls.join('\n'));
	t.true(calls.some(line => /!socket\(AF_INET, SOCK_STREAM\|SOCK_CLOEXEC, IPPROTO_IP\) = \d+$/.test(line)), calls.join('\n'));
	t.true(calls.some(line => /!mmap(64)?\(NULL, \d+, PROT_READ\|PROT_WRITE, MAP_PRIVATE\|MAP_ANONYMOUS, -1, 0\) = 0x[\da-f]+$/.test(line)), calls.join('\n'));
});

test('a function named by -e that the traced objects reach only through a pointer slot gets one line saying so, in text, in --json (on stderr, outside the JSON lines) and in -c; a glob gets none', async t => {
	const pointer = path.join(fixtures, 'trace', 'pointer');
	const text = await pdi(['trace', '-e', 'labs,puts', '--', pointer], {timeout: 30_000});
	t.is(text.code, 0, text.stderr);
	t.is(text.stdout, 'pointer\nlabs=5\n');
	t.regex(text.stderr, /^\d+ \d+ {2}pointer!puts\("pointer"\) = \d+$/m);
	const notice = /^pdi: trace: labs: process \d+ has no call site of it to trace \(it does not import it, or only takes its address from a pointer slot, GLOB_DAT, which is not traced: docs\/trace\.md, "What is traced, and what is not"\)$/m;
	t.regex(text.stderr, notice);
	t.is(text.stderr.split('\n').filter(line => line.startsWith('pdi: ')).length, 1);
	const jsonFile = path.join(scratch, 'notice-calls.ndjson');
	const json = await pdi(['trace', '--json', '-o', jsonFile, '-e', 'labs,puts', '--', pointer], {timeout: 30_000});
	t.is(json.code, 0, json.stderr);
	t.regex(json.stderr, notice);
	t.is(json.stderr.split('\n').filter(line => line.startsWith('pdi: ')).length, 1, 'on stderr, once');
	const events = readFileSync(jsonFile, 'utf8').trimEnd().split('\n').map(line => JSON.parse(line) as {function: string});
	t.deepEqual(events.map(event => event.function), ['puts'], 'the JSON lines hold calls only');
	const summary = await pdi(['trace', '-c', '-e', 'labs,puts', '--', pointer], {timeout: 30_000});
	t.is(summary.code, 0, summary.stderr);
	t.regex(summary.stderr, /^puts\s+1\s/m);
	t.regex(summary.stderr, /^pdi: trace: labs: no call of it was traced \(no traced object imports it, or they only take its address from a pointer slot, GLOB_DAT, which is not traced: docs\/trace\.md, "What is traced, and what is not"\)$/m);
	const glob = await pdi(['trace', '-e', 'lab*,puts', '--', pointer], {timeout: 30_000});
	t.is(glob.code, 0, glob.stderr);
	t.notRegex(glob.stderr, /^pdi: /m);
});

/** value as one word of sh. */
const shellQuote = (value: string): string => `'${value.replaceAll('\'', '\'\\\'\'')}'`;

test('with -f such a notice is said once for the whole tree, at the end, and only of a name no followed process had a call site of: not by each program that does not import it', async t => {
	const pointer = path.join(fixtures, 'trace', 'pointer');
	// sh calls fork, pointer calls puts and takes labs's address only, echo and cat have neither.
	const result = await pdi(['trace', '-f', '-e', 'labs,puts,fork', '--', 'sh', '-c', `${shellQuote(pointer)}; echo x | cat; true`], {timeout: 30_000});
	t.is(result.code, 0, result.stderr);
	t.is(result.stdout, 'pointer\nlabs=5\nx\n');
	t.regex(result.stderr, /^\d+ \d+ {2}pointer!puts\("pointer"\) = \d+$/m);
	t.deepEqual(result.stderr.split('\n').filter(line => line.startsWith('pdi: ')), [
		'pdi: trace: labs: no traced process had a call site of it (none imports it, or they only take its address from a pointer slot, GLOB_DAT, which is not traced: docs/trace.md, "What is traced, and what is not")',
	]);
	const json = await pdi(['trace', '-f', '--json', '-o', path.join(scratch, 'tree.ndjson'), '-e', 'labs,puts,fork', '--', 'sh', '-c', `${shellQuote(pointer)}; echo x | cat; true`], {timeout: 30_000});
	t.is(json.code, 0, json.stderr);
	t.is(json.stderr.split('\n').filter(line => line.startsWith('pdi: ')).length, 1, json.stderr);
});
