import {execFileSync} from 'node:child_process';
import {closeSync, mkdirSync, openSync, readFileSync, symlinkSync, writeFileSync} from 'node:fs';
import {createRequire} from 'node:module';
import path from 'node:path';
import test, {type ExecutionContext} from 'ava';
import {ConfigError, imports, interpose, runProgram, spawn, type ActCount, type PdiConfig} from '../src/ts/index.js';
import {pdi} from './helpers/cli.js';
import {compileC, writeFiles} from './helpers/files.js';
import {fixBackend, fixtures, runPreloaded, writeConfig} from './helpers/preload.js';
import {textValue} from './helpers/quote.js';

const events = path.join(fixtures, 'trace', 'events');
const require = createRequire(import.meta.url);

/** The counts without the pid, as the rules' places and numbers. */
function counted(counts: readonly ActCount[]) {
	return counts.map(({rule, object, function: name, seen, fired}) => ({rule, object, name, seen, fired}));
}

/** What `child` writes on stdout, and its counts, once it has exited. */
async function finished(child: ReturnType<typeof spawn>) {
	let stdout = '';
	child.stdout?.on('data', (chunk: Buffer) => {
		stdout += chunk.toString();
	});
	// 'close', not 'exit': stdout may still hold data when the process has exited.
	const code = await new Promise<number | null>(resolve => child.once('close', resolve));
	return {code, stdout, act: await child.act};
}

test('an act rule in YAML makes cat fail to open one file, and pdi run -v prints each rule\'s counts', async t => {
	const directory = writeFiles({'act.yaml': [
		'rules:',
		'  - act:',
		'      object: $main',
		'      function: open',
		'      when: {arg: 0, matches: /etc/hostname}',
		'      do: {return: -1, errno: ENOENT}',
	].join('\n')});
	const config = path.join(directory, 'act.yaml');
	const run = await pdi(['run', '-v', '-c', config, '--', 'cat', '/etc/hostname', '/etc/debian_version']);
	t.is(run.code, 1);
	t.is(run.stdout, readFileSync('/etc/debian_version', 'utf8'));
	t.regex(run.stderr, /cat: \/etc\/hostname: No such file or directory/);
	t.true(run.stderr.includes(`pdi: ${config}:2: act $main open: 2 call(s) seen, 1 fired`), run.stderr);
	const quiet = await pdi(['run', '-c', config, '--', 'cat', '/etc/hostname']);
	t.false(quiet.stderr.includes('call(s) seen'), quiet.stderr);
});

test('pdi run -v names the process in the act counts of a forked child and of a program a shell ran, not in the program\'s own', async t => {
	const directory = writeFiles({'act.cfg': 'act $main puts count\n'});
	const program = compileC(directory, 'forks', [
		'#include <stdio.h>',
		'#include <sys/wait.h>',
		'#include <unistd.h>',
		'int main(void) { setvbuf(stdout, NULL, _IONBF, 0); puts("parent"); pid_t child = fork();',
		'  if (child == 0) { puts("child"); printf("child %d\\n", (int)getpid()); return 0; }',
		'  waitpid(child, NULL, 0); return 0; }',
	].join('\n'));
	const config = path.join(directory, 'act.cfg');
	const run = await pdi(['run', '-v', '-c', config, '--', program]);
	t.is(run.code, 0, run.stderr);
	const childPid = /child (\d+)/.exec(run.stdout)?.[1];
	const lines = run.stderr.split('\n').filter(line => line.includes('call(s) seen'));
	t.deepEqual(lines.sort(), [
		`pdi: ${config}:1: act $main puts: 1 call(s) seen, 1 fired`,
		`pdi: ${config}:1: act $main puts: 2 call(s) seen, 2 fired (process ${childPid})`,
	].sort(), run.stderr);
	const shell = await pdi(['run', '-v', '-c', config, '--', 'sh', '-c', '"$1"; echo shell $$', 'sh', program]);
	t.is(shell.code, 0, shell.stderr);
	const shellChild = /child (\d+)/.exec(shell.stdout)?.[1];
	const named = shell.stderr.split('\n').filter(line => line.includes('call(s) seen')).map(line => / \(process (\d+)\)$/.exec(line)?.[1]);
	// The shell imports no puts: the program it ran and that program's child are both named.
	t.is(named.length, 2, shell.stderr);
	t.true(named.includes(shellChild), shell.stderr);
	t.true(named.every(pid => pid !== undefined), shell.stderr);
});

test('runProgram() returns the counts of every act rule, named by the place of the rule', async t => {
	const directory = writeFiles({'act.cfg': [
		'# text dialect',
		'act $main abs call=2,3 return=-7',
		'act * abs count',
	].join('\n')});
	const {status, act} = await runProgram(events, ['print', '4'], {configs: [path.join(directory, 'act.cfg')]});
	t.is(status, 0);
	t.deepEqual(counted(act), [
		{rule: `${path.join(directory, 'act.cfg')}:2`, object: '$main', name: 'abs', seen: 4, fired: 2},
		{rule: `${path.join(directory, 'act.cfg')}:3`, object: '*', name: 'abs', seen: 4, fired: 2},
	]);
});

test('runProgram() passes stdio on: the program\'s output goes to a file descriptor given, with the act rule in effect', async t => {
	const directory = writeFiles({'act.cfg': 'act $main abs call=1 return=-7\n'});
	const output = path.join(directory, 'output.txt');
	const fd = openSync(output, 'w');
	try {
		const {status} = await runProgram(events, ['print', '2'], {configs: [path.join(directory, 'act.cfg')], stdio: ['ignore', fd, 'inherit']});
		t.is(status, 0);
	} finally {
		closeSync(fd);
	}

	const bare = execFileSync(events, ['print', '2'], {encoding: 'utf8'});
	const written = readFileSync(output, 'utf8');
	t.not(written, '');
	t.not(written, bare, 'the first abs returned -7');
	t.is(written.split('\n').length, bare.split('\n').length);
});

test('the core\'s log of a config given in memory names its rules as rules[I], not the temporary file it was compiled to', async t => {
	const directory = writeFiles({});
	const log = path.join(directory, 'stderr.txt');
	const fd = openSync(log, 'w');
	try {
		const {status} = await runProgram(events, ['print', '2'], {stdio: ['ignore', 'ignore', fd], config: {
			options: {log: {level: 'info'}},
			backends: [{name: 'fix', library: fixBackend}],
			rules: [
				{relink: {object: '$main', function: 'nothing_imports_this', backend: 'fix', wrapper: 'wrap_fix_add'}},
				{act: {object: '$main', function: 'abs', do: {count: true}}},
			],
		}});
		t.is(status, 0);
	} finally {
		closeSync(fd);
	}

	const text = readFileSync(log, 'utf8');
	t.regex(text, /^pdi: rules\[0\]: relink nothing_imports_this: no loaded object matching '\$main' imports it yet$/m, text);
	t.regex(text, /^pdi: rules\[1\]: act \$main abs: \d+ call\(s\) seen, \d+ fired$/m, text);
	t.notRegex(text, /pdi-run-|\.cfg:\d/, text);
});

test('the third malloc of python3 returning NULL leaves pdi standing, whatever Python makes of it', async t => {
	const {status, act} = await runProgram('/usr/bin/python3', ['-c', 'print(1)'], {config: {
		rules: [{act: {object: '$main', function: 'malloc', when: {from: 3, times: 1}, do: {return: 0, errno: 'ENOMEM'}}}],
	}});
	// Python may exit with a MemoryError or abort; what pdi owes is its count, written at exit, and no crash of its own.
	t.true(status < 128 || status === 128 + 6, String(status));
	t.is(act.length, 1);
	t.is(act[0]!.fired, 1);
	t.true(act[0]!.seen >= 3);
});

test('getent hosts localhost fails when getaddrinfo and gethostbyname2 fail', async t => {
	const config: PdiConfig = {rules: [
		{act: {function: 'getaddrinfo', do: {return: -2}}},
		{act: {function: 'gethostbyname2', do: {return: 0, errno: 'ENOENT'}}},
	]};
	const {status, act} = await runProgram('getent', ['hosts', 'localhost'], {config});
	t.not(status, 0);
	t.true(act.some(count => count.fired > 0), JSON.stringify(act));
	const {status: plain} = await runProgram('getent', ['hosts', 'localhost'], {config: {rules: [{act: {function: 'getaddrinfo', do: {count: true}}}]}});
	t.is(plain, 0);
});

test('a delay of 100 ms holds the call that long', async t => {
	const child = spawn({rules: [{act: {function: 'abs', do: {delay: '100ms'}}}]}, events, ['time']);
	const {code, stdout} = await finished(child);
	t.is(code, 0);
	const ms = Number(stdout);
	t.true(ms >= 100 && ms <= 150, String(ms));
});

test('probability 0.5 with seed 1 fires the same calls in two runs', async t => {
	const config = {rules: [{act: {function: 'abs', when: {probability: 0.5, seed: 1}, do: {return: 0}}}]};
	const first = await finished(spawn(config, events, ['print', '200']));
	const second = await finished(spawn(config, events, ['print', '200']));
	t.is(first.stdout, second.stdout);
	t.is(first.act[0]!.fired, first.stdout.split('\n').filter(line => line === '0').length);
	t.true(first.act[0]!.fired > 60 && first.act[0]!.fired < 140, String(first.act[0]!.fired));
});

test('spawn() gives exact counts under 8 threads', async t => {
	const {code, act} = await finished(spawn({rules: [{act: {function: 'abs', when: {every: 3}, do: {count: true}}}]}, events, ['threads']));
	t.is(code, 0);
	t.deepEqual(act.map(({seen, fired}) => ({seen, fired})), [{seen: 8000, fired: 2666}]);
});

test('a forked child goes on from its parent\'s counts at the fork, and both report them', async t => {
	// Perl (Debian links its interpreter into /usr/bin/perl) opens with open64; the child and the parent each open once after three opens before the fork.
	const script = 'sub t { print "$_[0] ", (open(my $f, "<", "/etc/hostname") ? "ok" : "$!"), "\\n" } t("a"); t("b"); my $p = fork; if (!$p) { t("child"); exit 0 } waitpid($p, 0); t("parent");';
	const {code, stdout, act} = await finished(spawn({rules: [{act: {object: '$main', function: 'open64', when: {call: 4}, do: {return: -1, errno: 'EIO'}}}]}, '/usr/bin/perl', ['-e', script], {stdio: ['ignore', 'pipe', 'inherit']}));
	t.is(code, 0);
	t.is(stdout, 'a ok\nb ok\nchild Input/output error\nparent Input/output error\n', 'each one\'s first open after the fork is its call 4 (perl opens one file of its own first)');
	t.is(new Set(act.map(count => count.pid)).size, 2);
	t.deepEqual(act.map(({seen, fired}) => ({seen, fired})), [{seen: 4, fired: 1}, {seen: 4, fired: 1}]);
});

test('an act rule is outermost over a relink of the same function', async t => {
	const config = writeConfig([
		`backend fix = ${textValue(fixBackend)}`,
		'relink $main fix_add fix wrap_fix_add',
		'act $main fix_add call=1 return=42',
	]);
	const first = await runPreloaded(path.join(fixtures, 'now-pie/fixprog'), [], config);
	t.regex(first.stdout, /^fix_add=42$/m, first.stderr);
	const second = writeConfig([
		`backend fix = ${textValue(fixBackend)}`,
		'relink $main fix_add fix wrap_fix_add',
		'act $main fix_add call=2 return=42',
	]);
	const wrapped = await runPreloaded(path.join(fixtures, 'now-pie/fixprog'), [], second);
	t.regex(wrapped.stdout, /^fix_add=105$/m, wrapped.stderr);
});

test('a return of the wrong kind for a known function and an argument past its last are refused at their token (in YAML and JSON at the field at fault, where they named the rule); they were accepted and then refused at the call or read garbage', async t => {
	const refused: Array<[string, RegExp]> = [
		['act $main sqrt return=0', /rules\.cmd:1:16: act sqrt: sqrt returns a floating-point value: give it as return=double:X$/m],
		['act $main labs return=double:1.5', /rules\.cmd:1:16: act labs: labs returns an integer or a pointer: return=double:X cannot give it$/m],
		['act * open arg7=0 return=-1 errno=ENOENT', /rules\.cmd:1:12: act open: arg7: open takes 3 integer or pointer argument\(s\), numbered from 0$/m],
	];
	for (const [line, message] of refused) {
		const run = await runPreloaded(path.join(fixtures, 'callback/cbprog'), ['change'], writeConfig([line]));
		t.is(run.code, 2, line);
		t.regex(run.stderr, message);
	}

	// pdi config check says the same at the YAML or JSON place of the field; a void function's call may be skipped,
	// and a variadic one's arguments are not counted.
	const directory = writeFiles({
		'bad.yaml': 'rules:\n  - act: {function: read, when: {arg: 3, equals: 1}, do: {count: true}}\n',
		'bad.json': '{"rules": [\n  {"act": {"function": "sqrt",\n           "do": {"return": 0}}}]}\n',
		'good.yaml': 'rules:\n  - act: {function: free, do: {return: 0}}\n  - act: {function: printf, when: {arg: 5, equals: 0}, do: {count: true}}\n  - act: {function: sqrt, do: {return: {double: 2}}}\n',
	});
	const bad = await pdi(['config', 'check', path.join(directory, 'bad.yaml')]);
	t.is(bad.code, 2);
	t.regex(bad.stderr, /bad\.yaml:2:39: act read: arg3: read takes 3 integer or pointer argument\(s\), numbered from 0$/m);
	const badJson = await pdi(['config', 'check', path.join(directory, 'bad.json')]);
	t.is(badJson.code, 2);
	t.regex(badJson.stderr, /bad\.json:3:29: act sqrt: sqrt returns a floating-point value: give it as return=double:X$/m);
	const good = await pdi(['config', 'check', path.join(directory, 'good.yaml')]);
	t.is(good.code, 0, good.stderr);
});

// A callback over an act rule's slot calls the act rule's stub: its hooks (here the trace backend's, alone, writing
// its lines to stderr) see each call as the act rule made it, the faked result and errno included. Was refused at
// install: "act abs: conflicts with the callback at ...".
test('a callback rule and an act rule on the same slots compose: the callback sees the calls as the act rule made them', async t => {
	const directory = writeFiles({});
	const program = compileC(directory, 'access3', '#include <errno.h>\n#include <stdio.h>\n#include <string.h>\n#include <unistd.h>\nint main(void) {\n  for (int i = 0; i < 3; i++) {\n    errno = 0;\n    int result = access("/", R_OK);\n    printf("%d %s\\n", result, strerror(errno));\n  }\n  return 0;\n}\n', ['-O2']);
	for (const order of [['callback $main * tr', 'act $main access call=2 return=-1 errno=EACCES'], ['act $main access call=2 return=-1 errno=EACCES', 'callback $main * tr']]) {
		const config = writeConfig(['backend tr = trace', ...order]);
		const run = await runPreloaded(program, [], config);
		t.is(run.code, 0, run.stderr);
		t.is(run.stdout, '0 Success\n-1 Permission denied\n0 Success\n');
		const calls = run.stderr.split('\n').filter(line => line.includes('!access('));
		t.deepEqual(calls.map(line => line.replace(/^\d+ \d+ +/, '')), [
			'access3!access("/", R_OK) = 0',
			'access3!access("/", R_OK) = -1 errno EACCES',
			'access3!access("/", R_OK) = 0',
		], run.stderr);
	}
});

test('return= on a function whose result a skipped call cannot give, and a rule on a function pdi never instruments, are refused at install', async t => {
	const config = writeConfig(['act $main ldiv return=1']);
	const run = await runPreloaded(path.join(fixtures, 'callback/cbprog'), ['change'], config);
	t.is(run.code, 2);
	t.regex(run.stderr, /rules\.cmd:1:16: act ldiv: return= cannot give ldiv's result: it returns a structure/);
	t.is((await runPreloaded(path.join(fixtures, 'callback/cbprog'), ['change'], writeConfig(['act $main ldiv count']))).code, 0);
	const never = await runPreloaded(path.join(fixtures, 'callback/cbprog'), ['change'], writeConfig(['act * longjmp count']));
	t.is(never.code, 2);
	t.regex(never.stderr, /rules\.cmd:1:7: act longjmp: longjmp is never instrumented \(it returns twice, never returns, or looks at its caller/);
	// pdi config check says the same at the YAML place of the function: the core's reader checks it.
	const directory = writeFiles({'c.yaml': 'rules:\n  - act: {function: longjmp, do: {count: true}}\n'});
	const checked = await pdi(['config', 'check', path.join(directory, 'c.yaml')]);
	t.is(checked.code, 2);
	t.regex(checked.stderr, /c\.yaml:2:21: act longjmp: longjmp is never instrumented/);
});

test('a bad act token is an error at its line and column in the text dialect', async t => {
	const directory = writeFiles({'act.cfg': 'act $main open arg0~"/etc/x y" errno=ENOPE return=-1\n'});
	const run = await pdi(['config', 'check', path.join(directory, 'act.cfg')]);
	t.is(run.code, 2);
	t.regex(run.stderr, /act\.cfg:1:32: act: errno=ENOPE: not an errno name/);
	writeFileSync(path.join(directory, 'act.cfg'), 'act $main open arg0~"/etc/x\n');
	t.regex((await pdi(['config', 'check', path.join(directory, 'act.cfg')])).stderr, /act\.cfg:1:21: unterminated quoted string/);
	writeFileSync(path.join(directory, 'act.cfg'), 'act $main open call=2\n');
	t.regex((await pdi(['config', 'check', path.join(directory, 'act.cfg')])).stderr, /act\.cfg:1:1: act: no action/);
	// Before: 'expected a duration like 50ms', of a value that is one.
	writeFileSync(path.join(directory, 'act.cfg'), 'act $main read delay=3600001ms\n');
	t.regex((await pdi(['config', 'check', path.join(directory, 'act.cfg')])).stderr, /act\.cfg:1:16: act: delay=3600001ms: expected a delay of at most 1 hour\n/);
	writeFileSync(path.join(directory, 'act.cfg'), 'act $main read delay=0.4ns\n');
	t.regex((await pdi(['config', 'check', path.join(directory, 'act.cfg')])).stderr, /act\.cfg:1:16: act: delay=0\.4ns: expected a delay of at least 1ns, or 0 for none\n/);
	writeFileSync(path.join(directory, 'act.cfg'), 'act $main read delay=soon\n');
	t.regex((await pdi(['config', 'check', path.join(directory, 'act.cfg')])).stderr, /act\.cfg:1:16: act: delay=soon: expected a duration like 50ms\n/);
});

test.serial('interpose() with an act rule makes a native addon\'s open fail; close() restores it and returns the counts', t => {
	const addon = require(path.join(fixtures, 'addon/fixaddon.node')) as {openFile(file: string): number};
	t.is(addon.openFile('/etc/hostname'), 0);
	const handle = interpose({rules: [{act: {object: 'fixaddon.node', function: 'open', when: {arg: 0, matches: '/etc/host*'}, do: {return: -1, errno: 'EACCES'}}}]});
	let counts: ActCount[];
	try {
		t.is(addon.openFile('/etc/hostname'), -13);
		t.is(addon.openFile('/etc/debian_version'), 0);
	} finally {
		counts = handle.close();
	}

	t.is(addon.openFile('/etc/hostname'), 0);
	t.is(imports('fixaddon.node').find(entry => entry.symbol === 'open')?.target?.symbol, 'open');
	// A config given in memory names its rules by index.
	t.deepEqual(counts.map(({rule, seen, fired, pid}) => ({rule, seen, fired, pid})), [{rule: 'rules[0]', seen: 2, fired: 1, pid: process.pid}]);
	t.deepEqual(handle.close(), []);
});

test('an act rule whose function the program only takes the address of (a GLOB_DAT slot) warns that those calls are not seen', async t => {
	const directory = writeFiles({'act.cmd': 'act $main labs return=42\n'});
	const run = await pdi(['run', '-c', path.join(directory, 'act.cmd'), '--', path.join(fixtures, 'trace', 'pointer')]);
	t.is(run.code, 0, run.stderr);
	t.is(run.stdout, 'pointer\nlabs=5\n');
	t.regex(run.stderr, /^pdi: warning: \S+act\.cmd:1: act labs: 1 slot\(s\) in objects matching '\$main' hold its address as a pointer \(GLOB_DAT, or abs in data\) and are left alone.*calls made through them are not seen/m);
	t.notRegex(run.stderr, /no loaded object/);
});

test('an act rule whose function a library only keeps in a table of function pointers (an abs slot, as SQLite keeps write) warns that those calls are not seen, instead of saying nothing imported it', async t => {
	const directory = writeFiles({'act.cmd': 'act libtable.so labs return=42\n'});
	const run = await pdi(['run', '-c', path.join(directory, 'act.cmd'), '--', path.join(fixtures, 'trace', 'table')]);
	t.is(run.code, 0, run.stderr);
	t.is(run.stdout, 'table\nlabs=5\n');
	t.regex(run.stderr, /^pdi: warning: \S+act\.cmd:1: act labs: 1 slot\(s\) in objects matching 'libtable\.so' hold its address as a pointer \(GLOB_DAT, or abs in data\) and are left alone.*calls made through them are not seen/m);
	t.notRegex(run.stderr, /imported it while the program ran|no loaded object/);
});

test('an act rule whose function a library loaded later keeps only as a pointer warns at the dlopen, naming the library, once however many loads follow', async t => {
	const directory = writeFiles({'act.cmd': 'act libtable.so labs return=42\n', 'star.cmd': 'act * labs return=42\n'});
	const program = compileC(directory, 'opens', `#include <dlfcn.h>
#include <stdio.h>
int main(int argc, char **argv) {
  void *table = dlopen(argv[1], RTLD_NOW);
  long (*table_labs)(long) = (long (*)(long))dlsym(table, "table_labs");
  printf("labs=%ld\\n", table_labs(-5));
  for (int i = 2; i < argc; i++)
    dlopen(argv[i], RTLD_NOW);
  printf("labs=%ld\\n", table_labs(-6));
  return 0;
}
`, ['-O2']);
	const library = path.join(fixtures, 'trace', 'libtable.so');
	const later = /^pdi: warning: \S+\.cmd:1: act labs: 1 slot\(s\) in \S+\/libtable\.so, loaded later, hold its address as a pointer \(GLOB_DAT, or abs in data\) and are left alone.*calls made through them are not seen/gm;
	for (const config of ['act.cmd', 'star.cmd']) {
		// Before: nothing was said at the dlopen; each later load counted the library's pointer slots again.
		const run = await pdi(['run', '-v', '-c', path.join(directory, config), '--', program, library, 'libm.so.6', 'libz.so.1']);
		t.is(run.code, 0, run.stderr);
		t.is(run.stdout, 'labs=5\nlabs=6\n');
		t.is(run.stderr.match(later)?.length, 1, run.stderr);
		t.regex(run.stderr, /: act \S+ labs: 0 call\(s\) seen, 0 fired\n/);
	}
});

test('an error the core finds in a config given in memory names the rule by its index, not a line of the compiled text', t => {
	const error = t.throws(() => interpose({rules: [
		{act: {function: 'open', do: {return: -1, errno: 'ENOENT'}}},
		{act: {function: 'longjmp', do: {count: true}}},
	]}), {instanceOf: ConfigError});
	t.regex(error.message, /^rules\[1\]: act longjmp: longjmp is never instrumented/);
	t.is(error.file, undefined);
});

/** A library whose lib_pid() returns getpid(), and a program that prints what lib_pid() returns. */
const pidLibrarySources = {
	'lib.c': '#include <unistd.h>\npid_t lib_pid(void) { return getpid(); }\n',
	'main.c': '#include <stdio.h>\n#include <sys/types.h>\npid_t lib_pid(void);\nint main(void) { printf("%d\\n", (int)lib_pid()); return 0; }\n',
};

/** Runs `program` (built from pidLibrarySources) under `act PATTERN getpid return=4242` for each pattern, and checks that it met the library exactly when `matches` says: the program printed 4242, and pdi did not warn that no object matched. */
async function checkMatches(t: ExecutionContext, program: string, patterns: Array<[pattern: string, matches: boolean]>, options: {cwd?: string; env?: NodeJS.ProcessEnv} = {}): Promise<void> {
	const rules = path.join(path.dirname(program), 'act.cmd');
	for (const [pattern, matches] of patterns) {
		writeFileSync(rules, `act ${textValue(pattern)} getpid return=4242\n`);
		const run = await pdi(['run', '-c', rules, '--', program], options);
		t.is(run.code, 0, run.stderr);
		t.is(run.stdout === '4242\n', matches, pattern);
		t.is(/was loaded/.test(run.stderr), !matches, `${pattern}: ${run.stderr}`);
	}
}

test('a path glob matches an object also by the path with its directory\'s links resolved and by the file its name links to, as a plain path does', async t => {
	// With a merged /usr the loader names /lib/x86_64-linux-gnu/libcurl.so.4; '/usr/lib/*/libcurl.so.4*' matched nothing.
	const directory = writeFiles(pidLibrarySources);
	const real = path.join(directory, 'real');
	mkdirSync(real);
	execFileSync('gcc', ['-shared', '-fPIC', '-Wl,-soname,libglobbed.so.1', '-o', path.join(real, 'libglobbed.so.1.2'), path.join(directory, 'lib.c')]);
	symlinkSync('libglobbed.so.1.2', path.join(real, 'libglobbed.so.1'));
	symlinkSync('real', path.join(directory, 'linked'));
	const program = path.join(directory, 'main');
	execFileSync('gcc', ['-o', program, path.join(directory, 'main.c'), path.join(real, 'libglobbed.so.1'), `-Wl,-rpath,${path.join(directory, 'linked')}`]);
	const patterns: Array<[string, boolean]> = [
		[`${directory}/linked/libglobbed.so.1`, true],
		[`${directory}/linked/libglobbed.so.*`, true],
		[`${directory}/real/libglobbed.so.*`, true],
		[`${directory}/r?al/libglobbed.so.1.[2]`, true],
		[`${directory}/real/libglobbed.so.1`, true],
		[`${directory}/other/libglobbed.so.*`, false],
	];
	await checkMatches(t, program, patterns);
});

test('an object the loader found by a relative path (LD_LIBRARY_PATH=.) is matched by its absolute path and by absolute globs', async t => {
	// The loader names it ./libdotted.so.1, which no absolute pattern matched: 'no object matching ... was loaded'.
	const directory = writeFiles(pidLibrarySources);
	const libraries = path.join(directory, 'libs');
	mkdirSync(libraries);
	execFileSync('gcc', ['-shared', '-fPIC', '-Wl,-soname,libdotted.so.1', '-o', path.join(libraries, 'libdotted.so.1'), path.join(directory, 'lib.c')]);
	symlinkSync('libs', path.join(directory, 'linked'));
	const program = path.join(directory, 'main');
	execFileSync('gcc', ['-o', program, path.join(directory, 'main.c'), path.join(libraries, 'libdotted.so.1')]);
	const patterns: Array<[string, boolean]> = [
		[`${libraries}/libdotted.so.1`, true],
		[`${directory}/linked/libdotted.so.1`, true],
		[`${directory}/l*/libdotted.so.*`, true],
		[`${directory}/other/libdotted.so.1`, false],
	];
	await checkMatches(t, program, patterns, {cwd: libraries, env: {...process.env, LD_LIBRARY_PATH: '.'}});
});

test('a double result of NaN or an infinity is given by name in every spelling, reaches the caller, and pdi config check shows it by the same name', async t => {
	// Before: {double: .nan} and return=double:inf were refused, and JSON has no way to write either.
	const directory = writeFiles({
		'sq.c': '#include <math.h>\n#include <stdio.h>\n#include <stdlib.h>\nint main(int argc, char **argv) { printf("%f\\n", sqrt(atof(argv[1]))); return 0; }\n',
		'nan.yaml': 'rules:\n  - act: {object: $main, function: sqrt, do: {return: {double: nan}}}\n',
		'inf.json': '{"rules": [{"act": {"object": "$main", "function": "sqrt", "do": {"return": {"double": "-inf"}}}}]}\n',
		'inf.cfg': 'act $main sqrt return=double:inf\n',
	});
	const program = path.join(directory, 'sq');
	execFileSync('gcc', ['-O0', '-fno-builtin', '-o', program, path.join(directory, 'sq.c'), '-lm']);
	for (const [file, printed, named] of [['nan.yaml', 'nan', 'nan'], ['inf.json', '-inf', '-inf'], ['inf.cfg', 'inf', 'inf']] as const) {
		const config = path.join(directory, file);
		const run = await pdi(['run', '-c', config, '--', program, '4']);
		t.deepEqual([run.code, run.stdout], [0, `${printed}\n`], run.stderr);
		const checked = await pdi(['config', 'check', config]);
		t.like(JSON.parse(checked.stdout), {rules: [{kind: 'act', do: {return: {double: named}}}]}, checked.stdout);
	}

	const bare = await pdi(['run', '--', program, '4']);
	t.is(bare.stdout, '2.000000\n');
});

test('a double result past a double\'s range is an error at it in the text dialect, not an infinity nobody wrote; one below it is zero', async t => {
	// Before: return=double:1e400 was read as inf, silently, where YAML's {double: 1e400} was refused.
	const directory = writeFiles({'big.cfg': 'act * strtod return=double:-1e400\n', 'small.cfg': 'act * strtod return=double:1e-400\n'});
	const big = await pdi(['config', 'check', path.join(directory, 'big.cfg')]);
	t.is(big.code, 2);
	t.is(big.stderr, `pdi: ${directory}/big.cfg:1:14: act: return=double:-1e400: out of a double's range (at most about 1.8e308; an infinity is written inf or -inf)\n`);
	const small = await pdi(['config', 'check', path.join(directory, 'small.cfg')]);
	t.is(small.code, 0, small.stderr);
	t.like(JSON.parse(small.stdout), {rules: [{do: {return: {double: 0}}}]});
});

test('a double result past a double\'s range in YAML and JSON says so, as the text dialect does, not that a number was expected', async t => {
	// Before: 'expected an integer (...) or {double: NUMBER} (...), got {"double":Infinity}'.
	const directory = writeFiles({
		'big.yaml': 'rules:\n  - act: {function: strtod, do: {return: {double: 1e400}}}\n',
		'big.json': '{"rules": [{"act": {"function": "strtod", "do": {"return": {"double": -1e400}}}}]}\n',
	});
	for (const [file, place] of [['big.yaml', '2:42'], ['big.json', '1:60']] as const) {
		const run = await pdi(['config', 'check', path.join(directory, file)]);
		t.is(run.code, 2);
		t.regex(run.stderr, new RegExp(`^pdi: \\S+${file.replace('.', '\\.')}:${place}: rules\\[0\\]\\.act\\.do\\.return: out of a double's range \\(at most about 1\\.8e308; an infinity is written inf or -inf\\)`), run.stderr);
	}
});

test('YAML\'s .nan as a double result says how a config writes NaN, and .inf how it writes an infinity, not that NaN is out of range', async t => {
	// Before: '.nan' gave 'out of a double's range (...), got {"double":NaN}'.
	const directory = writeFiles({
		'nan.yaml': 'rules:\n  - act: {function: sqrt, do: {return: {double: .nan}}}\n',
		'inf.yaml': 'rules:\n  - act: {function: sqrt, do: {return: {double: -.inf}}}\n',
	});
	const nan = await pdi(['config', 'check', path.join(directory, 'nan.yaml')]);
	t.deepEqual([nan.code, nan.stderr], [2, `pdi: ${directory}/nan.yaml:2:40: rules[0].act.do.return: YAML's .nan is not how a config writes NaN: {double: nan}, got {"double":NaN}\n`]);
	const inf = await pdi(['config', 'check', path.join(directory, 'inf.yaml')]);
	t.deepEqual([inf.code, inf.stderr], [2, `pdi: ${directory}/inf.yaml:2:40: rules[0].act.do.return: out of a double's range (at most about 1.8e308; an infinity is written inf or -inf), got {"double":-Infinity}\n`]);
});
