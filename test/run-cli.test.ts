import path from 'node:path';
import test from 'ava';
import {writeFiles} from './helpers/files.js';
import {pdi} from './helpers/cli.js';
import {fixBackend, fixtures, runBare, runPreloaded, values} from './helpers/preload.js';
import {textValue} from './helpers/quote.js';

const program = path.join(fixtures, 'now-pie/fixprog');
const cbprog = path.join(fixtures, 'callback/cbprog');
const handlerBackend = path.join(fixtures, 'callback/cb-handler-backend.so');

function scratch(files: Record<string, string>): string {
	return writeFiles(files, 'pdi-run-test-');
}

test('pdi run -c rules.yaml runs the program with the relink installed', async t => {
	const directory = scratch({'rules.yaml': `backends:\n  - {name: fix, library: ${fixBackend}}\nrules:\n  - relink: {object: $main, function: fix_add, backend: fix, wrapper: wrap_fix_add}\n`});
	const result = await pdi(['run', '-c', path.join(directory, 'rules.yaml'), '--', program]);
	t.is(result.code, 0, result.stderr);
	t.is(values(result.stdout).get('fix_add'), '105');
	t.is(values(result.stdout).get('fix_add_twice'), '2');
});

test('pdi run merges several -c files in order', async t => {
	const directory = scratch({
		'backends.json': JSON.stringify({backends: [{name: 'fix', library: fixBackend}]}),
		'rules.json': JSON.stringify({rules: [{relink: {object: 'libfix.so', function: 'fix_add', backend: 'fix', wrapper: 'wrap_fix_add_original'}}]}),
	});
	const result = await pdi(['run', '-c', path.join(directory, 'backends.json'), '-c', path.join(directory, 'rules.json'), '--', program]);
	t.is(result.code, 0, result.stderr);
	t.is(values(result.stdout).get('fix_add'), '5');
	t.is(values(result.stdout).get('fix_add_twice'), '1002');
});

test('a text-dialect file may use a backend that an earlier -c file declares, in either dialect, and an undeclared one is reported at its backend field after the merge', async t => {
	const directory = scratch({
		'a.yaml': `backends: [{name: fix, library: ${fixBackend}}]\n`,
		'a.cfg': `backend fix = ${textValue(fixBackend)}\n`,
		'b.cfg': 'relink $main fix_add fix wrap_fix_add\n',
		'b.yaml': 'rules:\n  - relink: {object: $main, function: fix_add, backend: fix, wrapper: wrap_fix_add}\n',
		'bad.cfg': 'relink $main fix_add nobody wrap_fix_add\n',
	});
	const file = (name: string) => path.join(directory, name);
	for (const [first, second] of [['a.yaml', 'b.cfg'], ['a.cfg', 'b.cfg'], ['a.cfg', 'b.yaml']]) {
		const result = await pdi(['run', '-c', file(first!), '-c', file(second!), '--', program]);
		t.is(result.code, 0, `${first} ${second}: ${result.stderr}`);
		t.is(values(result.stdout).get('fix_add'), '105', `${first} ${second}`);
	}

	for (const files of [['a.yaml', 'bad.cfg'], ['bad.cfg', 'a.cfg'], ['bad.cfg']]) {
		const result = await pdi(['run', ...files.flatMap(name => ['-c', file(name)]), '--', program]);
		t.is(result.code, 2, files.join(' '));
		t.is(result.stderr, `pdi: ${file('bad.cfg')}:1:22: unknown backend 'nobody'\n`, files.join(' '));
	}

	const check = await pdi(['config', 'check', file('b.cfg')]);
	t.is(check.code, 2);
	t.is(check.stderr, `pdi: ${file('b.cfg')}:1:22: unknown backend 'fix'\n`);
	// Started by hand, the core reads one file and still refuses a backend it does not declare.
	const byHand = await runPreloaded(program, [], file('b.cfg'));
	t.is(byHand.code, 2);
	t.regex(byHand.stderr, /b\.cfg:1:22: unknown backend 'fix'/);
});

test('a callback handler may rely on cb_allow_handler set by another -c file, in either dialect; without it the error is at the handler, in its file\'s spelling', async t => {
	const directory = scratch({
		'allow.cfg': 'cb_allow_handler = on\n',
		'allow.yaml': 'options: {cbAllowHandler: true}\n',
		'h.cfg': `backend h = ${textValue(handlerBackend)}\ncallback $main * h count_handler\n`,
		'h.yaml': `backends: [{name: h, library: ${handlerBackend}}]\nrules:\n  - callback: {object: $main, backend: h, handler: count_handler}\n`,
	});
	const file = (name: string) => path.join(directory, name);
	const expected = await runBare(cbprog, ['change']);
	for (const [first, second] of [['allow.cfg', 'h.cfg'], ['allow.yaml', 'h.cfg'], ['allow.cfg', 'h.yaml'], ['allow.yaml', 'h.yaml'], ['h.cfg', 'allow.yaml']]) {
		const result = await pdi(['run', '-c', file(first!), '-c', file(second!), '--', cbprog, 'change']);
		t.is(result.code, 0, `${first} ${second}: ${result.stderr}`);
		t.is(result.stdout, expected.stdout, `${first} ${second}`);
		t.regex(result.stderr, /^handler: 5 calls$/m, `${first} ${second}`);
	}

	for (const [name, message] of [['h.cfg', '2:20: callback handler \'count_handler\' needs cb_allow_handler = on'], ['h.yaml', '3:52: callback handler \'count_handler\' needs options.cbAllowHandler: true']]) {
		for (const args of [['run', '-c', file(name!), '--', cbprog], ['config', 'check', file(name!)]]) {
			const result = await pdi(args);
			t.is(result.code, 2, args.join(' '));
			t.is(result.stderr, `pdi: ${file(name!)}:${message}\n`, args.join(' '));
		}
	}
});

test('a pDI-Tools-style config with sections, an Include of a section, reset_config and several command files works end to end', async t => {
	const directory = scratch({
		'system.cfg': '[global]\nWarning the system file is used directly\n[defaults]\ndonttouch_backends = on\nmax_objects = 50\nconfig = dropped.cmd\n',
		'pdi.cfg': '# user file\nInclude "system.cfg:defaults"\nreset_config\nconfig = objects.cmd\nconfig = rules.cmd\nInclude ":more"\n[more]\nmax_threads = 32\n',
		'objects.cmd': `object app = $main\nobject fix_library = libfix.so\nbackend fix = ${textValue(fixBackend)}\n`,
		'rules.cmd': 'relink app fix_add fix wrap_fix_add\nrelink fix_library fix_add fix wrap_fix_add_original\n',
		'dropped.cmd': 'this file is dropped by reset_config and never read\n',
	});
	const result = await pdi(['run', '-c', path.join(directory, 'pdi.cfg'), '--', program]);
	t.is(result.code, 0, result.stderr);
	t.is(values(result.stdout).get('fix_add'), '105');
	t.is(values(result.stdout).get('fix_add_twice'), '1002');
	const check = await pdi(['config', 'check', path.join(directory, 'pdi.cfg')]);
	t.is(check.code, 0, check.stderr);
	const normalized = JSON.parse(check.stdout) as {options: {maxThreads: number; maxObjects: number}; rules: unknown[]};
	t.is(normalized.options.maxThreads, 32);
	t.is(normalized.options.maxObjects, 50);
	t.is(normalized.rules.length, 2);
});

test('pdi run exits with the program\'s status, and 128+N when signal N ends it', async t => {
	const exited = await pdi(['run', '--', 'sh', '-c', 'exit 3']);
	t.is(exited.code, 3);
	const killed = await pdi(['run', '--', 'sh', '-c', 'kill -USR1 $$']);
	t.is(killed.code, 128 + 10);
});

const configErrors: Array<[string, Record<string, string>, string, RegExp]> = [
	['an unknown key in YAML', {'c.yaml': 'options:\n  maxThreads: 4\n  bogus: 1\n'}, 'c.yaml', /^pdi: \S+c\.yaml:3:3: .*bogus/],
	['a wrong type in JSON', {'c.json': '{\n  "options": {\n    "maxThreads": "many"\n  }\n}\n'}, 'c.json', /^pdi: \S+c\.json:3:19: .*maxThreads/],
	['a YAML syntax error', {'c.yaml': 'rules:\n  - relink: {object: $main\n'}, 'c.yaml', /^pdi: \S+c\.yaml:\d+:\d+: /],
	['a missing backend file', {'c.yaml': 'backends:\n  - {name: fix, library: /no/such/backend.so}\n'}, 'c.yaml', /^pdi: \S+c\.yaml:2:\d+: .*\/no\/such\/backend\.so/],
	['a missing wrapper symbol', {'c.yaml': `backends:\n  - {name: fix, library: ${fixBackend}}\nrules:\n  - relink: {object: $main, function: fix_add, backend: fix, wrapper: no_such_wrapper}\n`}, 'c.yaml', /^pdi: \S+c\.yaml:4:\d+: .*no_such_wrapper/],
	['a rule whose backend no file declares', {'c.json': '{"rules": [\n  {"relink": {"object": "$main", "function": "fix_add", "backend": "nobody", "wrapper": "w"}}\n]}\n'}, 'c.json', /^pdi: \S+c\.json:2:\d+: unknown backend 'nobody'/],
	['an unknown object alias', {'c.cfg': 'config = r.cmd\n', 'r.cmd': `backend fix = ${textValue(fixBackend)}\nrelink app fix_add fix wrap_fix_add\n`}, 'c.cfg', /^pdi: \S+r\.cmd:2:8: unknown object alias 'app'/],
	['a malformed command line', {'c.cfg': 'config = r.cmd\n', 'r.cmd': 'relink $main fix_add\n'}, 'c.cfg', /^pdi: \S+r\.cmd:1:\d+: malformed relink line/],
	['an unknown key in the text dialect', {'c.cfg': 'max_thread = 3\n'}, 'c.cfg', /^pdi: \S+c\.cfg:1:1: unknown key 'max_thread'/],
	['an Include cycle', {'c.cfg': 'Include ":a"\n[a]\nInclude "d.cfg:b"\n', 'd.cfg': '[b]\nInclude "c.cfg:a"\n'}, 'c.cfg', /^pdi: \S+d\.cfg:2:\d+: Include cycle/],
];

for (const [what, files, entry, pattern] of configErrors) {
	test(`pdi run reports ${what} in one line with its place, exits 2 and runs nothing`, async t => {
		const directory = scratch(files);
		const result = await pdi(['run', '-c', path.join(directory, entry), '--', program]);
		t.is(result.code, 2);
		t.is(result.stdout, '');
		t.regex(result.stderr, pattern);
		t.is(result.stderr.trimEnd().split('\n').length, 1, result.stderr);
	});
}

test('pdi run without a program is a usage error', async t => {
	const result = await pdi(['run']);
	t.is(result.code, 2);
	t.regex(result.stderr, /^pdi: missing PROGRAM/);
});

test('-vv adds debug lines: each backend\'s file, each object at start, and the slots each rule took of each object; -v has none of them', async t => {
	const directory = scratch({'rules.yaml': `backends:\n  - {name: fix, library: ${fixBackend}}\nrules:\n  - relink: {object: '*', function: fix_add, backend: fix, wrapper: wrap_fix_add}\n`});
	const config = path.join(directory, 'rules.yaml');
	const debug = await pdi(['run', '-vv', '-c', config, '--', program]);
	t.is(debug.code, 0, debug.stderr);
	t.regex(debug.stderr, new RegExp(`^pdi: debug: backend 'fix': ${fixBackend.replaceAll('.', '\\.')}$`, 'm'));
	t.regex(debug.stderr, new RegExp(`^pdi: debug: object 0: ${program.replaceAll('.', '\\.')} at 0x[\\da-f]+$`, 'm'));
	t.regex(debug.stderr, /^pdi: debug: object \d+: \S+libc\.so\.6 at 0x[\da-f]+$/m);
	t.regex(debug.stderr, new RegExp(`^pdi: debug: ${config.replaceAll('.', '\\.')}:4: relink fix_add: 1 slot\\(s\\) of ${program.replaceAll('.', '\\.')}$`, 'm'));
	const info = await pdi(['run', '-v', '-c', config, '--', program]);
	t.is(info.code, 0, info.stderr);
	t.notRegex(info.stderr, /^pdi: debug: /m);
	t.regex(info.stderr, /^pdi: relink fix_add in \*: \d+ slot\(s\) -> wrap_fix_add$/m);
});

test('a log file that cannot be opened is one warning naming it, and the log goes to stderr instead: an act rule\'s counts at exit are not lost', async t => {
	const directory = scratch({
		'log.yaml': 'options: {log: {level: info, file: /nonexistent-pdi-dir/pdi.log}}\nrules:\n  - act: {object: $main, function: fix_add, do: {count: true}}\n',
	});
	const result = await pdi(['run', '-c', path.join(directory, 'log.yaml'), '--', program]);
	t.is(result.code, 0, result.stderr);
	t.is(values(result.stdout).get('fix_add'), '5');
	t.regex(result.stderr, /^pdi: warning: log_file '\/nonexistent-pdi-dir\/pdi\.log': cannot open it \(No such file or directory\): logging to stderr instead$/m);
	t.regex(result.stderr, /act \$main fix_add: 1 call\(s\) seen/);
	const viaEnvironment = await pdi(['run', '-c', path.join(directory, 'log.yaml'), '--', program], {env: {...process.env, PDI_LOG: '/nonexistent-pdi-dir/other.log'}});
	t.regex(viaEnvironment.stderr, /^pdi: warning: PDI_LOG '\/nonexistent-pdi-dir\/other\.log': cannot open it/m);
});
