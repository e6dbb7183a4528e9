import {spawnSync} from 'node:child_process';
import {copyFileSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {configJsonSchema, parseTextDialect, type NormalizedConfig} from '../src/ts/config/index.js';
import {cliPath, pdi} from './helpers/cli.js';
import {scratchDirectory} from './helpers/files.js';
import {fixBackend, fixtures, values} from './helpers/preload.js';
import {textValue} from './helpers/quote.js';
import {refusedAlike} from './helpers/config-agree.js';

const scratch = scratchDirectory('pdi-config-cli-');

function write(name: string, text: string): string {
	const file = path.join(scratch, name);
	writeFileSync(file, text);
	return file;
}

const good = write('good.yaml', [
	'options:',
	'  maxThreads: 8',
	'backends:',
	'  - {name: nop, library: noop}',
	'rules:',
	'  - relink: {object: $main, function: fix_add, backend: nop, wrapper: pdi_be_init}',
	'',
].join('\n'));

test('pdi config check prints the normalized config as JSON and exits 0', async t => {
	const result = await pdi(['config', 'check', good]);
	t.is(result.code, 0, result.stderr);
	t.is(result.stderr, '');
	const config = JSON.parse(result.stdout) as NormalizedConfig;
	t.is(config.options.maxThreads, 8);
	t.is(config.options.cbStackSize, 1024);
	t.deepEqual(config.backends, [{name: 'nop', library: 'noop', origin: {file: good, line: 4, column: 5}}]);
	t.deepEqual(config.rules[0], {kind: 'relink', object: '$main', function: 'fix_add', backend: 'nop', wrapper: 'pdi_be_init', origin: {file: good, line: 6, column: 5}});
});

test('pdi config check exits 2 with a line per problem, each naming its file, line and column, the first problem first; a misspelt key is not also a missing one', async t => {
	const bad = write('bad.yaml', 'backends:\n  - name: nop\n    libary: noop\n  - name: 5\n');
	const result = await pdi(['config', 'check', bad]);
	t.is(result.code, 2);
	t.is(result.stdout, '');
	t.is(result.stderr, [
		`pdi: ${bad}:3:5: unknown key 'libary' in backends[0] (did you mean 'library'?)`,
		`pdi: ${bad}:4:5: missing key 'library' in backends[1]`,
		`pdi: ${bad}:4:11: backends[1].name: expected a backend name (letters, digits, \`_\`, \`.\`, \`+\`, \`-\`), got 5`,
		'',
	].join('\n'));
});

test('pdi config check finds a wrapper the backend does not define', async t => {
	const missing = write('missing.cfg', 'backend nop = noop\nrelink $main fix_add nop wrap_fix_add\n');
	const result = await pdi(['config', 'check', missing]);
	t.is(result.code, 2);
	t.regex(result.stderr, new RegExp(`^pdi: ${missing}:2:26: relink fix_add: wrapper 'wrap_fix_add' is not defined by nop \\(.+\\/pdi-backend-noop\\.so\\)\\n$`));
});

test('pdi config check prints the text dialect\'s warnings once, as the core prints them when the config runs', async t => {
	const warned = write('warned.cfg', 'max_threads = 4\nWarning this config is for testing\n');
	const result = await pdi(['config', 'check', warned]);
	t.is(result.code, 0, result.stderr);
	t.is(result.stderr, `pdi: warning: ${warned}:2:1: this config is for testing\n`);
	t.is((JSON.parse(result.stdout) as NormalizedConfig).options.maxThreads, 4);
	const run = await pdi(['run', '-c', warned, '--', '/bin/true']);
	t.is(run.code, 0, run.stderr);
	t.is(run.stderr, result.stderr);
	const compiled = await pdi(['config', 'compile', warned]);
	t.is(compiled.code, 0, compiled.stderr);
	t.is(compiled.stderr, '', 'compile keeps the Warning line in its output and prints nothing');
	t.true(compiled.stdout.includes(`\n#@origin ${warned}:2:1\nWarning "this config is for testing"\n`));
});

test('pdi config compile writes the text dialect to stdout or to -o FILE', async t => {
	const stdout = await pdi(['config', 'compile', good]);
	t.is(stdout.code, 0, stdout.stderr);
	t.true(stdout.stdout.includes(`\n[global]\n#@origin ${good}:2:15\nmax_threads = 8\n`));
	t.true(stdout.stdout.includes(`\n#@origin ${good}:6:5\n#@field 8 ${good}:6:22\n#@field 11 ${good}:6:39\n#@field 19 ${good}:6:57\n#@field 23 ${good}:6:71\nrelink o1 fix_add nop pdi_be_init\n`));
	const output = path.join(scratch, 'good.cfg');
	const toFile = await pdi(['config', 'compile', good, '-o', output]);
	t.is(toFile.code, 0, toFile.stderr);
	t.is(toFile.stdout, '');
	const text = readFileSync(output, 'utf8');
	t.is(text, stdout.stdout);
	t.deepEqual(parseTextDialect(text, output).rules[0]?.origin, {file: good, line: 6, column: 5});
});

test('pdi config compile of a bad config exits 2 and writes nothing', async t => {
	const bad = write('range.json', '{\n  "options": {"numThreads": -1}\n}\n');
	const output = path.join(scratch, 'never.cfg');
	const result = await pdi(['config', 'compile', bad, '-o', output]);
	t.is(result.code, 2);
	t.is(result.stderr, `pdi: ${bad}:2:29: options.numThreads: expected an integer ≥ 0, got -1\n`);
	t.throws(() => readFileSync(output));
});

test('pdi config schema prints the JSON Schema of the JSON/YAML spelling', async t => {
	const result = await pdi(['config', 'schema']);
	t.is(result.code, 0, result.stderr);
	t.deepEqual(JSON.parse(result.stdout), configJsonSchema());
});

test('pdi config check of a file that does not exist exits 2 naming it', async t => {
	const file = path.join(scratch, 'nonexistent.yaml');
	const result = await pdi(['config', 'check', file]);
	t.is(result.code, 2);
	t.is(result.stderr, `pdi: ${file}: no such file or directory\n`);
});

const badInputs: Array<[string, () => string[], RegExp]> = [
	['a truncated JSON file', () => ['config', 'check', write('truncated.json', '{\n  "options": {"maxThreads": 3')], /^pdi: \S+truncated\.json:2:30: JSON syntax error: unexpected end of input \(the file is truncated\)$/],
	['JSON with a trailing comma', () => ['config', 'check', write('comma.json', '{"options": {"maxThreads": 3,}}')], /^pdi: \S+comma\.json:1:29: JSON syntax error: trailing comma before '}'$/],
	['a JSON object with a key given twice', () => ['config', 'check', write('twice.json', '{\n  "backends": [],\n  "backends": []\n}\n')], /^pdi: \S+twice\.json:3:3: JSON syntax error: duplicate key "backends" \(first at line 2, column 3\)$/],
	['YAML in a .json file', () => ['config', 'check', write('yaml.json', 'backends: []\n')], /^pdi: \S+yaml\.json:1:1: JSON syntax error: unexpected 'backends' \(expected a value\)$/],
	['a JSON string with a raw control character', () => ['config', 'check', write('control.json', '{\n  "options": {"log": {"file": "a\u0001b"}}}')], /^pdi: \S+control\.json:2:33: JSON syntax error: control character U\+0001 in a string \(write it as an escape\)$/],
	['a JSON value after the value', () => ['config', 'check', write('after.json', '{}\n{}\n')], /^pdi: \S+after\.json:2:1: JSON syntax error: unexpected '\{' after the JSON value$/],
	['an empty JSON file', () => ['config', 'check', write('empty.json', '')], /^pdi: \S+empty\.json:1:1: JSON syntax error: no value \(the file is empty\)$/],
	// YAML's `null` is its empty document, an empty config; JSON's was taken as one too.
	['a JSON file that holds null', () => ['config', 'check', write('null.json', '\n  null\n')], /^pdi: \S+null\.json:2:3: expected a mapping, got null$/],
	['a misspelt JSON literal', () => ['config', 'check', write('literal.json', '{"options": {"protectBackends": tru}}')], /^pdi: \S+literal\.json:1:33: JSON syntax error: unexpected 'tru' \(expected a value\)$/],
	['a JSON number with a leading zero', () => ['config', 'check', write('zero.json', '{"options": {"maxThreads": 012}}')], /^pdi: \S+zero\.json:1:28: JSON syntax error: invalid number '012'$/],
	['JSON nested 200000 deep and cut off', () => ['config', 'check', write('deep.json', '['.repeat(200_000))], /^pdi: \S+deep\.json:1:200001: JSON syntax error: unexpected end of input \(the file is truncated\)$/],
	['-o into a missing directory', () => ['config', 'compile', good, '-o', path.join(scratch, 'missing-dir/x.cfg')], /^pdi: \S+missing-dir\/x\.cfg: no such file or directory$/],
	['a directory as the config', () => ['config', 'check', scratch], /^pdi: \S+: is a directory$/],
	// Not also 'options.numThreads: expected an integer ≤ maxThreads (-1)', of a numThreads the file does not set.
	['a maxThreads below its range', () => ['config', 'check', write('negative.yaml', 'options:\n  maxThreads: -1\n')], /^pdi: \S+negative\.yaml:2:15: options\.maxThreads: expected an integer ≥ 1, got -1$/],
	['a maxThreads below its range, with a numThreads', () => ['config', 'check', write('negative.json', '{"options": {"maxThreads": -4, "numThreads": 2}}')], /^pdi: \S+negative\.json:1:28: options\.maxThreads: expected an integer ≥ 1, got -4$/],
	['a text config with an unterminated quote', () => ['config', 'compile', write('quote.cfg', 'log_file = "x.log\n')], /^pdi: \S+quote\.cfg:1:12: unterminated quoted string/],
	['an Include of a file that does not exist', () => ['config', 'check', write('include.cfg', 'Include "nowhere.cfg"   # there is none\n')], /^pdi: \S+include\.cfg:1:9: cannot read '\S+nowhere\.cfg': no such file or directory$/],
];

for (const [what, args, pattern] of badInputs) {
	test(`pdi config reports ${what} in one line on stderr and exits 2`, async t => {
		const result = await pdi(args());
		t.is(result.code, 2);
		t.is(result.stdout, '');
		t.is(result.stderr.split('\n').length, 2, result.stderr);
		t.regex(result.stderr.trimEnd(), pattern);
	});
}

test('what pdi config check prints is a config: checked again it gives the same options, backends, rules and warnings, and pdi run runs it', async t => {
	const written = write('every-kind.cfg', [
		'max_threads = 16',
		'log_level = info',
		'Warning written on purpose',
		'object app = $main',
		`backend fix = ${textValue(fixBackend)}`,
		'backend tr = trace',
		'relink app fix_add fix wrap_fix_add',
		'redefine * getpid fix wrap_getpid_4242',
		'callback libfix.so * tr',
		'act app getpid return=7',
		'',
	].join('\n'));
	const first = await pdi(['config', 'check', written]);
	t.is(first.code, 0, first.stderr);
	const checked = write('checked.json', first.stdout);
	const second = await pdi(['config', 'check', checked]);
	t.is(second.code, 0, second.stderr);
	t.is(second.stderr, first.stderr, 'the warning, with its first place');
	type Checked = NormalizedConfig & {optionOrigins: Record<string, unknown>};
	const strip = ({options, backends, rules, warnings, optionOrigins}: Checked) => ({
		options, warnings, set: Object.keys(optionOrigins).sort(),
		backends: backends.map(({origin: _origin, ...backend}) => backend),
		rules: rules.map(({origin: _origin, ...rule}) => rule),
	});
	t.deepEqual(strip(JSON.parse(second.stdout) as Checked), strip(JSON.parse(first.stdout) as Checked));
	t.deepEqual(Object.keys((JSON.parse(second.stdout) as Checked).optionOrigins).sort(), ['log.level', 'maxThreads']);
	const run = await pdi(['run', '-c', checked, '--', path.join(fixtures, 'now-pie/fixprog')]);
	t.is(run.code, 0, run.stderr);
	t.is(values(run.stdout).get('fix_add'), '105');
});

test('a checked config read back names its own lines in errors', async t => {
	const first = await pdi(['config', 'check', good]);
	const checked = JSON.parse(first.stdout) as {rules: Array<Record<string, unknown>>};
	checked.rules[0]!['wrapper'] = 'no_such_wrapper';
	const file = write('checked-bad.json', JSON.stringify(checked, null, 2) + '\n');
	const result = await pdi(['config', 'check', file]);
	t.is(result.code, 2);
	t.regex(result.stderr, new RegExp(`^pdi: ${file}:\\d+:\\d+: relink fix_add: wrapper 'no_such_wrapper' is not defined by nop `));
});

test('a config read from a pipe (/dev/stdin, -c <(...)) has its relative paths start at the current directory, not at /dev', t => {
	const directory = path.join(scratch, 'piped');
	mkdirSync(directory);
	copyFileSync(fixBackend, path.join(directory, 'my backend.so'));
	writeFileSync(path.join(directory, 'backend.cfg'), 'backend fix = "./my backend.so"\n');
	const text = 'Include "backend.cfg"\nobject app = $main\nrelink app fix_add fix wrap_fix_add\n';
	const yaml = 'backends: [{name: fix, library: "./my backend.so"}]\n';
	// Through a shell's pipe (a socket, Node's `input`, has a test of its own below).
	const cli = (args: string[], input: string) => spawnSync('/bin/sh', ['-c', 'printf %s "$0" | "$@"', input, process.execPath, cliPath, ...args], {cwd: directory, encoding: 'utf8'});
	for (const input of [text, yaml]) {
		const checked = cli(['config', 'check', '/dev/stdin'], input);
		t.is(checked.status, 0, checked.stderr);
		t.is((JSON.parse(checked.stdout) as NormalizedConfig).backends[0]?.library, path.join(directory, 'my backend.so'));
	}

	const run = cli(['run', '-c', '/dev/stdin', '--', path.join(fixtures, 'now-pie/fixprog')], text);
	t.is(run.status, 0, run.stderr);
	t.is(values(run.stdout).get('fix_add'), '105');
});

test('a config on stdin that is a socket (Node\'s child_process input, systemd) is read through /dev/stdin, and the program still gets descriptor 0', t => {
	const yaml = `backends: [{name: fix, library: ${JSON.stringify(fixBackend)}}]\nrules: [{relink: {object: $main, function: fix_add, backend: fix, wrapper: wrap_fix_add}}]\n`;
	const checked = spawnSync(process.execPath, [cliPath, 'config', 'check', '/dev/stdin'], {input: yaml, encoding: 'utf8'});
	t.is(checked.status, 0, checked.stderr);
	t.is((JSON.parse(checked.stdout) as NormalizedConfig).rules.length, 1);
	const run = spawnSync(process.execPath, [cliPath, 'run', '-c', '/dev/stdin', '--', path.join(fixtures, 'now-pie/fixprog')], {input: yaml, encoding: 'utf8'});
	t.is(run.status, 0, run.stderr);
	t.is(values(run.stdout).get('fix_add'), '105');
	const stdin = spawnSync(process.execPath, [cliPath, 'run', '-c', '/dev/fd/0', '--', '/bin/sh', '-c', 'readlink /proc/self/fd/0'], {input: 'rules: []\n', encoding: 'utf8'});
	t.is(stdin.status, 0, stdin.stderr);
	t.regex(stdin.stdout, /^socket:\[\d+\]\n$/);
});

test('pdi config check - and pdi config compile - read the config from stdin, as -o - writes to stdout (- was taken for a file named -)', t => {
	const check = spawnSync(process.execPath, [cliPath, 'config', 'check', '-'], {input: 'rules:\n  - act: {function: open, do: {count: true}}\n', encoding: 'utf8'});
	t.is(check.status, 0, check.stderr);
	t.like(JSON.parse(check.stdout) as NormalizedConfig, {rules: [{kind: 'act', function: 'open'}]});
	const bad = spawnSync(process.execPath, [cliPath, 'config', 'check', '-'], {input: 'rules:\n  - act: {function: open, do: {cont: true}}\n', encoding: 'utf8'});
	t.is(bad.status, 2);
	t.regex(bad.stderr, /^pdi: \/dev\/stdin:2:32: unknown key 'cont' in rules\[0\]\.act\.do \(did you mean 'count'\?\)$/m);
	const compiled = spawnSync(process.execPath, [cliPath, 'config', 'compile', '-'], {input: 'act $main open count\n', encoding: 'utf8'});
	t.is(compiled.status, 0, compiled.stderr);
	t.deepEqual(parseTextDialect(compiled.stdout).rules.map(rule => rule.kind), ['act']);
});

test('pdi config compile names an undeclared backend as written, as check and run do, not the object alias it would get under allow_lib_as_be', async t => {
	const config = path.join(scratch, 'undeclared.yaml');
	writeFileSync(config, 'rules:\n  - relink: {object: $main, function: malloc, backend: nope, wrapper: count_malloc}\n');
	// Before: "unknown backend 'o2' ('o2' is an object alias: allow_lib_as_be = on takes wrappers from an object)".
	for (const command of ['check', 'compile']) {
		const result = await pdi(['config', command, config]);
		t.is(result.code, 2, command);
		t.is(result.stderr, `pdi: ${config}:2:56: unknown backend 'nope'\n`, command);
	}

	const allowed = path.join(scratch, 'undeclared-allowed.yaml');
	writeFileSync(allowed, 'options: {allowUndeclaredWrappers: true}\nrules:\n  - relink: {object: $main, function: malloc, backend: libnope.so, wrapper: count_malloc}\n');
	const compiled = await pdi(['config', 'compile', allowed]);
	t.is(compiled.code, 0, compiled.stderr);
	t.regex(compiled.stdout, /^object o2 = libnope\.so$/m);
	t.regex(compiled.stdout, /^relink o1 malloc o2 count_malloc$/m);
});

test('an object pattern with a \'[\' that nothing closes is an error at the object in every spelling, and one whose brackets close is not', async t => {
	// Before: accepted; the rule matched nothing (only a file named with a '[' would) and only the exit warning told.
	const text = path.join(scratch, 'bracket.cfg');
	writeFileSync(text, 'backend c = count\nrelink "lib[c.so*" malloc c count_malloc\n');
	const yaml = path.join(scratch, 'bracket.yaml');
	writeFileSync(yaml, 'backends: [{name: c, library: count}]\nrules:\n  - relink: {object: "lib[c.so*", function: malloc, backend: c, wrapper: count_malloc}\n');
	const message = 'a \'[\' without its closing \']\' in \'lib[c.so*\' (it would match only a name with a \'[\' in it)';
	for (const [config, expected] of [[text, `pdi: ${text}:2:8: object: ${message}\n`], [yaml, `pdi: ${yaml}:3:22: rules[0].relink.object: ${message}\n`]] as const) {
		const check = await pdi(['config', 'check', config]);
		t.is(check.code, 2);
		t.is(check.stderr, expected);
		const run = await pdi(['run', '-c', config, '--', '/bin/true']);
		t.is(run.code, 2);
		t.is(run.stderr, expected);
	}

	const closed = path.join(scratch, 'brackets-closed.cfg');
	writeFileSync(closed, 'backend c = count\nrelink "lib[c].so*" malloc c count_malloc\nrelink "lib[]c].so*" free c count_free\nrelink "/opt/we[ird/libx.so" calloc c count_calloc\n');
	const check = await pdi(['config', 'check', closed]);
	t.is(check.code, 0, check.stderr);
});

test('a backend declared twice in one YAML file counts once with the same library and names the first declaration with another, as in the text dialect', async t => {
	// Before: the YAML file was 'backend 'c' is declared twice' either way, with no word of where the first was.
	const same = path.join(scratch, 'twice-same.yaml');
	writeFileSync(same, 'backends:\n  - {name: c, library: count}\n  - {name: c, library: count}\n');
	const check = await pdi(['config', 'check', same]);
	t.is(check.code, 0, check.stderr);
	t.is((JSON.parse(check.stdout) as {backends: unknown[]}).backends.length, 1);
	for (const [name, text, place, firstLine] of [['twice.yaml', 'backends:\n  - {name: c, library: count}\n  - {name: c, library: noop}\n', '3:12', 2], ['twice.cfg', 'backend c = count\nbackend c = noop\n', '2:1', 1]] as const) {
		const file = path.join(scratch, name);
		writeFileSync(file, text);
		const result = await pdi(['config', 'check', file]);
		t.is(result.code, 2);
		t.is(result.stderr, `pdi: ${file}:${place}: backend 'c' is already declared at ${file}:${firstLine} with library 'count'\n`);
	}
});

test('pdi config compile refuses to write over a file the config is read from, and warns of an output named .json or .yaml', async t => {
	// Before: `compile k.yaml -o k.yaml` replaced the YAML with the text dialect, status 0, and the source was lost.
	const directory = path.join(scratch, 'compile-over');
	mkdirSync(directory);
	const yaml = path.join(directory, 'k.yaml');
	writeFileSync(yaml, readFileSync(good));
	const main = path.join(directory, 'main.cfg');
	writeFileSync(main, 'config = rules.cmd\n');
	const commands = path.join(directory, 'rules.cmd');
	writeFileSync(commands, 'backend nop = noop\nrelink $main fix_add nop pdi_be_init\n');
	for (const [input, output, source] of [[yaml, yaml, yaml], [main, main, main], [main, commands, commands]] as const) {
		const before = readFileSync(output, 'utf8');
		const result = await pdi(['config', 'compile', input, '-o', output]);
		t.deepEqual([result.code, result.stderr], [2, `pdi: -o ${output}: the config is read from ${source}: write the compiled text to another file\n`]);
		t.is(readFileSync(output, 'utf8'), before);
	}

	const json = path.join(directory, 'out.json');
	const named = await pdi(['config', 'compile', yaml, '-o', json]);
	t.is(named.code, 0, named.stderr);
	t.is(named.stderr, `pdi: warning: -o ${json}: the compiled config is the text dialect, and pdi run -c and config check read a file named .json as JSON: PDI_CONFIG takes it by any name; name it .cfg for the others\n`);
	t.regex(readFileSync(json, 'utf8'), /^relink /m);
});

test('a function name past the core\'s limit is refused in YAML with its field\'s path, before the backend\'s checks, and not written out whole', async t => {
	// Before: `ln.yaml:3:8254: relink fff...(8192 bytes)...: wrapper 'w' is not defined by c (...)`, 8 KB on one line.
	const name = 'f'.repeat(8192);
	const file = write('long-name.yaml', `backends: [{name: c, library: count}]\nrules:\n  - relink: {object: $main, function: ${name}, backend: c, wrapper: w}\n`);
	const result = await pdi(['config', 'check', file]);
	t.is(result.code, 2);
	t.is(result.stderr, `pdi: ${file}:3:39: rules[0].relink.function: a name of 8192 bytes; pdi takes names of up to 8191\n`);
	const longest = write('longest-name.yaml', `backends: [{name: c, library: count}]\nrules:\n  - relink: {object: $main, function: ${name.slice(1)}, backend: c, wrapper: count_malloc}\n`);
	t.is((await pdi(['config', 'check', longest])).code, 0);
});

test('a .cfg file that holds YAML or JSON is refused with how to read it, by config check and the core alike', async t => {
	// Before: `app.cfg:1:1: unknown command 'options:'` alone.
	const hint = ' (its first line starts JSON or YAML, which pdi run -c and pdi config check read in a file named .json, .yaml or .yml, and the core never: `pdi config compile FILE.yaml -o FILE.cfg` turns it into the text dialect)';
	const yaml = write('app.cfg', '# converted\noptions:\n  maxThreads: 8\n');
	t.is(await refusedAlike(t, yaml), `pdi: ${yaml}:2:1: unknown command 'options:'${hint}\n`);
	const json = write('app2.cfg', '{"options": {"maxThreads": 8}}\n');
	t.regex(await refusedAlike(t, json), new RegExp(`^pdi: ${json}:1:1: .*${hint.replaceAll(/[.*+?^${}()|[\]\\]/g, '\\$&')}\n$`));
	// A text config's own error gets no such hint.
	const text = write('app3.cfg', 'max_threads = 0\n');
	t.notRegex((await pdi(['config', 'check', text])).stderr, /starts JSON or YAML/);
});

test('an object pattern on two lines is one error, and an act return past 64 bits says so', async t => {
	// Before: a second line at the same place (`unknown name '$main\x0ax' ...`), and the union's whole list of forms.
	const twoLines = write('two-lines.json', '{"rules":[{"act":{"object":"$main\\nx","function":"open","do":{"return":-1}}}]}');
	const split = await pdi(['config', 'check', twoLines]);
	t.deepEqual([split.code, split.stderr], [2, `pdi: ${twoLines}:1:28: rules[0].act.object: expected an object pattern ($main, a soname, a path or a glob) on one line, got "$main\\nx"\n`]);
	const wide = write('wide-return.yaml', 'rules:\n  - act: {function: open, do: {return: "0x10000000000000000"}}\n');
	const result = await pdi(['config', 'check', wide]);
	t.is(result.code, 2);
	t.regex(result.stderr, /^pdi: \S+:2:40: rules\[0\]\.act\.do\.return: expected an integer that fits in 64 bits/);
});

test('an option written at the top of a YAML config, beside rules, is told to belong in options', async t => {
	// Before: `unknown key 'onError'` alone.
	for (const [key, name] of [['onError', 'onError'], ['max_threads', 'maxThreads']] as const) {
		const file = write(`top-${key}.yaml`, `${key}: 4\nrules: []\n`);
		const result = await pdi(['config', 'check', file]);
		t.is(result.code, 2);
		t.is(result.stderr, `pdi: ${file}:1:1: unknown key '${key}' (an option: it belongs in options, as options.${name})\n`);
	}
});
