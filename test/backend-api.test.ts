import path from 'node:path';
import test from 'ava';
import {pdi} from './helpers/cli.js';
import {fixtures, runBare, runPreloaded, testArch, writeConfig} from './helpers/preload.js';
import {textValue} from './helpers/quote.js';

const directory = path.join(fixtures, 'backend');
const beprog = path.join(directory, 'beprog');
const probe = `backend p = ${textValue(path.join(directory, 'be-probe-backend.so'))}`;

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

test('an act rule\'s return=double:X reaches the caller of a function returning float (strtof, sinf) as that float, and of one returning double as that double; a delay of 2.5 s delays it on every architecture', async t => {
	// Before, on x86-64 and aarch64: the double's bits went where a float is read, and the caller got 0.
	const bare = await runBare(beprog, ['floats']);
	t.is(bare.stdout, 'strtof=0.5 sinf=0.479426 cbrt=2\n');
	const run = await runPreloaded(beprog, ['floats'], writeConfig(['act $main strtof return=double:0.25', 'act $main sinf return=double:-1.5', 'act $main cbrt return=double:9']));
	t.is(run.code, 0, run.stderr);
	t.is(run.stdout, 'strtof=0.25 sinf=-1.5 cbrt=9\n');
	// A delay past 2.1 s: on i386 its nanoseconds overflowed a 32-bit long, and the call was not delayed at all.
	const started = Date.now();
	const delayed = await runPreloaded(beprog, ['floats'], writeConfig(['act $main cbrt delay=2500ms']));
	t.is(delayed.stdout, bare.stdout, delayed.stderr);
	t.true(Date.now() - started >= 2500, `${Date.now() - started} ms`);
});

test('pdi_ret_double reads a long double result (strtold) rounded and pdi_set_ret_double replaces it, where it is on the x87 stack (x86-64, i386); aarch64\'s 128-bit one reads 0 and is left alone', async t => {
	t.is((await runBare(beprog, ['longdouble'])).stdout, 'strtold=1.25\n');
	const run = await probed('longdouble', 'longdouble');
	t.is(run.code, 0, run.stderr);
	// Before, on x86-64: pdi_ret_double read xmm0 (0), and pdi_set_ret_double wrote xmm0, which a long double caller never reads.
	const x87 = testArch !== 'aarch64';
	t.is(run.stdout, x87 ? 'strtold=3.5\n' : 'strtold=1.25\n');
	t.regex(run.stderr, new RegExp(`^probe: mode=longdouble hooks=\\d+ ret=0 ret_double=${x87 ? '1.25' : '0'} `, 'm'));
});

test('a backend whose reference to a pdi helper is not weak is refused when it loads, saying how to declare it', async t => {
	const strong = path.join(directory, 'be-strong-helper-backend.so');
	const run = await runPreloaded(beprog, ['calls'], writeConfig([`backend s = ${textValue(strong)}`, 'callback $main * s']));
	t.is(run.code, 2);
	t.is(run.stdout, '');
	t.regex(run.stderr, /^pdi: \S+rules\.cmd:1:13: backend 's': cannot load .+\/be-strong-helper-backend\.so: its reference to pdi_cb_target is not weak: pdi binds its helpers after the backend loads \(<pdi\/backend\.h> declares them weak; in assembly, add \.weak pdi_cb_target\)$/m);
});

test('a backend calling a function that nothing defines is refused when it loads, naming the file and the function, before the program runs', async t => {
	const undefinedBackend = path.join(directory, 'be-undefined-backend.so');
	const run = await runPreloaded(beprog, ['calls'], writeConfig([`backend u = ${textValue(undefinedBackend)}`, 'relink $main be_int u wrap_be_int']));
	t.is(run.code, 2);
	t.is(run.stdout, '');
	t.regex(run.stderr, new RegExp(`^pdi: \\S+rules\\.cmd:1:13: backend 'u': cannot load .+\\/be-undefined-backend\\.so: it calls 'be_no_such_function', which no loaded object defines \\(a misspelt name, or a library it needs not linked with -l\\); declare it weak to bind it at its first call$`, 'm'));
	const warned = await runPreloaded(beprog, ['calls'], writeConfig([`backend u = ${textValue(undefinedBackend)}`, 'relink $main be_int u wrap_be_int'], ['on_error = warn']));
	t.is(warned.code, 0, warned.stderr);
	t.regex(warned.stdout, /^be_int=2$/m);
	t.regex(warned.stderr, /be_no_such_function.*\(backend skipped\)$/m);
});

test('a backend whose call to an undefined function is a weak reference loads, and its other wrappers work', async t => {
	const run = await runPreloaded(beprog, ['calls'], writeConfig([`backend w = ${textValue(path.join(directory, 'be-weak-backend.so'))}`, 'relink $main be_int w wrap_be_int']));
	t.is(run.code, 0, run.stderr);
	t.regex(run.stdout, /^be_int=102$/m);
});

test('pdi run exits with status 2 for a backend calling a function that nothing defines; pdi config check, which does not know the program\'s objects, passes it', async t => {
	const config = writeConfig([`backend u = ${textValue(path.join(directory, 'be-undefined-backend.so'))}`, 'relink $main be_int u wrap_be_int']);
	const run = await pdi(['run', '-c', config, '--', beprog, 'calls']);
	t.is(run.code, 2);
	t.is(run.stdout, '');
	t.regex(run.stderr, /^pdi: \S+rules\.cmd:1:13: backend 'u': cannot load .+\/be-undefined-backend\.so: it calls 'be_no_such_function', which no loaded object defines/m);
	t.is((await pdi(['config', 'check', config])).code, 0);
});

/** The exit report's warning lines about `helper`, the backend named as the config names it. */
function warnings(stderr: string, helper: string): string[] {
	return stderr.split('\n').filter(line => line.startsWith('pdi: warning: callback: backend \'p\' (') && line.includes(`be-probe-backend.so) called ${helper} `));
}

const lastArgument = testArch === 'i386' ? '63: 64 stack words' : (testArch === 'aarch64' ? '71: 8 registers and 64 stack words' : '69: 6 registers and 64 stack words');

test('the result helpers in pre and the argument and skip helpers in post read 0 or do nothing, and the exit report counts each, naming the backend', async t => {
	const run = await probed('calls', 'wrong');
	t.is(run.code, 0, run.stderr);
	t.is(run.stdout, (await runBare(beprog, ['calls'])).stdout);
	t.regex(run.stderr, /^probe: mode=wrong hooks=5 ret=0 ret_double=0 arg=0 /m);
	const result = ': a call\'s result is there in its post hook only';
	for (const read of ['pdi_ret_int', 'pdi_ret_double', 'pdi_ret_int64']) {
		t.deepEqual(warnings(run.stderr, read).map(line => line.replace(/^.*\) called /, '')), [`${read} 1 time in a pre hook, where it reads 0${result}`]);
	}

	for (const set of ['pdi_set_ret_int', 'pdi_set_ret_int64']) {
		t.deepEqual(warnings(run.stderr, set).map(line => line.replace(/^.*\) called /, '')), [`${set} 1 time in a pre hook, where it does nothing${result}`]);
	}

	const argument = ': a call\'s arguments are there in its pre hook only';
	t.deepEqual(warnings(run.stderr, 'pdi_arg_int').map(line => line.replace(/^.*\) called /, '')), [`pdi_arg_int 1 time in a post hook, where it reads 0${argument}`]);
	t.deepEqual(warnings(run.stderr, 'pdi_set_arg_int').map(line => line.replace(/^.*\) called /, '')), [`pdi_set_arg_int 1 time in a post hook, where it does nothing${argument}`]);
	for (const skip of ['pdi_skip_int', 'pdi_skip_double', 'pdi_skip_int64']) {
		t.deepEqual(warnings(run.stderr, skip).map(line => line.replace(/^.*\) called /, '')), [`${skip} 1 time in a post hook, where it does nothing: a call is skipped from its pre hook only`]);
	}
});

test('an argument index past the registers and 64 stack words reads 0 and changes nothing, and the exit report counts it; the last stack argument still reads', async t => {
	const run = await probed('calls', 'far');
	t.is(run.code, 0, run.stderr);
	t.is(run.stdout, (await runBare(beprog, ['calls'])).stdout);
	t.regex(run.stderr, /^probe: mode=far hooks=5 ret=0 ret_double=0 arg=10 far=0 huge=0 far_double=0 /m);
	// Under qemu-user, process_vm_readv does not reach the guest's memory: there a read of the caller's frame on
	// another 4 KiB than the return address is taken as outside the stack (0, counted), never a crash.
	const inFrame = (line: string) => !testArch || !line.includes('outside the caller\'s stack');
	t.deepEqual(warnings(run.stderr, 'pdi_arg_int').filter(line => inFrame(line)).map(line => line.replace(/^.*\) called /, '')), [`pdi_arg_int 2 times with argument 100, past the last it reaches (${lastArgument}), where it reads 0`]);
	t.deepEqual(warnings(run.stderr, 'pdi_set_arg_int').map(line => line.replace(/^.*\) called /, '')), [`pdi_set_arg_int 2 times with argument 100, past the last it reaches (${lastArgument}), where it does nothing`]);
	t.deepEqual(warnings(run.stderr, 'pdi_arg_double').map(line => line.replace(/^.*\) called /, '')), ['pdi_arg_double 1 time with argument 9, past the last it reaches (7), where it reads 0']);
});

test('the floating-point argument helpers change be_double\'s argument where it travels in a register; on i386, where none does, they read 0, change nothing and the exit report says so', async t => {
	const run = await probed('calls', 'double');
	t.is(run.code, 0, run.stderr);
	const bare = (await runBare(beprog, ['calls'])).stdout;
	const lines = (helper: string) => warnings(run.stderr, helper).map(line => line.replace(/^.*\) called /, ''));
	if (testArch !== 'i386') {
		t.is(run.stdout, bare.replace('be_double=3\n', 'be_double=9\n'));
		t.regex(run.stderr, /^probe: mode=double .* arg_double=1\.5 last=0$/m);
		t.deepEqual([...lines('pdi_arg_double'), ...lines('pdi_set_arg_double')], []);
		return;
	}

	t.is(run.stdout, bare);
	t.regex(run.stderr, /^probe: mode=double .* arg_double=0 last=0$/m);
	const reason = ': no argument travels in a floating-point register there (a double is two stack words, read and changed with pdi_arg_int and pdi_set_arg_int)';
	t.deepEqual(lines('pdi_arg_double'), [`pdi_arg_double 1 time on i386, where it reads 0${reason}`]);
	t.deepEqual(lines('pdi_set_arg_double'), [`pdi_set_arg_double 1 time on i386, where it does nothing${reason}`]);
});

test('helpers given a record that is not a call pdi gave a hook (a copy of *call, NULL) read 0 and change nothing, and the exit report counts them, naming the backend', async t => {
	const run = await probed('calls', 'stray');
	t.is(run.code, 0, run.stderr);
	t.is(run.stdout, (await runBare(beprog, ['calls'])).stdout);
	t.regex(run.stderr, /^probe: mode=stray hooks=5 ret=0 ret_double=0 arg=0 /m);
	const stray = 'with a record that is not a call pdi gave a hook, where it';
	const reason = ': NULL, a copy of *call or another pointer (the helpers take the call a hook was given)';
	const lines = (helper: string) => warnings(run.stderr, helper).map(line => line.replace(/^.*\) called /, ''));
	t.deepEqual(lines('pdi_arg_int'), [`pdi_arg_int 2 times ${stray} reads 0${reason}`]);
	t.deepEqual(lines('pdi_ret_int'), [`pdi_ret_int 1 time ${stray} reads 0${reason}`]);
	t.deepEqual(lines('pdi_set_arg_int'), [`pdi_set_arg_int 1 time ${stray} does nothing${reason}`]);
	t.deepEqual(lines('pdi_skip_int'), [`pdi_skip_int 1 time ${stray} does nothing${reason}`]);
});

test('a helper a backend calls in its FINI, where no call is open, reads 0 and the exit report names it: the report comes after every backend\'s FINI', async t => {
	const run = await probed('calls', 'fini-null');
	t.is(run.code, 0, run.stderr);
	t.is(run.stdout, (await runBare(beprog, ['calls'])).stdout);
	t.regex(run.stderr, /^probe: mode=fini-null hooks=5 ret=0 ret_double=0 arg=0 /m);
	const lines = warnings(run.stderr, 'pdi_arg_int').map(line => line.replace(/^.*\) called /, ''));
	t.deepEqual(lines, ['pdi_arg_int 1 time with a record that is not a call pdi gave a hook, where it reads 0: NULL, a copy of *call or another pointer (the helpers take the call a hook was given)']);
	t.true(run.stderr.indexOf('probe: mode=fini-null') < run.stderr.indexOf('called pdi_arg_int'), run.stderr);
});

test('an argument read past the top of the caller\'s stack (a coroutine\'s, a guard page above) reads 0 instead of crashing, and the exit report counts it', async t => {
	const run = await probed('edge', 'far');
	t.is(run.code, 0, run.stderr);
	t.is(run.stdout, 'edge be_int=2\nedge=done\n');
	t.regex(run.stderr, /^probe: mode=far hooks=1 .* last=0$/m);
	const last = lastArgument.split(':')[0]!;
	t.true(warnings(run.stderr, 'pdi_arg_int').map(line => line.replace(/^.*\) called /, '')).includes(`pdi_arg_int 1 time with argument ${last}, whose stack word is outside the caller's stack, where it reads 0`), run.stderr);
});

test('a skip whose helper does not match the known result (pdi_skip_double on labs, pdi_skip_int on cbrt) is refused and the call runs; unknown functions skip', async t => {
	const run = await probed('calls', 'skip');
	t.is(run.code, 0, run.stderr);
	t.is(run.stdout, 'be_int=42\nbe_double=2.5\nlabs=5\ncbrt=3\nbe_args=385\n');
	const line = /^pdi: warning: callback: 2 skipped calls refused, which ran instead \((.*); backend 'p' \(.+\/be-probe-backend\.so\)\)$/m.exec(run.stderr);
	t.truthy(line, run.stderr);
	// Each kind of refusal is named, with its count.
	t.deepEqual(line![1]!.split('; ').sort(), ['cbrt returns a floating-point value, which pdi_skip_int cannot give: 1', 'labs returns an integer, which pdi_skip_double cannot give: 1']);
});

test('a thread cancelled asynchronously inside a hook gets no more hooks as it ends: the backend is never entered again on that thread while its hook is half done', async t => {
	const cancelprog = path.join(directory, 'cancelprog');
	const reenter = `backend r = ${textValue(path.join(directory, 'be-reenter-backend.so'))}`;
	const run = await runPreloaded(cancelprog, [], writeConfig([reenter, 'callback $main * r']));
	t.is(run.code, 0, run.stderr);
	t.is(run.stdout, 'cancelled=100\n');
	const line = /^reenter: (\d+) hooks=(\d+)$/m.exec(run.stderr);
	t.truthy(line, run.stderr);
	t.true(Number(line![2]) > 100, run.stderr);
	t.is(line![1], '0', run.stderr);
});

test('a signal handler that jumps out of a hook (siglongjmp) leaves its thread with hooks: later calls get theirs, and pdi says how many hooks were left', async t => {
	const jump = `backend j = ${textValue(path.join(directory, 'be-jump-backend.so'))}`;
	// Before: the thread stayed marked inside a hook, so getpid's next calls ran without the hook that raises the signal
	// (the program looped for ever) and getppid's were never seen.
	const run = await runPreloaded(path.join(directory, 'hookjump'), [], writeConfig([jump, 'callback $main * j']));
	t.is(run.code, 0, run.stderr);
	t.is(run.stdout, 'jumps=3 getppid=100\n');
	t.regex(run.stderr, /^jump: getpid=3 getppid=100$/m);
	t.regex(run.stderr, /^pdi: warning: callback: 3 signal handlers jumped out of a hook or out of pdi's code around one \(siglongjmp\); the calls left so got an abandoned post, and later calls had their hooks again$/m);
});

// qemu-user 7.2 itself crashes or hangs on a timer whose handler jumps every few hundred microseconds, without pdi too
// (test/fixtures/backend/timerjump run bare): these two run on the host only; the handlers of aarch64 and i386 are
// tested by the hook that raises its signal above.
const hostOnly = testArch ? test.skip : test;

hostOnly('a timer whose handler jumps out of the program every few microseconds, also out of pdi\'s own instructions around a hook, leaves its thread with hooks', async t => {
	const timer = `backend t = ${textValue(path.join(directory, 'be-timer-backend.so'))}`;
	// Before: a jump that left pdi's code between the mark "inside pdi" and its entry's push (or after its pop) left
	// nothing to compare the next call with, and the thread ran without hooks from then on: getpgrp=0 in every run.
	const run = await runPreloaded(path.join(directory, 'timerjump'), ['20000', '20'], writeConfig([timer, 'callback $main * t']));
	t.is(run.code, 0, run.stderr);
	t.is(run.stdout, 'getpgrp=100\n');
	t.regex(run.stderr, /^timer: getpgrp=100 getppid=\d+$/m);
	t.regex(run.stderr, /^pdi: warning: callback: \d+ signal handlers? jumped out of a hook or out of pdi's code around one /m);
});

hostOnly('a timer that jumps out of a thread\'s first instrumented calls while pdi sets up its slot takes no slot for good: the thread gets its hooks once the timer stops', async t => {
	const timer = `backend t = ${textValue(path.join(directory, 'be-timer-backend.so'))}`;
	// A 1 MiB callback stack, touched at the thread's first call, takes longer to set up than the timer's period.
	// Before: each jump left a slot claimed by nobody, until all 64 were gone ("calls ran without hooks, on threads
	// beyond max_threads" for a program of one thread), and getpgrp's calls had no hooks.
	const settings = ['num_threads = 0', 'max_threads = 64', 'cb_stack_size = 1048576'];
	const run = await runPreloaded(path.join(directory, 'timerjump'), ['20000', '20'], writeConfig([timer, 'callback $main * t'], settings));
	t.is(run.code, 0, run.stderr);
	t.is(run.stdout, 'getpgrp=100\n');
	t.regex(run.stderr, /^timer: getpgrp=100 getppid=\d+$/m);
	t.notRegex(run.stderr, /beyond max_threads/);
});

test('one relink over two libraries bound to different definitions of its function refuses the second instead of sending its calls to the first definition', async t => {
	const dupprog = path.join(directory, 'dupprog');
	t.is((await runBare(dupprog, [directory])).stdout, 'a=1 b=2\n');
	const run = await runPreloaded(dupprog, [directory], writeConfig([`backend d = ${textValue(path.join(directory, 'be-dup-backend.so'))}`, 'relink libdupuser* be_dup d wrap_be_dup']));
	t.is(run.code, 0, run.stderr);
	t.is(run.stdout, 'a=101 b=2\n');
	t.regex(run.stderr, /^pdi: \S+rules\.cmd:2:1: relink be_dup: .+\/libdupuserb\.so calls the be_dup of .+\/libdupdefb\.so, but wrapper 'wrap_be_dup' already stands for the one of .+\/libdupdefa\.so, and pdi_original\(\) has one answer per wrapper: give the objects of each definition a rule with a wrapper of its own \(rule skipped\)$/m);
});

test('a callback on a -fno-plt program instruments its GOT calls, although its start file calls __libc_start_main (and on aarch64 abort) through a PLT slot (i386, aarch64)', async t => {
	const noplt = path.join(directory, 'beprog-noplt');
	const run = await runPreloaded(noplt, ['calls'], writeConfig([probe, 'callback $main * p']), {BE_PROBE: 'skip'});
	t.is(run.code, 0, run.stderr);
	// be_int and be_double skipped by the pre hook: the program's calls went through pdi.
	t.is(run.stdout, 'be_int=42\nbe_double=2.5\nlabs=5\ncbrt=3\nbe_args=385\n');
	t.regex(run.stderr, /^probe: mode=skip hooks=5 /m);
});

test('a callback on a -fno-plt program that calls atexit and at_quick_exit instruments its GOT calls, although libc_nonshared.a linked into it calls __cxa_atexit and __cxa_at_quick_exit through PLT slots', async t => {
	const noplt = path.join(directory, 'beprog-noplt-atexit');
	const run = await runPreloaded(noplt, ['calls'], writeConfig([probe, 'callback $main * p']), {BE_PROBE: 'skip'});
	t.is(run.code, 0, run.stderr);
	// be_int and be_double skipped by the pre hook: the program's GOT calls went through pdi.
	t.is(run.stdout, 'be_int=42\nbe_double=2.5\nlabs=5\ncbrt=3\nbe_args=385\n');
	t.regex(run.stderr, /^probe: mode=skip hooks=\d+ /m);
});

test('the bundled trace backend shows double arguments and integer arguments past the registers as the program passed them, on every architecture', async t => {
	// Before, on i386 (every argument on the stack) each double showed as 0: cbrt(0), be_double(0).
	const run = await runPreloaded(beprog, ['calls'], writeConfig(['backend t = trace', 'callback $main * t']), {
		PDI_TRACE_PROTOTYPES: 'be_int=ii;be_double=dd;be_args=lllllllllll',
	});
	t.is(run.code, 0, run.stderr);
	const lines = run.stderr.split('\n').filter(line => /!(be_|cbrt)/.test(line)).map(line => line.replace(/^\d+ \d+ {2}/, ''));
	t.deepEqual(lines, [
		'beprog!be_int(1) = 2',
		'beprog!be_double(1.5) = 3',
		'beprog!cbrt(27) = 3',
		'beprog!be_args(1, 2, 3, 4, 5, 6, 7, 8, 9, 10) = 385',
	], run.stderr);
});

// The trace's callback over act rules' stubs: the call the handler makes is the act stub's, which enters the handler
// again from inside it, as a tail call does; every architecture's handler must give both hooks their call.
test('the bundled trace backend over act rules shows the results the act rules gave, on every architecture', async t => {
	const run = await runPreloaded(beprog, ['calls'], writeConfig(['backend t = trace', 'callback $main * t', 'act $main be_int return=42', 'act $main be_args call=1 return=-7']), {
		PDI_TRACE_PROTOTYPES: 'be_int=ii;be_double=dd;be_args=lllllllllll',
	});
	t.is(run.code, 0, run.stderr);
	t.regex(run.stdout, /^be_int=42$/m);
	const lines = run.stderr.split('\n').filter(line => /!(be_|cbrt)/.test(line)).map(line => line.replace(/^\d+ \d+ {2}/, ''));
	t.deepEqual(lines, [
		'beprog!be_int(1) = 42',
		'beprog!be_double(1.5) = 3',
		'beprog!cbrt(27) = 3',
		'beprog!be_args(1, 2, 3, 4, 5, 6, 7, 8, 9, 10) = -7',
	], run.stderr);
});

test('the bundled trace backend shows a float result (strtof, sinf) as the float the caller got, on every architecture', async t => {
	// Before, on i386 (a float comes back in st0, read as a double) it showed the low bits of that double: strtof(...) = 0.
	const run = await runPreloaded(beprog, ['floats'], writeConfig(['backend t = trace', 'callback $main * t']));
	t.is(run.code, 0, run.stderr);
	t.is(run.stdout, 'strtof=0.5 sinf=0.479426 cbrt=2\n');
	const lines = run.stderr.split('\n').filter(line => /!(strtof|sinf|cbrt)\(/.test(line)).map(line => line.replace(/^\d+ \d+ {2}/, ''));
	// In the order the compiler evaluates printf's arguments, which differs between architectures.
	t.deepEqual(lines.sort(), ['beprog!cbrt(8) = 2', 'beprog!sinf(0.5) = 0.479426', 'beprog!strtof("0.5", NULL) = 0.5'], run.stderr);
});

test('64-bit integers (two stack words and edx:eax on i386) are shown whole by the trace backend, and the arguments after one are the right ones', async t => {
	// Before, on i386 strtoll's result showed its low 32 bits and lseek64's whence was its offset's high word.
	const run = await runPreloaded(beprog, ['wide'], writeConfig(['backend t = trace', 'callback $main * t']), {
		PDI_TRACE_PROTOTYPES: 'be_wide=8i8i',
	});
	t.is(run.code, 0, run.stderr);
	t.is(run.stdout, 'be_wide=-9999999996\nstrtoll=-123456789012\nlseek64=5000000000\n');
	const lines = run.stderr.split('\n').filter(line => /!(be_wide|strtoll|lseek64)\(/.test(line)).map(line => line.replace(/^\d+ \d+ {2}/, ''));
	t.deepEqual(lines.map(line => line.replace(/lseek64\(\d+,/, 'lseek64(FD,')), [
		'beprog!be_wide(1, -5000000000, 3) = -9999999996',
		'beprog!strtoll("-123456789012", NULL, 10) = -123456789012',
		'beprog!lseek64(FD, 5000000000, SEEK_SET) = 5000000000',
	], run.stderr);
});

test('act rules give a 64-bit result whole: -1 from lseek64 is -1 to the caller on i386 too, not 4294967295, and a value past 32 bits arrives', async t => {
	const run = await runPreloaded(beprog, ['wide'], writeConfig([
		'act $main lseek64 return=-1 errno=EIO',
		'act $main strtoll return=5000000000',
		'act $main be_wide return=-7000000000',
	]));
	t.is(run.code, 0, run.stderr);
	t.is(run.stdout, 'be_wide=-7000000000\nstrtoll=5000000000\nlseek64=-1 EIO\n');
});

test('the 64-bit result helpers read and give edx:eax on i386 and the whole register elsewhere', async t => {
	const run = await runPreloaded(beprog, ['wide'], writeConfig([probe, 'callback $main * p']), {BE_PROBE: 'wide'});
	t.is(run.code, 0, run.stderr);
	t.is(run.stdout, 'be_wide=-9999999996\nstrtoll=8589934593\nlseek64=-2\n');
	t.regex(run.stderr, /^probe: mode=wide .*wide=-9999999996 /m);
});

test('act argument numbers count stack words on i386, where lseek64\'s offset takes two: its whence is arg3 there and arg2 elsewhere, and one past it is refused', async t => {
	const whence = testArch === 'i386' ? 3 : 2;
	const run = await runPreloaded(beprog, ['wide'], writeConfig([`act $main lseek64 arg${whence}=0 return=-1 errno=EIO`]));
	t.is(run.code, 0, run.stderr);
	t.is(run.stdout, 'be_wide=-9999999996\nstrtoll=-123456789012\nlseek64=-1 EIO\n');
	const past = await runPreloaded(beprog, ['wide'], writeConfig([`act $main lseek64 arg${whence + 1}=0 return=-1`]));
	t.not(past.code, 0);
	const counted = testArch === 'i386' ? '4 stack word(s) of arguments, numbered from 0 (a 64-bit integer or a double takes two)' : '3 integer or pointer argument(s), numbered from 0';
	t.true(past.stderr.includes(`act lseek64: arg${whence + 1}: lseek64 takes ${counted}`), past.stderr);
});
