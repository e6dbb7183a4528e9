import {readFileSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {loadError, scratchDirectory, writeFiles, configError} from './helpers/files.js';
import {
	compileConfig,
	configJsonSchema,
	defineConfig,
	loadConfig,
	mergeConfigs,
	normalizeConfig,
	parseTextDialect,
	verifyConfig,
	type NormalizedConfig,
	type PdiConfig,
} from '../src/ts/config/index.js';
import {definedDynamicSymbols} from '../src/ts/elf/dynsym.js';
import {paths} from '../src/ts/paths.js';
import {root} from './helpers/cli.js';

function fixture(files: Record<string, string>): string {
	return writeFiles(files, 'pdi-config-schema-');
}

const defaults = {
	maxThreads: 256,
	numThreads: 0,
	cbStackSize: 1024,
	cbMaxStubs: 4096,
	cbAllowHandler: false,
	protectBackends: true,
	protectPdi: true,
	allowUndeclaredWrappers: false,
	maxObjects: 1024,
	backendPath: [],
	onError: 'fail',
	log: {level: 'warning', file: 'stderr'},
};

test('an empty config has every option at its documented default and no backends or rules', t => {
	const config = normalizeConfig({});
	t.deepEqual(config.options, defaults);
	t.deepEqual(config.backends, []);
	t.deepEqual(config.rules, []);
	t.deepEqual(config.optionOrigins, {});
	t.true(config.normalized);
});

test('every option can be set in YAML, and each set option records the line and column of its value', async t => {
	const directory = fixture({'pdi.yaml': [
		'options:',
		'  maxThreads: 16',
		'  numThreads: 4',
		'  cbStackSize: 4096',
		'  cbMaxStubs: 64',
		'  cbAllowHandler: true',
		'  protectBackends: false',
		'  protectPdi: false',
		'  allowUndeclaredWrappers: true',
		'  maxObjects: 32',
		'  backendPath: [backends, /opt/pdi]',
		'  onError: warn',
		'  log: {level: debug, file: /tmp/pdi.log}',
		'',
	].join('\n')});
	const file = path.join(directory, 'pdi.yaml');
	const config = await loadConfig(file);
	t.deepEqual(config.options, {
		maxThreads: 16,
		numThreads: 4,
		cbStackSize: 4096,
		cbMaxStubs: 64,
		cbAllowHandler: true,
		protectBackends: false,
		protectPdi: false,
		allowUndeclaredWrappers: true,
		maxObjects: 32,
		backendPath: [path.join(directory, 'backends'), '/opt/pdi'],
		onError: 'warn',
		log: {level: 'debug', file: '/tmp/pdi.log'},
	});
	t.is(Object.keys(config.optionOrigins).length, 13);
	t.deepEqual(config.optionOrigins.maxThreads, {file, line: 2, column: 15});
	t.deepEqual(config.optionOrigins['log.file'], {file, line: 13, column: 29});
});

test('a YAML config gives backends and rules their places; relative libraries resolve against the file, names stay', async t => {
	const directory = fixture({'conf/pdi.yaml': [
		'# yaml-language-server: $schema=../schema.json',
		'$schema: ../schema.json',
		'backends:',
		'  - {name: fix, library: ../build/fix.so}',
		'  - {name: trace, library: noop}',
		'  - {name: mine, library: my-backend.so}',
		'rules:',
		'  - relink: {object: $main, function: fix_add, backend: fix, wrapper: wrap_fix_add}',
		'  - redefine: {function: getpid@@GLIBC_2.2.5, backend: fix, wrapper: wrap_getpid}',
		'  - callback:',
		'      object: libfoo.so.1',
		'      backend: trace',
		'',
	].join('\n')});
	const file = path.join(directory, 'conf/pdi.yaml');
	const config = await loadConfig(file);
	t.deepEqual(config.backends, [
		{name: 'fix', library: path.join(directory, 'build/fix.so'), origin: {file, line: 4, column: 5}},
		{name: 'trace', library: 'noop', origin: {file, line: 5, column: 5}},
		{name: 'mine', library: 'my-backend.so', origin: {file, line: 6, column: 5}},
	]);
	t.deepEqual(config.rules, [
		{kind: 'relink', object: '$main', function: 'fix_add', backend: 'fix', wrapper: 'wrap_fix_add', origin: {file, line: 8, column: 5}},
		{kind: 'redefine', object: '*', function: 'getpid@@GLIBC_2.2.5', backend: 'fix', wrapper: 'wrap_getpid', origin: {file, line: 9, column: 5}},
		{kind: 'callback', object: 'libfoo.so.1', backend: 'trace', handler: undefined, origin: {file, line: 10, column: 5}},
	]);
});

test('an unknown key in JSON is an error at the key\'s line and column', async t => {
	const directory = fixture({'pdi.json': '{\n  "options": {\n    "maxThreads": 4,\n    "maxThread": 5\n  }\n}\n'});
	const file = path.join(directory, 'pdi.json');
	const error = await loadError(file);
	t.is(error.message, `${file}:4:5: unknown key 'maxThread' in options (did you mean 'maxThreads'?)`);
	t.is(error.file, file);
	t.is(error.line, 4);
	t.is(error.column, 5);
	t.is(error.exitCode, 2);
});

test('an unknown key in YAML is an error at the key\'s line and column, and every issue is kept', async t => {
	const directory = fixture({'pdi.yml': [
		'backends:',
		'  - name: fix',
		'    library: fix.so',
		'    libary: fix.so',
		'colour: blue',
		'',
	].join('\n')});
	const file = path.join(directory, 'pdi.yml');
	const error = await loadError(file);
	t.is(error.message, `${file}:4:5: unknown key 'libary' in backends[0] (did you mean 'library'?)`);
	t.deepEqual(error.issues.map(issue => `${issue.line}:${issue.column} ${issue.message}`), [
		'4:5 unknown key \'libary\' in backends[0] (did you mean \'library\'?)',
		'5:1 unknown key \'colour\'',
	]);
});

test('a value of the wrong type is an error at the value, naming the option and the value', async t => {
	const directory = fixture({
		'type.yaml': 'options:\n  maxThreads: many\n',
		'range.json': '{"options": {"cbStackSize": 100}}',
		'enum.yaml': 'options:\n  log:\n    level: loud\n',
	});
	t.is((await loadError(path.join(directory, 'type.yaml'))).message, `${directory}/type.yaml:2:15: options.maxThreads: expected an integer ≥ 1, got "many"`);
	t.is((await loadError(path.join(directory, 'range.json'))).message, `${directory}/range.json:1:29: options.cbStackSize: expected an integer ≥ 256, got 100`);
	t.is((await loadError(path.join(directory, 'enum.yaml'))).message, `${directory}/enum.yaml:3:12: options.log.level: expected error, warning, info or debug, got "loud"`);
});

test('a number past what a double holds (YAML .inf, .nan; JSON 1e400) is shown as written in the message, not as null', async t => {
	const directory = fixture({
		'inf.yaml': 'options: {maxThreads: .inf}\n',
		'nan.yaml': 'options: {maxThreads: .nan}\n',
		'huge.json': '{"options": {"maxThreads": -1e400}}\n',
		'big.yaml': 'options:\n  maxThreads: 99999999999999999999\n',
		'small.yaml': 'options:\n  maxThreads: -99999999999999999999\n',
		'double.yaml': 'rules:\n  - act: {function: sqrt, do: {return: {double: .inf}}}\n',
	});
	t.is((await loadError(path.join(directory, 'inf.yaml'))).message, `${directory}/inf.yaml:1:23: options.maxThreads: expected an integer ≤ 2147483647, got .inf`);
	t.is((await loadError(path.join(directory, 'nan.yaml'))).message, `${directory}/nan.yaml:1:23: options.maxThreads: expected an integer ≥ 1, got .nan`);
	t.is((await loadError(path.join(directory, 'huge.json'))).message, `${directory}/huge.json:1:28: options.maxThreads: expected an integer ≥ 1, got -1e400`);
	// One message, for the bound passed: a number past 2^53 failed the integer check itself, said "≥ 1" of 1e20 and then "≤ max" too.
	const tooLarge = await loadError(path.join(directory, 'big.yaml'));
	t.deepEqual(tooLarge.issues.map(issue => issue.message), ['options.maxThreads: expected an integer ≤ 2147483647, got 99999999999999999999']);
	const tooSmall = await loadError(path.join(directory, 'small.yaml'));
	t.deepEqual(tooSmall.issues.map(issue => issue.message), ['options.maxThreads: expected an integer ≥ 1, got -99999999999999999999']);
	t.is((await loadError(path.join(directory, 'double.yaml'))).message, `${directory}/double.yaml:2:40: rules[0].act.do.return: out of a double's range (at most about 1.8e308; an infinity is written inf or -inf), got {"double":Infinity}`);
});

test('a YAML syntax error is reported at its line and column', async t => {
	const directory = fixture({'bad.yaml': 'options:\n  maxThreads: 4\n  log: level: info\n'});
	const error = await loadError(path.join(directory, 'bad.yaml'));
	t.is(error.message, `${directory}/bad.yaml:3:8: syntax error: nested mappings are not allowed in compact mappings`);
	t.deepEqual([error.file, error.line, error.column], [path.join(directory, 'bad.yaml'), 3, 8]);
});

test('a YAML tag that is not a config value (!!set, !!omap, !!binary, !!timestamp, !custom) is an error at the tag, not an option silently dropped', async t => {
	const directory = fixture({
		'omap.yaml': 'options: !!omap [maxThreads: 4]\n',
		'set.yaml': 'options: !!set {maxThreads}\n',
		'binary.yaml': 'options:\n  log: {file: !!binary aGVsbG8=}\n',
		'date.yaml': 'options: {maxThreads: !!timestamp 2001-12-14}\n',
		'custom.yaml': 'options: !mine {maxThreads: 4}\n',
		'core.yaml': 'options: {maxThreads: !!int 4, log: {file: !!str 4.log}}\n',
	});
	const remove = '(a config holds mappings, lists, strings, numbers, booleans and null: remove the tag)';
	t.is((await loadError(path.join(directory, 'omap.yaml'))).message, `${directory}/omap.yaml:1:10: syntax error: the YAML tag !!omap does not apply here ${remove}`);
	t.is((await loadError(path.join(directory, 'set.yaml'))).message, `${directory}/set.yaml:1:10: syntax error: the YAML tag !!set does not apply here ${remove}`);
	t.is((await loadError(path.join(directory, 'binary.yaml'))).message, `${directory}/binary.yaml:2:15: syntax error: the YAML tag !!binary does not apply here ${remove}`);
	t.is((await loadError(path.join(directory, 'date.yaml'))).message, `${directory}/date.yaml:1:23: syntax error: the YAML tag !!timestamp does not apply here ${remove}`);
	t.is((await loadError(path.join(directory, 'custom.yaml'))).message, `${directory}/custom.yaml:1:10: syntax error: the YAML tag !mine does not apply here ${remove}`);
	const core = await loadConfig(path.join(directory, 'core.yaml'));
	t.is(core.options.maxThreads, 4, 'the core schema\'s own tags are values as before');
	t.is(core.options.log.file, path.join(directory, '4.log'));
});

test('a YAML file with a second document is an error where the second one starts, in pdi\'s words', async t => {
	const directory = fixture({'multi.yaml': 'options: {maxThreads: 4}\n---\noptions: {maxThreads: 5}\n', 'end.yaml': '---\noptions: {maxThreads: 4}\n...\n'});
	const error = await loadError(path.join(directory, 'multi.yaml'));
	t.is(error.message, `${directory}/multi.yaml:2:1: syntax error: a config file holds one YAML document; a second one starts here`);
	t.is((await loadConfig(path.join(directory, 'end.yaml'))).options.maxThreads, 4, 'one document with its start and end markers is fine');
});

test('a UTF-8 byte-order mark at the start of a JSON or YAML config is skipped, columns of the first line counted after it', async t => {
	const bom = '\uFEFF';
	const directory = fixture({
		'good.json': `${bom}{"options": {"maxThreads": 4}}\n`,
		'good.yaml': `${bom}options: {maxThreads: 4}\n`,
		'marker.yaml': `${bom}---\noptions: {maxThreads: 4}\n`,
		'comma.json': `${bom}{"options": {"maxThreads": 4,}}\n`,
		'key.json': `${bom}{"options": {"maxThreads": 4, "bogus": 1}}\n`,
		'key.yaml': `${bom}options: {maxThreads: 4, bogus: 1}\n`,
	});
	for (const name of ['good.json', 'good.yaml', 'marker.yaml']) {
		t.is((await loadConfig(path.join(directory, name))).options.maxThreads, 4, name);
	}

	t.is((await loadError(path.join(directory, 'comma.json'))).message, `${directory}/comma.json:1:29: JSON syntax error: trailing comma before '}'`);
	t.is((await loadError(path.join(directory, 'key.json'))).message, `${directory}/key.json:1:31: unknown key 'bogus' in options`);
	t.is((await loadError(path.join(directory, 'key.yaml'))).message, `${directory}/key.yaml:1:26: unknown key 'bogus' in options`);
});

test('a missing rule field is an error at the rule that lacks it; a rule needs exactly one kind', async t => {
	const directory = fixture({
		'missing.yaml': 'backends: [{name: fix, library: noop}]\nrules:\n  - relink:\n      object: $main\n      function: f\n      backend: fix\n',
		'two.yaml': 'backends: [{name: fix, library: noop}]\nrules:\n  - relink: {object: $main, function: f, backend: fix, wrapper: w}\n    redefine: {function: f, backend: fix, wrapper: w}\n',
	});
	t.is((await loadError(path.join(directory, 'missing.yaml'))).message, `${directory}/missing.yaml:4:7: missing key 'wrapper' in rules[0].relink`);
	t.is((await loadError(path.join(directory, 'two.yaml'))).message, `${directory}/two.yaml:3:5: rules[0]: expected a rule with exactly one of relink, redefine, callback, act`);
});

test('a misspelt rule kind or a short misspelt key is named at the key with the name it most likely meant', async t => {
	const directory = fixture({
		'kind.yaml': 'rules:\n  - actt: {function: open, do: {count: true}}\n',
		'when.yaml': 'rules:\n  - act: {function: open, wen: {call: 2}, do: {count: true}}\n',
		'unlike.yaml': 'rules:\n  - zzz: {function: open}\n',
	});
	// Before: 'rules[0]: expected a rule with exactly one of ...' at the rule, and no hint for 'wen'.
	t.is((await loadError(path.join(directory, 'kind.yaml'))).message, `${directory}/kind.yaml:2:5: rules[0]: unknown rule kind 'actt' (did you mean 'act'?); a rule is one of relink, redefine, callback, act`);
	t.is((await loadError(path.join(directory, 'when.yaml'))).message, `${directory}/when.yaml:2:27: unknown key 'wen' in rules[0].act (did you mean 'when'?)`);
	t.is((await loadError(path.join(directory, 'unlike.yaml'))).message, `${directory}/unlike.yaml:2:5: rules[0]: unknown rule kind 'zzz'; a rule is one of relink, redefine, callback, act`);
});

test('cross-field checks: numThreads ≤ maxThreads, a backend name for one library, handlers only with cbAllowHandler', t => {
	t.is(configError(() => normalizeConfig({options: {maxThreads: 2, numThreads: 3}})).message, 'options.numThreads: expected an integer ≤ maxThreads (2), got 3');
	t.is(configError(() => normalizeConfig({backends: [{name: 'a', library: 'noop'}, {name: 'a', library: 'count'}]})).message, 'backends[1].name: backend \'a\' is already declared at backends[0] with library \'noop\'');
	// The same library twice counts once, as in the text dialect and in merged files.
	t.is(normalizeConfig({backends: [{name: 'a', library: 'noop'}, {name: 'a', library: 'noop'}]}).backends.length, 1);
	// A rule's backend may be declared by another file merged before it; verifyConfig() checks it after the merge.
	t.like(normalizeConfig({rules: [{relink: {object: '$main', function: 'f', backend: 'fix', wrapper: 'w'}}]}).rules[0], {backend: 'fix'});
	const handler: PdiConfig = {backends: [{name: 'trace', library: 'noop'}], rules: [{callback: {object: 'libfoo.so.1', backend: 'trace', handler: 'h'}}]};
	t.is(configError(() => normalizeConfig(handler)).message, 'rules[0].callback.handler: callback handler \'h\' needs options.cbAllowHandler: true');
	t.is(normalizeConfig({...handler, options: {cbAllowHandler: true}}).rules[0]?.kind, 'callback');
	const libAsBe = normalizeConfig({options: {allowUndeclaredWrappers: true}, rules: [{redefine: {function: 'f', backend: 'libc.so.6', wrapper: 'g'}}]});
	t.like(libAsBe.rules[0], {backend: 'libc.so.6'});
});

test('a JSON or YAML handler of - or NULL, the text dialect\'s spelling of no handler, is an error at the value, and an empty one is one error, not two', async t => {
	// Before: taken as a function of that name, which pdi config compile wrote back as the text dialect's no handler.
	const directory = scratchDirectory('pdi-handler-spelling-');
	const rule = (handler: string) => `options: {cbAllowHandler: true}\nbackends: [{name: b, library: noop}]\nrules:\n  - callback: {object: $main, backend: b, handler: ${JSON.stringify(handler)}}\n`;
	for (const handler of ['-', 'NULL']) {
		const file = path.join(directory, `${handler === '-' ? 'dash' : handler}.yaml`);
		writeFileSync(file, rule(handler));
		t.is((await loadError(file)).message, `${file}:4:52: rules[0].callback.handler: '${handler}' is the text dialect's spelling of no handler (as pDI-Tools wrote it): leave handler out for none`);
	}

	const empty = path.join(directory, 'empty.yaml');
	writeFileSync(empty, rule('').replace('options: {cbAllowHandler: true}\n', ''));
	t.is((await loadError(empty)).message, `${empty}:3:52: rules[0].callback.handler: expected a symbol name, got ""`);
});

test('function names may name a version with @ or @@, and nothing else', t => {
	const rule = (name: string): PdiConfig => ({backends: [{name: 'b', library: 'noop'}], rules: [{relink: {object: '$main', function: name, backend: 'b', wrapper: 'w'}}]});
	for (const name of ['foo', 'foo@V1', 'foo@@V2', '_ZN3foo3barEv']) {
		t.is(normalizeConfig(rule(name)).rules[0]?.kind, 'relink', name);
	}

	for (const name of ['foo@@@V', 'foo bar', '@V', 'foo@']) {
		t.regex(configError(() => normalizeConfig(rule(name))).message, /^rules\[0\]\.relink\.function: expected a function name/, name);
	}
});

test('normalizeConfig resolves relative paths against the directory it is given and names the file in errors', t => {
	const config = normalizeConfig({options: {backendPath: ['lib']}, backends: [{name: 'b', library: './b.so'}]}, {directory: '/srv/app'});
	t.deepEqual(config.options.backendPath, ['/srv/app/lib']);
	t.is(config.backends[0]?.library, '/srv/app/b.so');
	t.is(config.backends[0]?.origin, undefined);
	t.is(configError(() => normalizeConfig({options: {maxObjects: 0}}, {file: '/srv/app/pdi.config.ts'})).message, '/srv/app/pdi.config.ts: options.maxObjects: expected an integer ≥ 1, got 0');
});

test('defineConfig returns its argument unchanged', t => {
	const config = {options: {maxThreads: 8}, rules: []};
	t.is(defineConfig(config), config);
});

test('mergeConfigs: later options override only what they set, lists and rules concatenate in order', t => {
	const first = normalizeConfig({
		options: {maxThreads: 8, onError: 'warn', backendPath: ['/a'], log: {level: 'info'}},
		backends: [{name: 'x', library: 'noop'}],
		rules: [{relink: {object: '$main', function: 'f', backend: 'x', wrapper: 'w1'}}],
	});
	const second = normalizeConfig({
		options: {maxThreads: 16, backendPath: ['/b'], log: {file: '/tmp/log'}},
		backends: [{name: 'x', library: 'noop'}, {name: 'y', library: 'count'}],
		rules: [{callback: {object: 'libfoo.so', backend: 'y'}}],
	});
	const merged = mergeConfigs([first, second]);
	t.deepEqual(merged.options, {...defaults, maxThreads: 16, onError: 'warn', backendPath: ['/a', '/b'], log: {level: 'info', file: '/tmp/log'}});
	t.deepEqual(merged.backends.map(backend => backend.name), ['x', 'y']);
	t.deepEqual(merged.rules.map(rule => rule.kind), ['relink', 'callback']);
	t.deepEqual(mergeConfigs([]).options, defaults);
});

test('mergeConfigs reports an option over its limit at the value that sets it, in the spelling of that file', async t => {
	const directory = writeFiles({'limit.yaml': 'options: {maxThreads: 8}\n', 'threads.cfg': 'num_threads = 9\n', 'threads.yaml': 'options: {numThreads: 9}\n', 'limit.cfg': 'max_threads = 8\n'});
	const load = async (file: string) => loadConfig(path.join(directory, file), {merging: true});
	// Before: the text file's line was named with the JSON key and column 1 (`threads.cfg:1:1: options.numThreads: ...`).
	const [limitYaml, threadsText, threadsYaml, limitText] = await Promise.all(['limit.yaml', 'threads.cfg', 'threads.yaml', 'limit.cfg'].map(load));
	t.is(configError(() => mergeConfigs([limitYaml!, threadsText!])).message, `${directory}/threads.cfg:1:15: num_threads: expected an integer ≤ max_threads (8), got '9'`);
	t.is(configError(() => mergeConfigs([limitText!, threadsYaml!])).message, `${directory}/threads.yaml:1:23: options.numThreads: expected an integer ≤ maxThreads (8), got 9`);
});

test('mergeConfigs keeps one copy of a rule or warning that a later config repeats, at its first place', t => {
	const text = 'Warning "check the wrapper"\nbackend x = noop\nrelink $main f x w1\nrelink * f x w1\n';
	const first = parseTextDialect(text, '/etc/a.cfg');
	const merged = mergeConfigs([first, parseTextDialect(text, '/etc/a.cfg'), parseTextDialect(text + 'relink $main f x w2\n', '/etc/b.cfg')]);
	t.deepEqual(merged.rules.map(rule => `${rule.object} ${rule.kind === 'callback' || rule.kind === 'act' ? '' : rule.wrapper} ${rule.origin?.file ?? ''}:${rule.origin?.line ?? 0}`), [
		'$main w1 /etc/a.cfg:3',
		'* w1 /etc/a.cfg:4',
		'$main w2 /etc/b.cfg:5',
	]);
	t.deepEqual(merged.warnings.map(warning => `${warning.origin?.file ?? ''}:${warning.origin?.line ?? 0}`), ['/etc/a.cfg:1', '/etc/b.cfg:1']);
	t.deepEqual(merged.backends.map(backend => backend.name), ['x']);
});

test('mergeConfigs rejects a backend declared again with another library, at the second declaration', t => {
	const first = parseTextDialect('backend x = noop\n', '/etc/a.cfg');
	const second = parseTextDialect('max_threads = 4\nbackend x = count\n', '/etc/b.cfg');
	t.is(configError(() => mergeConfigs([first, second])).message, '/etc/b.cfg:2:1: backend \'x\' is already declared at /etc/a.cfg:1 with library \'noop\'');
});

function comparable(config: NormalizedConfig) {
	return {options: config.options, backends: config.backends, rules: config.rules, warnings: config.warnings};
}

test('compileConfig writes the options the config sets, the declarations and the rules, each after its #@origin and the #@field places of its object, function, backend, wrapper and library', async t => {
	const directory = fixture({'pdi.yaml': [
		'options: {maxThreads: 8, backendPath: [/opt/a, /opt/b], log: {file: /var/log/my pdi.log}}',
		'backends:',
		'  - {name: fix, library: ./fix.so}',
		'rules:',
		'  - relink: {object: $main, function: fix_add, backend: fix, wrapper: wrap_fix_add}',
		'  - redefine: {function: getpid, backend: fix, wrapper: wrap_getpid}',
		'  - callback: {object: "lib*.so*", backend: fix}',
		'  - relink: {object: $main, function: fix_sub, backend: fix, wrapper: wrap_fix_sub}',
		'',
	].join('\n')});
	const file = path.join(directory, 'pdi.yaml');
	const text = compileConfig(await loadConfig(file));
	const lines = text.split('\n').filter(line => !line.startsWith('# '));
	t.deepEqual(lines, [
		'[global]',
		`#@origin ${file}:1:23`,
		'max_threads = 8',
		`#@origin ${file}:1:39`,
		'be_path = /opt/a',
		`#@origin ${file}:1:39`,
		'be_path = /opt/b',
		`#@origin ${file}:1:69`,
		'log_file = "/var/log/my pdi.log"',
		`#@origin ${file}:3:5`,
		`#@field 15 ${file}:3:26`,
		`backend fix = ${directory}/fix.so`,
		`#@origin ${file}:5:5`,
		'object o1 = $main',
		`#@origin ${file}:7:5`,
		'object o2 = lib*.so*',
		`#@origin ${file}:5:5`,
		`#@field 8 ${file}:5:22`,
		`#@field 11 ${file}:5:39`,
		`#@field 19 ${file}:5:57`,
		`#@field 23 ${file}:5:71`,
		'relink o1 fix_add fix wrap_fix_add',
		`#@origin ${file}:6:5`,
		`#@field 12 ${file}:6:26`,
		`#@field 19 ${file}:6:43`,
		`#@field 23 ${file}:6:57`,
		'redefine * getpid fix wrap_getpid',
		`#@origin ${file}:7:5`,
		`#@field 10 ${file}:7:24`,
		`#@field 15 ${file}:7:45`,
		'callback o2 * fix',
		`#@origin ${file}:8:5`,
		`#@field 8 ${file}:8:22`,
		`#@field 11 ${file}:8:39`,
		`#@field 19 ${file}:8:57`,
		`#@field 23 ${file}:8:71`,
		'relink o1 fix_sub fix wrap_fix_sub',
		'',
	]);
	t.deepEqual(compileConfig(normalizeConfig({})).split('\n').filter(line => !line.startsWith('# ')), ['[global]', ''], 'defaults are not written: the core has the same ones');
});

test('compiling and parsing the result gives back the same options, backends, rules and warnings', async t => {
	const directory = fixture({
		'main.cfg': 'cb_allow_handler = on\nallow_lib_as_be = on\nlog_file = " spaced.log"\nWarning check the handler\nconfig = rules.cmd\n',
		'rules.cmd': 'object libc = libc.so.6\nbackend o1 = noop\nbackend b = "./my backend.so"\nrelink $main f o1 w\ncallback libfoo.so.1 * b handler\nredefine libc getpid libc my_getpid\n',
	});
	const original = await loadConfig(path.join(directory, 'main.cfg'));
	const text = compileConfig(original);
	t.true(text.includes('\nbackend o1 = noop\n'));
	t.false(text.includes('\nobject o1 ='));
	t.deepEqual(comparable(parseTextDialect(text, path.join(directory, 'compiled.cfg'))), comparable(original));
	const fromObject = normalizeConfig({backends: [{name: 'b', library: '/x.so'}], rules: [{callback: {object: '$main', backend: 'b'}}]});
	const compiled = compileConfig(fromObject);
	// A config given in memory has no file: each statement names the entry it comes from, for the core's messages.
	t.true(compiled.includes('\n#@origin backends[0]\nbackend b = /x.so\n'), compiled);
	t.true(compiled.includes('\n#@origin rules[0]\ncallback o1 * b\n'), compiled);
	const reparsed = parseTextDialect(compiled);
	t.deepEqual(reparsed.rules.map(rule => ({...rule, origin: undefined})), fromObject.rules);
	t.deepEqual({...comparable(reparsed), rules: [], backends: []}, {...comparable(fromObject), rules: [], backends: []});
	t.is(reparsed.rules[0]?.origin, undefined, 'an entry has no line');
});

test('the shipped schema.json is configJsonSchema() (run `npm run schema` after changing the schema)', t => {
	const shipped = JSON.parse(readFileSync(path.join(root, 'schema.json'), 'utf8')) as unknown;
	t.deepEqual(shipped, configJsonSchema());
	const schema = configJsonSchema() as {$schema: string; properties: Record<string, unknown>; additionalProperties: boolean};
	t.is(schema.$schema, 'http://json-schema.org/draft-07/schema#');
	t.truthy(schema.properties['$schema']);
	t.false(schema.additionalProperties);
});

test('schema.json refuses a glob in a function field, as pdi does', t => {
	const patterns = new Set<string>();
	const visit = (node: unknown): void => {
		if (node && typeof node === 'object') {
			const {function: field} = node as {function?: {pattern?: string}};
			if (typeof field?.pattern === 'string') {
				patterns.add(field.pattern);
			}

			for (const value of Object.values(node)) {
				visit(value);
			}
		}
	};

	visit(configJsonSchema());
	t.is(patterns.size, 1, [...patterns].join(' '));
	const pattern = new RegExp([...patterns][0]!);
	for (const name of ['open', 'memcpy@GLIBC_2.2.5', 'malloc@@GLIBC_2.2.5', '_ZdlPv']) {
		t.true(pattern.test(name), name);
	}

	for (const name of ['open*', 'read?', 'f[ab]', 'memcpy@GLIBC_*', 'two words']) {
		t.false(pattern.test(name), name);
	}
});

test('definedDynamicSymbols lists the functions a backend defines, not the ones it imports', t => {
	const symbols = definedDynamicSymbols(paths.backends['noop'] ?? '');
	t.true(symbols.has('pdi_be_init'));
	t.true(symbols.has('pdi_be_fini'));
	t.false(symbols.has('__cxa_finalize'));
	t.throws(() => definedDynamicSymbols(path.join(root, 'package.json')), {message: /not an ELF file/});
});

const verifyOptions = () => ({backendDirectory: paths.nativeDirectory, bundled: paths.backends});

test('verifyConfig accepts a wrapper the backend defines, by bundled name and by path', t => {
	const config = normalizeConfig({
		backends: [{name: 'a', library: 'noop'}, {name: 'b', library: paths.backends['noop'] ?? ''}],
		rules: [
			{relink: {object: '$main', function: 'f', backend: 'a', wrapper: 'pdi_be_init'}},
			{redefine: {function: 'g', backend: 'b', wrapper: 'pdi_be_fini'}},
		],
	});
	t.notThrows(() => {
		verifyConfig(config, verifyOptions());
	});
});

test('verifyConfig searches file names on the bundled directory, then backendPath', t => {
	const directory = fixture({});
	const backend = path.join(directory, 'mine.so');
	writeFileSync(backend, readFileSync(paths.backends['noop'] ?? ''));
	const config = normalizeConfig({options: {backendPath: [directory]}, backends: [{name: 'mine', library: 'mine.so'}], rules: [{relink: {object: '$main', function: 'f', backend: 'mine', wrapper: 'pdi_be_init'}}]});
	t.notThrows(() => {
		verifyConfig(config, verifyOptions());
	});
});

test('verifyConfig reports a missing backend file at its library\'s place, with where it searched', t => {
	const config = parseTextDialect('be_path = /nonexistent\nbackend fix = fix.so\n', '/etc/pdi.cfg');
	const error = configError(() => {
		verifyConfig(config, verifyOptions());
	});
	t.is(error.message, `/etc/pdi.cfg:2:15: backend 'fix': library 'fix.so' not found (searched: ${paths.nativeDirectory}/fix.so, /nonexistent/fix.so)`);
	const notElf = normalizeConfig({backends: [{name: 'text', library: path.join(root, 'package.json')}]});
	t.is(configError(() => {
		verifyConfig(notElf, verifyOptions());
	}).message, `backends[0]: backend 'text': cannot load ${root}/package.json: invalid ELF header`);
});

test('verifyConfig refuses what the core refuses at install: a callback backend without hooks, a handler of its own', t => {
	t.is(configError(() => verifyConfig(parseTextDialect('backend b = noop\ncallback libfoo.so * b\n', '/etc/pdi.cfg'), verifyOptions())).message, '/etc/pdi.cfg:2:22: callback libfoo.so: backend \'b\' defines neither PDI_BE_FUNC_PRE_CB nor PDI_BE_FUNC_POST_CB');
	t.regex(configError(() => verifyConfig(parseTextDialect('cb_allow_handler = on\nbackend t = trace\ncallback libfoo.so * t no_such_handler\n', '/etc/pdi.cfg'), verifyOptions())).message, /^\/etc\/pdi\.cfg:3:24: callback libfoo\.so: handler 'no_such_handler' is not defined by t \(.+\/pdi-backend-trace\.so\)$/);
	const warned = verifyConfig(parseTextDialect('on_error = warn\nbackend b = noop\ncallback libfoo.so * b\n', '/etc/pdi.cfg'), verifyOptions());
	t.deepEqual(warned.warnings.map(warning => warning.message), ['callback libfoo.so: backend \'b\' defines neither PDI_BE_FUNC_PRE_CB nor PDI_BE_FUNC_POST_CB (rule skipped)']);
});

test('verifyConfig reports a wrapper the backend does not define at the wrapper\'s place', t => {
	const noop = paths.backends['noop'] ?? '';
	const config = parseTextDialect(`backend b = "${noop}"\nrelink $main f b pdi_be_init\nrelink $main g b nope\n`, '/etc/pdi.cfg');
	t.is(configError(() => {
		verifyConfig(config, verifyOptions());
	}).message, `/etc/pdi.cfg:3:18: relink g: wrapper 'nope' is not defined by b (${noop})`);
});

test('verifyConfig reports rules that patch the same slot differently, naming both', t => {
	const base = 'backend b = noop\n';
	const conflict = (rules: string) => configError(() => {
		verifyConfig(parseTextDialect(base + rules, '/etc/pdi.cfg'), verifyOptions());
	}).message;
	t.is(conflict('relink $main fix_add b pdi_be_init\nrelink $main fix_add b pdi_be_fini\n'), '/etc/pdi.cfg:3:1: relink fix_add: conflicts with the relink at /etc/pdi.cfg:2, which already redirects fix_add in $main');
	t.is(conflict('relink $main fix_add b pdi_be_init\nrelink * fix_add b pdi_be_fini\n'), '/etc/pdi.cfg:3:1: relink fix_add: conflicts with the relink at /etc/pdi.cfg:2, which already redirects fix_add in $main');
	t.is(conflict('backend t = trace\ncallback libfoo.so * t\nrelink libfoo.so f b pdi_be_init\n'), '/etc/pdi.cfg:4:1: relink f: conflicts with the callback at /etc/pdi.cfg:3, which already redirects every import in libfoo.so');
	t.is(conflict('backend t = trace\nbackend u = trace\ncallback * * t\ncallback $main * u\n'), '/etc/pdi.cfg:5:1: callback $main: conflicts with the callback at /etc/pdi.cfg:4, which already redirects every import in *');
	t.notThrows(() => {
		// One wrapper per function (pdi_original() has one answer per wrapper): g's relinks take the count backend's.
		verifyConfig(parseTextDialect(base + 'backend c = count\nrelink $main f b pdi_be_init\nrelink $main f b pdi_be_init\nrelink * f b pdi_be_init\nrelink libx.so g c count_read\nrelink liby.so g c count_close\nredefine * f b pdi_be_fini\n', '/etc/pdi.cfg'), verifyOptions());
	}, 'duplicates, patterns that are neither equal nor *, and a redefine under relinks');
});

test('an unknown key suggests the key it most likely meant: the text dialect\'s spelling or a typo', t => {
	const messages = (config: unknown) => configError(() => normalizeConfig(config as never)).issues.map(issue => issue.message);
	t.deepEqual(messages({options: {max_threads: 4, cbStackSiz: 1024}}), [
		'unknown key \'max_threads\' in options (did you mean \'maxThreads\'?)',
		'unknown key \'cbStackSiz\' in options (did you mean \'cbStackSize\'?)',
	]);
	t.deepEqual(messages({rulez: []}), ['unknown key \'rulez\' (did you mean \'rules\'?)']);
	t.deepEqual(messages({colour: 'blue'}), ['unknown key \'colour\'']);
});
