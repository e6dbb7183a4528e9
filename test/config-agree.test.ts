import {execFileSync} from 'node:child_process';
import {readFileSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {writeFiles} from './helpers/files.js';
import {pdi, root} from './helpers/cli.js';
import {backendApi} from '../src/ts/config/verify.js';
import {fixBackend, fixtures, runPreloaded, values} from './helpers/preload.js';
import {textValue} from './helpers/quote.js';

const program = path.join(fixtures, 'now-pie/fixprog');
const fix = `backend fix = ${textValue(fixBackend)}`;

function files(contents: Record<string, string>): string {
	return writeFiles(contents, 'pdi-agree-');
}

/** The config compiled by `pdi config compile`, for running the core by hand (LD_PRELOAD + PDI_CONFIG). */
async function compiled(file: string): Promise<string> {
	const output = `${file}.compiled`;
	const result = await pdi(['config', 'compile', file, '-o', output]);
	if (result.code !== 0) {
		throw new Error(result.stderr);
	}

	return output;
}

function warningLines(stderr: string): string[] {
	return stderr.split('\n').filter(line => line.startsWith('pdi: warning: '));
}

test('a rule that redirects a slot the way an earlier rule does is a duplicate: check, run and the core by hand accept it and the wrapper runs once', async t => {
	const config = path.join(files({'dup.cfg': `${fix}\nrelink $main fix_add fix wrap_fix_add\nrelink * fix_add fix wrap_fix_add\n`}), 'dup.cfg');
	const check = await pdi(['config', 'check', config]);
	t.is(check.code, 0, check.stderr);
	t.is(check.stderr, '');
	const run = await pdi(['run', '-v', '-c', config, '--', program]);
	t.is(run.code, 0, run.stderr);
	t.is(values(run.stdout).get('fix_add'), '105', 'the wrapper of $main\'s slot runs once');
	t.is(values(run.stdout).get('fix_add_twice'), '102', 'the * rule still redirects libfix\'s slot (2 without it)');
	t.regex(run.stderr, /dup\.cfg:3: relink fix_add: 1 slot\(s\) already redirected the same way by an earlier rule \(a duplicate\)/);
	const byHand = await runPreloaded(program, [], await compiled(config));
	t.is(byHand.code, 0, byHand.stderr);
	t.is(values(byHand.stdout).get('fix_add'), '105');
	t.notRegex(byHand.stderr, /^pdi:/m);
});

test('the same config given twice to pdi run works as given once, also the README\'s count example', async t => {
	const directory = files({
		'fix.yaml': `backends: [{name: fix, library: ${fixBackend}}]\nrules:\n  - relink: {object: $main, function: fix_add, backend: fix, wrapper: wrap_fix_add}\n`,
		'count.yaml': 'backends: [{name: count, library: count}]\nrules:\n  - relink: {object: $main, function: malloc, backend: count, wrapper: count_malloc}\n',
	});
	const fixConfig = path.join(directory, 'fix.yaml');
	const twice = await pdi(['run', '-c', fixConfig, '-c', fixConfig, '--', program]);
	t.is(twice.code, 0, twice.stderr);
	t.is(values(twice.stdout).get('fix_add'), '105');
	const countConfig = path.join(directory, 'count.yaml');
	const count = await pdi(['run', '-c', countConfig, '-c', countConfig, '--', '/bin/ls', directory]);
	t.is(count.code, 0, count.stderr);
	t.regex(count.stdout, /count\.yaml/);
	t.is(count.stderr.match(/^pdi-count: malloc \d+$/gm)?.length, 1, count.stderr);
});

const conflicts: Array<[string, string, RegExp]> = [
	['two relinks of one function on $main and *', 'relink $main fix_add fix wrap_fix_add\nrelink * fix_add fix wrap_fix_add_original\n',
		/^pdi: \S+c\.cfg:3:1: relink fix_add: conflicts with the relink at \S+c\.cfg:2, which already redirects fix_add in \$main\n$/],
	['two redefines of one function on * and libfix.so', 'redefine * fix_add fix wrap_fix_add\nredefine libfix.so fix_add fix wrap_fix_add_original\n',
		/^pdi: \S+c\.cfg:3:1: redefine fix_add: conflicts with the redefine at \S+c\.cfg:2, which already redirects fix_add in \*\n$/],
	['a relink and a callback on one object', 'backend t = trace\nrelink $main fix_add fix wrap_fix_add\ncallback $main * t\n',
		/^pdi: \S+c\.cfg:4:1: callback \$main: conflicts with the relink at \S+c\.cfg:3, which already redirects fix_add in \$main\n$/],
	// pdi_original(wrap_fix_add) has one answer: fix_add_twice would call fix_add, and the relink composed over the redefine itself.
	['one wrapper for two functions', 'relink $main fix_add fix wrap_fix_add\nrelink $main fix_add_twice fix wrap_fix_add\n',
		/^pdi: \S+c\.cfg:3:32: relink fix_add_twice: wrapper 'wrap_fix_add' already serves the relink of fix_add at \S+c\.cfg:2, and pdi_original\(\) has one answer per wrapper: give each its own wrapper\n$/],
	['one wrapper for a redefine and a relink of one function', 'redefine * fix_add fix wrap_fix_add\nrelink $main fix_add fix wrap_fix_add\n',
		/^pdi: \S+c\.cfg:3:26: relink fix_add: wrapper 'wrap_fix_add' already serves the redefine of fix_add at \S+c\.cfg:2, and pdi_original\(\) has one answer per wrapper: give each its own wrapper\n$/],
];

for (const [what, rules, line] of conflicts) {
	test(`${what} fail config check, run and the core by hand with the same line naming both rules`, async t => {
		const config = path.join(files({'c.cfg': `${fix}\n${rules}`}), 'c.cfg');
		const check = await pdi(['config', 'check', config]);
		t.is(check.code, 2);
		t.regex(check.stderr, line);
		const run = await pdi(['run', '-c', config, '--', program]);
		t.is(run.code, 2);
		t.is(run.stdout, '');
		t.is(run.stderr, check.stderr);
		const byHand = await runPreloaded(program, [], await compiled(config));
		t.is(byHand.code, 2);
		t.is(byHand.stdout, '');
		t.is(byHand.stderr, check.stderr);
	});
}

test('a wrapper defined in C++ without extern "C" is named with its mangled name by config check, run and the core by hand', async t => {
	const cxxBackend = path.join(fixtures, 'callback/cb-cxx-backend.so');
	const config = path.join(files({'x.cfg': `backend x = ${textValue(cxxBackend)}\nrelink $main fix_add x wrap_cb_trace_b\n`}), 'x.cfg');
	const check = await pdi(['config', 'check', config]);
	t.is(check.code, 2);
	t.regex(check.stderr, /^pdi: \S+x\.cfg:2:24: relink fix_add: wrapper 'wrap_cb_trace_b' is not defined by x \(.+\/cb-cxx-backend\.so\), which has a C\+\+ function of that name, _Z15wrap_cb_trace_bv: declare the wrapper extern "C"\n$/);
	const run = await pdi(['run', '-c', config, '--', program]);
	t.is(run.code, 2);
	t.is(run.stderr, check.stderr);
	const byHand = await runPreloaded(program, [], await compiled(config));
	t.is(byHand.code, 2);
	t.is(byHand.stderr, check.stderr);
});

const warned: Array<[string, Record<string, string>, string, RegExp[], string | undefined]> = [
	['a wrapper the backend does not define', {'w.cfg': `on_error = warn\n${fix}\nrelink $main fix_add fix nope\n`}, 'w.cfg',
		[/^pdi: warning: \S+w\.cfg:3:26: relink fix_add: wrapper 'nope' is not defined by fix \(.+\/fix-backend\.so\) \(rule skipped\)$/], '5'],
	['a backend that fails to load before a good rule on the same slot', {
		'w.yaml': `options: {onError: warn}\nbackends: [{name: fix, library: ${fixBackend}}, {name: gone, library: /nonexistent/libgone.so}]\nrules:\n  - relink: {object: $main, function: fix_add, backend: gone, wrapper: x}\n  - relink: {object: $main, function: fix_add, backend: fix, wrapper: wrap_fix_add}\n`,
	}, 'w.yaml', [
		/^pdi: warning: \S+w\.yaml:2:\d+: backend 'gone': library '\/nonexistent\/libgone\.so' not found \(searched: \/nonexistent\/libgone\.so\) \(backend skipped\)$/,
		/^pdi: warning: \S+w\.yaml:4:57: relink fix_add: its backend 'gone' failed to load \(rule skipped\)$/,
	], '105'],
	['a bundled backend name that does not exist, and a conflict after a skipped rule', {
		'w.cfg': `on_error = warn\n${fix}\nbackend g = nosuchbackend\nrelink $main fix_add g x\nrelink $main fix_add fix wrap_fix_add\nrelink * fix_add fix wrap_fix_add_original\n`,
	}, 'w.cfg', [
		/^pdi: warning: \S+w\.cfg:3:13: backend 'g': library 'nosuchbackend' not found \(searched: .+\/pdi-backend-nosuchbackend\.so\) \(backend skipped\)$/,
		/^pdi: warning: \S+w\.cfg:4:22: relink fix_add: its backend 'g' failed to load \(rule skipped\)$/,
		/^pdi: warning: \S+w\.cfg:6:1: relink fix_add: conflicts with the relink at \S+w\.cfg:5, which already redirects fix_add in \$main \(rule skipped\)$/,
	], '105'],
	['a backend library that is not an ELF file', {'package.json': JSON.stringify({name: 'not-a-backend', description: 'a text file long enough to have an ELF header\'s size'}), 'sub/w.cfg': 'on_error = warn\nbackend text = ../package.json\n'}, 'sub/w.cfg',
		[/^pdi: warning: \S+sub\/w\.cfg:2:16: backend 'text': cannot load \S+package\.json: invalid ELF header \(backend skipped\)$/], '5'],
	['a backend library shorter than an ELF header, and a directory named as one (they were \'invalid ELF header\' and \'not found\' before the program started, the core\'s words after)', {
		'short.so': 'hello\n', 'dir.so/keep': '', 'w.cfg': 'on_error = warn\nbackend short = ./short.so\nbackend dir = ./dir.so\n',
	}, 'w.cfg', [
		/^pdi: warning: \S+w\.cfg:2:17: backend 'short': cannot load \S+short\.so: file too short \(backend skipped\)$/,
		/^pdi: warning: \S+w\.cfg:3:15: backend 'dir': cannot load \S+dir\.so: it is a directory \(backend skipped\)$/,
	], '5'],
	['a callback backend without hooks and a handler its backend does not define', {'w.cfg': 'on_error = warn\ncb_allow_handler = on\nbackend c = count\nbackend t = trace\ncallback $main * c\ncallback libfix.so * t no_such_handler\n'}, 'w.cfg', [
		/^pdi: warning: \S+w\.cfg:5:18: callback \$main: backend 'c' defines neither PDI_BE_FUNC_PRE_CB nor PDI_BE_FUNC_POST_CB \(rule skipped\)$/,
		/^pdi: warning: \S+w\.cfg:6:24: callback libfix\.so: handler 'no_such_handler' is not defined by t \(.+\/pdi-backend-trace\.so\) \(rule skipped\)$/,
	], '5'],
];

for (const [what, contents, name, expected, fixAdd] of warned) {
	test(`under onError warn, config check prints word for word the warnings run and the core by hand print: ${what}`, async t => {
		const config = path.join(files(contents), name);
		const check = await pdi(['config', 'check', config]);
		t.is(check.code, 0, check.stderr);
		const checkLines = check.stderr.trimEnd().split('\n');
		t.is(checkLines.length, expected.length, check.stderr);
		for (const [index, pattern] of expected.entries()) {
			t.regex(checkLines[index] ?? '', pattern);
		}

		const run = await pdi(['run', '-c', config, '--', program]);
		t.is(run.code, 0, run.stderr);
		t.deepEqual(warningLines(run.stderr), checkLines);
		t.is(values(run.stdout).get('fix_add'), fixAdd);
		const byHand = await runPreloaded(program, [], await compiled(config));
		t.is(byHand.code, 0, byHand.stderr);
		t.deepEqual(warningLines(byHand.stderr), checkLines);
	});
}

test('patterns that meet only in the running program ($main and its path) are reported by the core per slot, naming both rules', async t => {
	const config = path.join(files({'c.cfg': `${fix}\nrelink $main fix_add fix wrap_fix_add\nrelink ${textValue(program)} fix_add fix wrap_fix_add_original\n`}), 'c.cfg');
	const check = await pdi(['config', 'check', config]);
	t.is(check.code, 0, check.stderr);
	const run = await pdi(['run', '-c', config, '--', program]);
	t.is(run.code, 2);
	t.is(run.stdout, '');
	t.regex(run.stderr, /^pdi: \S+c\.cfg:3:1: relink fix_add: conflicts with the relink at \S+c\.cfg:2, which already redirects fixprog's slot for fix_add$/m);
	// The line that says why the program never ran comes first, the backend's report at its FINI after it (it came before).
	t.regex(run.stderr, /^pdi: \S+c\.cfg:3:1: relink fix_add: conflicts [^\n]+\nfix-backend: fini\n$/);
	const same = path.join(files({'c.cfg': `${fix}\nrelink $main fix_add fix wrap_fix_add\nrelink ${textValue(program)} fix_add fix wrap_fix_add\n`}), 'c.cfg');
	const duplicate = await pdi(['run', '-c', same, '--', program]);
	t.is(duplicate.code, 0, duplicate.stderr);
	t.is(values(duplicate.stdout).get('fix_add'), '105');
});

test('of two rules that meet only in the running program, the later in the file is reported, also when the core plans it first', async t => {
	// Relinks are planned before callbacks: the callback at line 3 found the slot the relink at line 4 had taken, and was
	// the one reported, where config check names the later rule.
	const config = path.join(files({'c.cfg': `${fix}\nbackend t = trace\ncallback lib*.so * t\nrelink libfix.so fix_add fix wrap_fix_add\n`}), 'c.cfg');
	const check = await pdi(['config', 'check', config]);
	t.is(check.code, 0, check.stderr);
	const run = await pdi(['run', '-c', config, '--', program]);
	t.is(run.code, 2);
	t.regex(run.stderr, /^pdi: \S+c\.cfg:4:1: relink fix_add: conflicts with the callback at \S+c\.cfg:3, which already redirects libfix\.so's slot for fix_add$/m);
});

test('an executable named as a backend is refused by config check and by pdi run in the core\'s words', async t => {
	const directory = files({'main.c': 'int wrap(void) { return 0; }\nint main(void) { return wrap(); }\n'});
	for (const [name, flags, reason] of [
		['pie', ['-pie', '-fPIE'], 'cannot dynamically load position-independent executable'],
		['exec', ['-no-pie', '-fno-pie'], 'cannot dynamically load executable'],
	] as const) {
		const executable = path.join(directory, name);
		execFileSync('gcc', [...flags, '-rdynamic', '-o', executable, path.join(directory, 'main.c')]);
		const config = path.join(directory, `${name}.yaml`);
		writeFileSync(config, `backends: [{name: x, library: ${executable}}]\nrules:\n  - relink: {object: $main, function: fix_add, backend: x, wrapper: wrap}\n`);
		const line = `pdi: ${config}:1:31: backend 'x': cannot load ${executable}: ${reason}\n`;
		const check = await pdi(['config', 'check', config]);
		t.is(check.code, 2);
		t.is(check.stderr, line);
		const run = await pdi(['run', '-c', config, '--', program]);
		t.is(run.code, 2);
		t.is(run.stderr, line);
	}
});

test('a glob in the function field of a relink, redefine or act rule is refused at the field in every dialect, by pdi and by the core in the same words; symbol names with versions or C++ mangling are not', async t => {
	const because = '(rules name functions exactly; pdi trace -e takes globs)';
	const directory = files({
		'act.yaml': 'rules:\n  - act: {function: "open*", do: {return: 0}}\n',
		'redefine.json': `{"backends": [{"name": "fix", "library": ${JSON.stringify(fixBackend)}}],\n "rules": [{"redefine": {"function": "fix_ad?", "backend": "fix", "wrapper": "wrap_fix_add"}}]}\n`,
		'relink.cfg': `${fix}\nrelink $main fix_[a]dd fix wrap_fix_add\n`,
		'act.cfg': 'act * "open*" count\n',
		'names.cfg': 'act $main write@@GLIBC_2.2.5 count\nact $main _ZNSt6vectorIiSaIiEE9push_backERKi count\nact $main fix_add@FIX_1 count\n',
	});
	const file = (name: string) => path.join(directory, name);
	const expected: Array<[string, string]> = [
		['act.yaml', `${file('act.yaml')}:2:21: rules[0].act.function: a function name, not a pattern: 'open*' ${because}`],
		['redefine.json', `${file('redefine.json')}:2:38: rules[0].redefine.function: a function name, not a pattern: 'fix_ad?' ${because}`],
		['relink.cfg', `${file('relink.cfg')}:2:14: function: a function name, not a pattern: 'fix_[a]dd' ${because}`],
		['act.cfg', `${file('act.cfg')}:1:7: function: a function name, not a pattern: 'open*' ${because}`],
	];
	for (const [name, message] of expected) {
		const check = await pdi(['config', 'check', file(name)]);
		t.is(check.code, 2, name);
		t.is(check.stderr, `pdi: ${message}\n`, name);
	}

	for (const name of ['relink.cfg', 'act.cfg']) {
		const byHand = await runPreloaded(program, [], file(name));
		t.is(byHand.code, 2, name);
		t.is(byHand.stderr, `pdi: ${expected.find(([other]) => other === name)![1]}\n`, name);
	}

	const names = await pdi(['config', 'check', file('names.cfg')]);
	t.is(names.code, 0, names.stderr);
});

test('a backend that uses a pdi_ name the core does not provide is refused by config check, run and the core by hand with the same line, and skipped with its rules under onError warn', async t => {
	const directory = files({'api.c': '#include <pdi/backend.h>\n#include <unistd.h>\n#ifdef WEAK\n#pragma weak pdi_frobnicate\n#endif\nvoid *pdi_frobnicate(void);\n__attribute__((visibility("default"))) int wrap(int x) { return pdi_frobnicate() ? x : 0; }\n'});
	for (const weak of [false, true]) {
		const backend = path.join(directory, weak ? 'weak.so' : 'strong.so');
		execFileSync('gcc', ['-shared', '-fPIC', '-fvisibility=hidden', ...(weak ? ['-DWEAK'] : []), '-I', path.join(root, 'include'), '-o', backend, path.join(directory, 'api.c')]);
		const config = path.join(directory, 'api.cfg');
		writeFileSync(config, `${fix}\nbackend x = ${textValue(backend)}\nrelink $main fix_add x wrap\n`);
		const line = `pdi: ${config}:2:13: backend 'x': cannot load ${backend}: it uses 'pdi_frobnicate', which is not part of the pdi backend API\n`;
		const check = await pdi(['config', 'check', config]);
		t.is(check.code, 2);
		t.is(check.stderr, line);
		const run = await pdi(['run', '-c', config, '--', program]);
		t.is(run.code, 2);
		t.is(run.stderr, line);
		const byHand = await runPreloaded(program, [], await compiled(config));
		t.is(byHand.code, 2);
		t.is(byHand.stderr, line);
	}

	const warned = path.join(directory, 'warn.cfg');
	writeFileSync(warned, `on_error = warn\n${fix}\nbackend x = ${textValue(path.join(directory, 'strong.so'))}\nrelink $main fix_add x wrap\n`);
	const check = await pdi(['config', 'check', warned]);
	t.is(check.code, 0, check.stderr);
	t.deepEqual(warningLines(check.stderr), [
		`pdi: warning: ${warned}:3:13: backend 'x': cannot load ${path.join(directory, 'strong.so')}: it uses 'pdi_frobnicate', which is not part of the pdi backend API (backend skipped)`,
		`pdi: warning: ${warned}:4:22: relink fix_add: its backend 'x' failed to load (rule skipped)`,
	]);
	const run = await pdi(['run', '-c', warned, '--', program]);
	t.is(run.code, 0, run.stderr);
	t.deepEqual(warningLines(run.stderr), warningLines(check.stderr));
	t.is(values(run.stdout).get('fix_add'), '5');
	const byHand = await runPreloaded(program, [], await compiled(warned));
	t.deepEqual(warningLines(byHand.stderr), warningLines(check.stderr));
});

test('the pdi_ names config check accepts are the helpers the core binds and the header declares', t => {
	const core = readFileSync(path.join(root, 'src/native/session/backend-helpers.c'), 'utf8');
	const table = core.slice(core.indexOf('helpers[] = {'), core.indexOf('};', core.indexOf('helpers[] = {')));
	t.deepEqual([...backendApi].sort(), [...table.matchAll(/\{"(pdi_\w+)"/g)].map(match => match[1]).sort());
	const header = readFileSync(path.join(root, 'include/pdi/backend.h'), 'utf8');
	for (const name of backendApi) {
		t.regex(header, new RegExp(`\\b${name}\\(`), name);
	}
});

test('in C++ an entry point with another prototype is a compile error, and one defined without the header\'s macros is refused by config check, run and the core by hand with the same line naming its mangled name', async t => {
	const init = (parameter: string) => `int PDI_BE_FUNC_INIT(${parameter}) { (void)self; return 7; }\n`;
	const directory = files({
		'good.cpp': `#include <pdi/backend.h>\n${init('const pdi_backend_t *self')}void PDI_BE_FUNC_FINI(void) {}\nextern "C" __attribute__((visibility("default"))) int wrap(int x) { return x; }\n`,
		'bad.cpp': `#include <pdi/backend.h>\n${init('pdi_backend_t *self')}`,
		'bare.cpp': 'struct pdi_backend;\n__attribute__((visibility("default"))) int pdi_be_init(pdi_backend *self) { (void)self; return 7; }\nextern "C" __attribute__((visibility("default"))) int wrap(int x) { return x; }\n',
	});
	const build = (name: string) => {
		const output = path.join(directory, `${name}.so`);
		execFileSync('g++', ['-shared', '-fPIC', '-fvisibility=hidden', '-Wall', '-Wextra', '-I', path.join(root, 'include'), '-o', output, path.join(directory, `${name}.cpp`)], {stdio: 'pipe'});
		return output;
	};

	// Before, the header left it a C++ overload that the core never found: an init that refused never ran.
	const error = t.throws<Error & {stderr: Buffer}>(() => build('bad'));
	t.regex(error?.stderr.toString() ?? '', /pdi_be_init\(pdi_backend_t\*\)/);
	const good = build('good');
	t.deepEqual(execFileSync('nm', ['-D', '--defined-only', good]).toString().match(/\bpdi_be_\w+/g)?.sort(), ['pdi_be_fini', 'pdi_be_init']);
	const refusing = path.join(directory, 'good.cfg');
	writeFileSync(refusing, `${fix}\nbackend x = ${textValue(good)}\nrelink $main fix_add x wrap\n`);
	const refused = await pdi(['run', '-c', refusing, '--', program]);
	t.is(refused.code, 2);
	t.is(refused.stderr.split('\n')[0], `pdi: ${refusing}:2:1: backend 'x': refused to initialise (pdi_be_init returned 7)`);

	const bare = build('bare');
	const config = path.join(directory, 'bare.cfg');
	writeFileSync(config, `${fix}\nbackend x = ${textValue(bare)}\nrelink $main fix_add x wrap\n`);
	const line = `pdi: ${config}:2:1: backend 'x': ${bare} defines pdi_be_init as a C++ function, _Z11pdi_be_initP11pdi_backend, which pdi cannot find: define it with the PDI_BE_FUNC_* macros of <pdi/backend.h> (or extern "C")\n`;
	const check = await pdi(['config', 'check', config]);
	t.deepEqual([check.code, check.stderr], [2, line]);
	const run = await pdi(['run', '-c', config, '--', program]);
	t.deepEqual([run.code, run.stderr], [2, line]);
	const byHand = await runPreloaded(program, [], await compiled(config));
	t.deepEqual([byHand.code, byHand.stderr], [2, line]);
});

test('an object name that starts with \'$\' but is not $main (a misspelling, a shell variable) is an error at its place in YAML, JSON and the text dialect, and for the core by hand', async t => {
	const message = (name: string) => `object: unknown name '${name}' ('$main' names the main program; pdi expands no variables)`;
	const directory = files({
		'rule.yaml': 'rules:\n  - act: {object: $mian, function: open, do: {return: -1, errno: ENOENT}}\n',
		'rule.json': '{"rules": [{"redefine": {"object": "$HOME/lib.so", "function": "f", "backend": "fix", "wrapper": "w"}}]}\n',
		'rule.cfg': `${fix}\nrelink $mian fix_add fix wrap_fix_add\n`,
		'alias.cfg': 'object app = "$PWD/app"\n',
	});
	const expected: Array<[string, string]> = [
		['rule.yaml', `rule.yaml:2:19: rules[0].act.${message('$mian')}`],
		['rule.json', `rule.json:1:36: rules[0].redefine.${message('$HOME/lib.so')}`],
		['rule.cfg', `rule.cfg:2:8: ${message('$mian')}`],
		['alias.cfg', `alias.cfg:1:14: ${message('$PWD/app')}`],
	];
	for (const [file, error] of expected) {
		const check = await pdi(['config', 'check', path.join(directory, file)]);
		t.is(check.code, 2, file);
		t.is(check.stderr, `pdi: ${path.join(directory, error)}\n`, file);
	}

	const byHand = await runPreloaded(program, [], path.join(directory, 'rule.cfg'));
	t.is(byHand.code, 2);
	t.is(byHand.stderr, `pdi: ${path.join(directory, 'rule.cfg')}:2:8: ${message('$mian')}\n`);
	t.is(byHand.stdout, '');
});
