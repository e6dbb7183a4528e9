import path from 'node:path';
import test from 'ava';
import {loadError, writeFiles} from './helpers/files.js';
import {compileConfig, ConfigError, loadConfig, mergeConfigs, normalizeConfig, parseTextDialect, verifyConfig} from '../src/ts/config/index.js';
import {pdiPaths} from '../src/ts/paths.js';

function fixture(files: Record<string, string>): string {
	return writeFiles(files, 'pdi-config-text-');
}

function parseError(text: string, file = '/etc/pdi.cfg'): string {
	try {
		parseTextDialect(text, file);
	} catch (error) {
		if (error instanceof ConfigError) {
			return error.message;
		}

		throw error;
	}

	throw new Error('no ConfigError was thrown');
}

test('every option has a text key; booleans take on/off, true/false, yes/no and 1/0', t => {
	const config = parseTextDialect([
		'max_threads = 16',
		'num_threads = 2',
		'cb_stack_size = 2048',
		'cb_max_stubs = 8',
		'cb_allow_handler = on',
		'donttouch_backends = off',
		'donttouch_pdi = no',
		'allow_lib_as_be = yes',
		'max_objects = 12',
		'be_path = /opt/a',
		'be_path = b',
		'on_error = warn',
		'log_level = info',
		'log_file = "/tmp/pdi log.txt"',
		'',
	].join('\n'), '/etc/pdi/main.cfg');
	t.deepEqual(config.options, {
		maxThreads: 16,
		numThreads: 2,
		cbStackSize: 2048,
		cbMaxStubs: 8,
		cbAllowHandler: true,
		protectBackends: false,
		protectPdi: false,
		allowUndeclaredWrappers: true,
		maxObjects: 12,
		backendPath: ['/opt/a', '/etc/pdi/b'],
		onError: 'warn',
		log: {level: 'info', file: '/tmp/pdi log.txt'},
	});
	t.deepEqual(config.optionOrigins.cbMaxStubs, {file: '/etc/pdi/main.cfg', line: 4, column: 16});
	for (const [word, value] of [['true', true], ['false', false], ['1', true], ['0', false], ['OFF', false]] as const) {
		t.is(parseTextDialect(`cb_allow_handler = ${word}`).options.cbAllowHandler, value, word);
	}
});

test('the last assignment wins; verbose and debug set the log level, and debug = off undoes debug = on', t => {
	t.is(parseTextDialect('max_threads = 4\nmax_threads = 8\n').options.maxThreads, 8);
	t.is(parseTextDialect('verbose = 0\n').options.log.level, 'error');
	t.is(parseTextDialect('verbose = 2\n').options.log.level, 'info');
	t.is(parseTextDialect('log_level = error\ndebug = on\n').options.log.level, 'debug');
	t.is(parseTextDialect('log_level = error\ndebug = off\n').options.log.level, 'error');
	// debug = off undoes debug = on, and turns off a debug level set otherwise (before: it did nothing).
	t.is(parseTextDialect('verbose = 2\ndebug = on\ndebug = off\n').options.log.level, 'info');
	t.is(parseTextDialect('debug = on\ndebug = off\n').options.log.level, 'warning');
	t.is(parseTextDialect('debug = on\n[defaults]\ndebug = off\n[global]\nInclude ":defaults"\n').options.log.level, 'warning');
	t.is(parseTextDialect('verbose = 3\ndebug = off\n').options.log.level, 'info');
	t.is(parseTextDialect('debug = on\nverbose = 1\ndebug = off\n').options.log.level, 'warning');
	t.is(parseTextDialect('debug = on\nlog_level = error\ndebug = off\n').options.log.level, 'error');
	t.is(parseError('verbose = 5\n'), '/etc/pdi.cfg:1:11: verbose: expected 0, 1, 2 or 3, got \'5\'');
});

test('only the global section runs by itself: lines before the first header, and a repeated [global]', t => {
	const config = parseTextDialect([
		'max_threads = 4',
		'[other]',
		'max_threads = 99',
		'max_objects = 99',
		'[global]',
		'max_objects = 7',
		'',
	].join('\n'));
	t.is(config.options.maxThreads, 4);
	t.is(config.options.maxObjects, 7);
});

test('Include runs a section of this file or of another file at that point; relative paths start at the including file', t => {
	const directory = fixture({
		'main.cfg': [
			'max_threads = 4',
			'Include ":defaults"',
			'Include "shared/common.cfg:tuning"',
			'Include "shared/common.cfg"',
			'max_objects = 5',
			'[defaults]',
			'max_threads = 8',
			'cb_max_stubs = 9',
			'[defaults]',
			'cb_stack_size = 512',
			'',
		].join('\n'),
		'shared/common.cfg': 'max_objects = 3\nbe_path = backends\n[tuning]\nnum_threads = 2\nmax_threads = 16\n',
	});
	const config = parseTextDialect('Include "main.cfg:"\n', path.join(directory, 'top.cfg'));
	t.is(config.options.maxThreads, 16);
	t.is(config.options.cbMaxStubs, 9);
	t.is(config.options.cbStackSize, 512);
	t.is(config.options.numThreads, 2);
	t.is(config.options.maxObjects, 5);
	t.deepEqual(config.options.backendPath, [path.join(directory, 'shared/backends')]);
	t.deepEqual(config.optionOrigins.numThreads, {file: path.join(directory, 'shared/common.cfg'), line: 4, column: 15});
});

test('an Include cycle is an error at the FILE:SECTION of the Include line that closes it, naming the cycle', async t => {
	const directory = fixture({
		'a.cfg': 'max_threads = 4\nInclude "b.cfg:loop"\n',
		'b.cfg': '[loop]\n# back to a\nInclude "a.cfg"\n',
	});
	const error = await loadError(path.join(directory, 'a.cfg'));
	t.is(error.message, `${directory}/b.cfg:3:9: Include cycle: ${directory}/a.cfg:global -> ${directory}/b.cfg:loop -> ${directory}/a.cfg:global`);
	t.is(parseError('Include ":again"\n[again]\nInclude ":again"\n'), '/etc/pdi.cfg:3:9: Include cycle: /etc/pdi.cfg:again -> /etc/pdi.cfg:again');
	t.is(parseError('Include ":nowhere"\n'), '/etc/pdi.cfg:1:9: no section \'nowhere\' in \'/etc/pdi.cfg\'');
	t.is(parseError('Include "/nonexistent/x.cfg"\n'), '/etc/pdi.cfg:1:9: cannot read \'/nonexistent/x.cfg\': no such file or directory');
});

test('command files run in order after the config, runtime first; reset_config empties the list', async t => {
	const directory = fixture({
		'main.cfg': [
			'config = dropped.cmd',
			'reset_config',
			'config = one.cmd',
			'becfg_path = lib',
			'config = two.cmd',
			'runtime = rt.cmd',
			'',
		].join('\n'),
		'rt.cmd': '# declarations\nobject app = $main\nbackend fix = ../build/fix.so\n',
		'one.cmd': 'relink app first fix wrap_first\n',
		'lib/two.cmd': '\n  redefine  *   second@@V2  fix  wrap_second\ncallback libfoo.so.1 * fix\n',
	});
	const config = await loadConfig(path.join(directory, 'main.cfg'));
	t.deepEqual(config.backends, [{name: 'fix', library: path.resolve(directory, '../build/fix.so'), origin: {file: path.join(directory, 'rt.cmd'), line: 3, column: 1}}]);
	t.deepEqual(config.rules, [
		{kind: 'relink', object: '$main', function: 'first', backend: 'fix', wrapper: 'wrap_first', origin: {file: path.join(directory, 'one.cmd'), line: 1, column: 1}},
		{kind: 'redefine', object: '*', function: 'second@@V2', backend: 'fix', wrapper: 'wrap_second', origin: {file: path.join(directory, 'lib/two.cmd'), line: 2, column: 3}},
		{kind: 'callback', object: 'libfoo.so.1', backend: 'fix', handler: undefined, origin: {file: path.join(directory, 'lib/two.cmd'), line: 3, column: 1}},
	]);
});

test('a command file that is nowhere is an error at the line that names it, listing where it was searched', t => {
	t.is(parseError('becfg_path = /opt/cmds\nconfig = rules.cmd\n'), '/etc/pdi.cfg:2:10: command file \'rules.cmd\' not found (searched: /etc/rules.cmd, /opt/cmds/rules.cmd)');
});

test('rule lines in a config section are installed before the command files\' rules', t => {
	const directory = fixture({'late.cmd': 'relink $main late b w\n'});
	const config = parseTextDialect('backend b = noop\nconfig = late.cmd\nrelink $main early b w\n', path.join(directory, 'main.cfg'));
	t.deepEqual(config.rules.map(rule => rule.kind === 'callback' ? '' : rule.function), ['early', 'late']);
});

test('object fields take aliases or patterns written in place; any other word is an unknown alias', t => {
	const config = parseTextDialect([
		'backend b = noop',
		'object app = /usr/bin/app',
		'relink app f b w',
		'relink $main f b w',
		'relink * f b w',
		'relink libc.so.6 f b w',
		'relink lib?.so f b w',
		'relink ./x f b w',
		'',
	].join('\n'));
	t.deepEqual(config.rules.map(rule => rule.object), ['/usr/bin/app', '$main', '*', 'libc.so.6', 'lib?.so', path.resolve('x')]); // a relative path starts at the config's directory (here none: the current one)
	t.is(parseError('backend b = noop\nrelink  app f b w\n'), '/etc/pdi.cfg:2:9: unknown object alias \'app\'');
	// pDI-Tools porters' slips: the program without its $, an object alias where a backend goes.
	t.is(parseError('backend b = noop\nrelink main f b w\n'), '/etc/pdi.cfg:2:8: unknown object alias \'main\' (the program is $main)');
	t.is(parseError('object lf = libfix.so\nrelink $main f lf w\n'), '/etc/pdi.cfg:2:16: unknown backend \'lf\' (\'lf\' is an object alias: allow_lib_as_be = on takes wrappers from an object)');
});

test('a text-dialect file read for a merge may use a backend another config declares; mergeConfigs and verifyConfig check it', async t => {
	t.is(parseError('relink $main f c w\n'), '/etc/pdi.cfg:1:16: unknown backend \'c\'');
	t.is(parseTextDialect('relink $main f c w\n', '/etc/pdi.cfg', {merging: true}).rules.length, 1);
	const directory = fixture({'a.yaml': 'backends: [{name: c, library: count}]\n', 'b.cfg': 'relink $main getpid c count_getpid\n', 'bad.cfg': 'redefine * getpid nob count_getpid\n'});
	const [a, b, bad] = ['a.yaml', 'b.cfg', 'bad.cfg'].map(name => path.join(directory, name));
	await t.throwsAsync(loadConfig(b!), {message: `${b}:1:21: unknown backend 'c'`});
	const merged = mergeConfigs([await loadConfig(a!), await loadConfig(b!, {merging: true})]);
	t.deepEqual(merged.rules.map(rule => rule.kind === 'act' ? '' : rule.backend), ['c']);
	const options = {backendDirectory: pdiPaths().nativeDirectory, bundled: pdiPaths().backends};
	t.notThrows(() => verifyConfig(merged, options));
	const wrong = mergeConfigs([await loadConfig(a!), await loadConfig(bad!, {merging: true})]);
	t.throws(() => verifyConfig(wrong, options), {message: `${bad}:1:19: unknown backend 'nob'`});
});

test('the backend field must name a declared backend, or with allow_lib_as_be an object', t => {
	t.is(parseError('backend b = noop\nrelink $main f c w\n'), '/etc/pdi.cfg:2:16: unknown backend \'c\'');
	t.is(parseError('object libc = libc.so.6\nrelink $main f libc w\n'), '/etc/pdi.cfg:2:16: unknown backend \'libc\' (\'libc\' is an object alias: allow_lib_as_be = on takes wrappers from an object)');
	const config = parseTextDialect('allow_lib_as_be = on\nobject libc = libc.so.6\nrelink $main f libc w\nredefine * g libm.so.6 w\n');
	t.deepEqual(config.rules.map(rule => rule.kind === 'act' ? '' : rule.backend), ['libc.so.6', 'libm.so.6']);
});

test('a callback line as pDI-Tools wrote it, with \'-\' for the function and \'-\', NULL or an empty field for the absent handler, is the callback without a handler', t => {
	for (const line of ['callback main - tracer -', 'callback main - tracer NULL', 'callback main - tracer ""', 'callback main * tracer']) {
		const config = parseTextDialect(`object main = $main\nbackend tracer = trace\n${line}\n`);
		t.deepEqual(config.rules.map(rule => rule.kind === 'callback' ? `${rule.object} ${rule.backend} ${String(rule.handler)}` : ''), ['$main tracer undefined'], line);
	}

	t.is(parseError('backend b = noop\ncallback $main * b my_handler\n'), '/etc/pdi.cfg:2:20: callback handler \'my_handler\' needs cb_allow_handler = on');
	t.is(parseError('backend b = noop\ncallback $main * "" -\n'), '/etc/pdi.cfg:2:18: malformed callback line: an empty field');
});

test('a command or an option written as YAML writes it (a colon, no =) or as pDI-Tools named it is an unknown command that names what was meant', t => {
	t.is(parseError('relink: $main f b w\n'), '/etc/pdi.cfg:1:1: unknown command \'relink:\' (did you mean \'relink\'? no colon after it)');
	t.is(parseError('Include: "other.cfg"\n'), '/etc/pdi.cfg:1:1: unknown command \'Include:\' (did you mean \'Include\'? no colon after it)');
	t.is(parseError('redefinition * f b w\n'), '/etc/pdi.cfg:1:1: unknown command \'redefinition\' (did you mean \'redefine\'?)');
	t.is(parseError('max_threads: 5\n'), '/etc/pdi.cfg:1:1: unknown command \'max_threads:\' (an option is written \'max_threads = VALUE\')');
	t.is(parseError('max_threads\t64\n'), '/etc/pdi.cfg:1:1: unknown command \'max_threads\' (an option is written \'max_threads = VALUE\')');
	// The first key of a YAML file read as text: no command it could be, and how such a file is read.
	t.is(parseError('backends:\n'), '/etc/pdi.cfg:1:1: unknown command \'backends:\' (its first line starts JSON or YAML, which pdi run -c and pdi config check read in a file named .json, .yaml or .yml, and the core never: `pdi config compile FILE.yaml -o FILE.cfg` turns it into the text dialect)');
});

test('a JSON or YAML file that config = or Include names is read as text and fails at its first line, saying which reader takes it', async t => {
	const directory = writeFiles({'main.cfg': 'config = setup.yaml\n', 'setup.yaml': 'options:\n  maxThreads: 4\n', 'inc.cfg': 'Include "setup.json"\n', 'setup.json': '{"options": {"maxThreads": 4}}\n'});
	const hint = ' (the core reads the text dialect only: `pdi run -c FILE` reads JSON and YAML, and `pdi config compile FILE -o FILE.cfg` turns them into the text dialect)';
	t.is((await loadError(path.join(directory, 'main.cfg'))).message, `${directory}/setup.yaml:1:1: unknown command 'options:'${hint}`);
	t.regex((await loadError(path.join(directory, 'inc.cfg'))).message, new RegExp(`^${directory}/setup\\.json:1:\\d+: .+${hint.replaceAll(/[()`.]/g, '\\$&')}$`));
});

test('malformed lines are errors naming the expected form', t => {
	t.is(parseError('backend b = noop\nrelink $main f b\n'), '/etc/pdi.cfg:2:1: malformed relink line: expected \'relink OBJECT FUNCTION BACKEND WRAPPER\'');
	t.is(parseError('backend b = noop\nredefine * f b w extra\n'), '/etc/pdi.cfg:2:18: malformed redefine line: expected \'redefine OBJECT FUNCTION BACKEND WRAPPER\'');
	t.is(parseError('backend b = noop\ncallback $main * b h x\n'), '/etc/pdi.cfg:2:22: malformed callback line: expected \'callback OBJECT * BACKEND [HANDLER]\'');
	t.is(parseError('backend b = noop\ncallback $main foo b\n'), '/etc/pdi.cfg:2:16: malformed callback line: the function field must be \'*\' (or \'-\'), got \'foo\'');
	t.is(parseError('object app $main\n'), '/etc/pdi.cfg:1:1: malformed object line: expected \'object ALIAS = PATTERN\' (a value holding blanks or \'#\' in double quotes)');
	t.is(parseError('backend b =\n'), '/etc/pdi.cfg:1:1: malformed backend line: expected \'backend NAME = LIBRARY\' (a value holding blanks or \'#\' in double quotes)');
	t.is(parseError('backend b = /opt/my backends/b.so\n'), '/etc/pdi.cfg:1:1: malformed backend line: expected \'backend NAME = LIBRARY\' (a value holding blanks or \'#\' in double quotes)');
	t.is(parseError('backend b = noop\nrelink $main f@1@2 b w\n'), '/etc/pdi.cfg:2:14: function: expected a function name (`name`, `name@VERSION` or `name@@VERSION`), got \'f@1@2\'');
	t.is(parseError('relnik $main f b w\n'), '/etc/pdi.cfg:1:1: unknown command \'relnik\' (did you mean \'relink\'?)');
});

test('unknown keys and bad values are errors at the key and at the value', t => {
	t.is(parseError('max_threads = 4\n  maxthreads = 5\n'), '/etc/pdi.cfg:2:3: unknown key \'maxthreads\' (did you mean \'max_threads\'?)');
	t.is(parseError('max_threads = abc\n'), '/etc/pdi.cfg:1:15: max_threads: expected an integer ≥ 1, got \'abc\'');
	t.is(parseError('cb_stack_size=100\n'), '/etc/pdi.cfg:1:15: cb_stack_size: expected an integer ≥ 256, got \'100\'');
	t.is(parseError('donttouch_pdi = maybe\n'), '/etc/pdi.cfg:1:17: donttouch_pdi: expected a boolean, got \'maybe\'');
	t.is(parseError('on_error = explode\n'), '/etc/pdi.cfg:1:12: on_error: expected fail or warn, got \'explode\'');
	t.is(parseError('max_threads = 4\nnum_threads = 5\n'), '/etc/pdi.cfg:2:15: num_threads: expected an integer ≤ max_threads (4), got \'5\'');
	t.is(parseError('backend b = noop\ncallback $main * b my_handler\n'), '/etc/pdi.cfg:2:20: callback handler \'my_handler\' needs cb_allow_handler = on');
	t.is(parseError('backend b = noop\ncallback $main * "" -\n'), '/etc/pdi.cfg:2:18: malformed callback line: an empty field');
});

test('a command file holds declarations and rules only: an option or a section header is named as such', async t => {
	const directory = fixture({'main.cfg': 'config = rules.cmd\n', 'rules.cmd': 'max_threads = 4\n'});
	t.is((await loadError(path.join(directory, 'main.cfg'))).message, `${directory}/rules.cmd:1:1: unknown command 'max_threads' (options go in a config file)`);
	// Before: only "unknown command '[rules]'".
	const sectioned = fixture({'main.cfg': 'config = rules.cmd\n', 'rules.cmd': '[my rules]   # as in a config file\nbackend b = noop\n'});
	t.is((await loadError(path.join(sectioned, 'main.cfg'))).message, `${sectioned}/rules.cmd:1:1: unknown command '[my' (sections go in a config file, not a command file)`);
});

test('Warning lines are collected with their place; Error stops reading at its line', t => {
	const config = parseTextDialect('Warning first\nInclude ":more"\n[more]\nWarning "second, quoted"\n[never]\nWarning never run\n', '/etc/pdi.cfg');
	t.deepEqual(config.warnings, [
		{message: 'first', origin: {file: '/etc/pdi.cfg', line: 1, column: 1}},
		{message: 'second, quoted', origin: {file: '/etc/pdi.cfg', line: 4, column: 1}},
	]);
	t.is(parseError('max_threads = 4\n\n  Error this config is not finished\nmax_threads = abc\n'), '/etc/pdi.cfg:3:3: this config is not finished');
	// Nothing after it is read: the error of line 2 came beside it (`config check` printed both).
	const stopped = t.throws(() => parseTextDialect('Error "stop here"\nmax_threads = 0\nrelink $main f nowhere w\n', '/etc/pdi.cfg'), {instanceOf: ConfigError});
	t.deepEqual(stopped?.issues.map(issue => `${issue.line}:${issue.column}: ${issue.message}`), ['1:1: stop here']);
});

test('a #@origin comment of a config pdi compiled sets the place of the next line, for its declarations, rules and errors; in a config of the user\'s it is a comment', t => {
	const header = '# pdi config compiled by pdi (`pdi config compile`, compileConfig()); edit the source config instead.';
	const config = parseTextDialect([
		header,
		'#@origin /src/pdi.yaml:4:5',
		'backend b = noop',
		'',
		'#@origin /src/pdi.yaml:7:5',
		'# another comment',
		'relink $main f b w',
		'relink $main g b w',
		'',
	].join('\n'), '/tmp/compiled.cfg');
	t.deepEqual(config.backends[0]?.origin, {file: '/src/pdi.yaml', line: 4, column: 5});
	t.deepEqual(config.rules.map(rule => rule.origin), [
		{file: '/src/pdi.yaml', line: 7, column: 5},
		{file: '/tmp/compiled.cfg', line: 8, column: 1},
	]);
	t.is(parseError(`${header}\n#@origin /src/my config.yaml:9:3\nrelink $main f nob w\n`, '/tmp/compiled.cfg'), '/src/my config.yaml:9:3: unknown backend \'nob\'');
	// Before, a hand-written comment moved the error elsewhere: "notes about origin: max_threads: ...", or into /etc/passwd.
	t.is(parseError('#@origin notes about origin\nmax_threads = x\n', '/etc/pdi.cfg'), '/etc/pdi.cfg:2:15: max_threads: expected an integer ≥ 1, got \'x\'');
	t.is(parseError('#@origin /etc/passwd:1:1\nrelink $main f nob w\n', '/etc/pdi.cfg'), '/etc/pdi.cfg:2:16: unknown backend \'nob\'');
});

test('a backend or alias declared twice must say the same thing', t => {
	t.is(parseTextDialect('backend b = noop\nbackend b = noop\n').backends.length, 1);
	t.is(parseError('backend b = noop\nbackend b = count\n'), '/etc/pdi.cfg:2:1: backend \'b\' is already declared at /etc/pdi.cfg:1 with library \'noop\'');
	t.is(parseError('object a = $main\nobject a = libc.so.6\n'), '/etc/pdi.cfg:2:1: object alias \'a\' is already declared at /etc/pdi.cfg:1 as \'$main\'');
});

test('a # at the start of a line or after a blank starts a comment on every kind of line; inside a word or quotes it is text', async t => {
	const directory = fixture({
		'main.cfg': [
			'max_threads = 64   # per process',
			'Include ":more" # run [more] now',
			'config = rules.cmd#1   # the name holds a #',
			'Warning watch out # not part of the warning',
			'Warning "quoted # kept"',
			'[more] # a section',
			'max_objects = 9 #nine',
			'',
		].join('\n'),
		'rules.cmd#1': [
			'object app = $main   # comment',
			'backend b = noop # bundled',
			'relink app f#1 b w   # f#1 is a name',
			'callback "lib #x.so" * b # quoted pattern',
			'',
		].join('\n'),
	});
	const config = await loadConfig(path.join(directory, 'main.cfg'));
	t.is(config.options.maxThreads, 64);
	t.is(config.options.maxObjects, 9);
	t.deepEqual(config.warnings.map(warning => warning.message), ['watch out', 'quoted # kept']);
	t.deepEqual(config.rules.map(rule => [rule.object, rule.kind === 'callback' ? '*' : rule.function]), [['$main', 'f#1'], ['lib #x.so', '*']]);
});

test('a value holding blanks or # is written in double quotes, with \\" and \\\\ inside', t => {
	const config = parseTextDialect([
		'be_path = "/opt/my backends"',
		'log_file = "logs/a \\"q\\" \\\\ #1.log"',
		'backend my = "/opt/my backends/x.so"',
		'object "o" = "my app"',
		'relink o f my w',
		'',
	].join('\n'), '/etc/pdi/main.cfg');
	t.deepEqual(config.options.backendPath, ['/opt/my backends']);
	t.is(config.options.log.file, '/etc/pdi/logs/a "q" \\ #1.log');
	t.deepEqual(config.backends.map(backend => backend.library), ['/opt/my backends/x.so']);
	t.deepEqual(config.rules.map(rule => rule.object), ['my app']);
});

test('quoting mistakes and extra values are errors at their column', t => {
	t.is(parseError('log_file = "/tmp/x.log\n'), '/etc/pdi.cfg:1:12: unterminated quoted string (a closing " is missing)');
	t.is(parseError('log_file = "/tmp/x"y\n'), '/etc/pdi.cfg:1:20: expected a blank after the closing quote');
	t.is(parseError('log_file = /tmp/my log.txt\n'), '/etc/pdi.cfg:1:20: log_file: expected one value (write a value holding blanks or \'#\' in double quotes)');
	t.is(parseError('max_threads =\n'), '/etc/pdi.cfg:1:14: max_threads: expected a value after \'=\'');
	t.is(parseError('= 4\n'), '/etc/pdi.cfg:1:1: malformed line: missing key before \'=\'');
	t.is(parseError('[defaults\n'), '/etc/pdi.cfg:1:1: malformed section header: expected \'[NAME]\'');
	// Was accepted: a section no Include can name, whose lines never run.
	t.is(parseError('max_threads = 4\n  [ ]\n'), '/etc/pdi.cfg:2:3: malformed section header: \'[]\' has no name: expected \'[NAME]\'');
	t.is(parseError('reset_config now\n'), '/etc/pdi.cfg:1:14: malformed reset_config line: expected \'reset_config\' alone');
});

test('columns count characters, not bytes', t => {
	t.is(parseError('Warning "é"\nmax_threads = é\n'), '/etc/pdi.cfg:2:15: max_threads: expected an integer ≥ 1, got \'é\'');
	t.is(parseError('backend b = noop\nrelink "é" f c w\n'), '/etc/pdi.cfg:2:14: unknown backend \'c\'');
});

test('compiling quotes every value that needs it, and the native reader reads it back unchanged', t => {
	const odd = ['/opt/my backends/x.so', '/opt/#1/x.so', '/opt/it\'s/$HOME/x.so', '/opt/"q"/x\\y.so'];
	const config = normalizeConfig({
		options: {backendPath: odd.map(entry => path.dirname(entry)), log: {file: '/var/log/a #b.log'}},
		backends: odd.map((library, index) => ({name: `b${index}`, library})),
		rules: odd.map((library, index) => ({relink: {object: path.dirname(library), function: 'f', backend: `b${index}`, wrapper: `#w${index}`}})),
	});
	const reparsed = parseTextDialect(compileConfig(config), '/etc/compiled.cfg');
	t.deepEqual(reparsed.options, config.options);
	t.deepEqual(reparsed.backends.map(backend => backend.library), odd);
	t.deepEqual(reparsed.rules.map(rule => [rule.object, rule.kind === 'callback' || rule.kind === 'act' ? '' : rule.wrapper]), odd.map((library, index) => [path.dirname(library), `#w${index}`]));
});

test('a UTF-8 byte-order mark at the start of a config or command file is skipped, columns counted after it', async t => {
	const directory = fixture({
		'main.cfg': '\uFEFFconfig = rules.cmd\n',
		'rules.cmd': '\uFEFFbackend fix = fix.so\nrelink $main first fix wrap_first\n',
	});
	const config = await loadConfig(path.join(directory, 'main.cfg'));
	t.deepEqual(config.backends.map(backend => backend.origin), [{file: path.join(directory, 'rules.cmd'), line: 1, column: 1}]);
	t.deepEqual(config.rules.map(rule => rule.kind === 'relink' ? rule.function : rule.kind), ['first']);
});

test('a NUL byte in a text config or command file is an error at its line and column, counted in characters after a byte-order mark', async t => {
	t.is(parseError('max_threads = 64\nmax_threads = 6\u00004\n'), '/etc/pdi.cfg:2:16: a NUL byte in a text config');
	t.is(parseError('\uFEFFWarning "é\u0000"\n'), '/etc/pdi.cfg:1:11: a NUL byte in a text config');
	const directory = fixture({'main.cfg': 'config = rules.cmd\n', 'rules.cmd': 'backend fix = fix.so\n\u0000\n'});
	const error = await loadError(path.join(directory, 'main.cfg'));
	t.is(error.message, `${path.join(directory, 'rules.cmd')}:2:1: a NUL byte in a text config`);
});
