import {existsSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {configError, loadError, writeFiles} from './helpers/files.js';
import {
	compileConfig,
	loadConfig,
	mergeConfigs,
	normalizeConfig,
	parseTextDialect,
	verifyConfig,
	type NormalizedRule,
} from '../src/ts/config/index.js';
import {paths} from '../src/ts/paths.js';
import {pdi} from './helpers/cli.js';
import {runPreloaded} from './helpers/preload.js';

const yaml = [
	'rules:',
	'  - act:',
	'      object: $main',
	'      function: malloc',
	'      when: {from: 3, times: 1}',
	'      do: {return: 0, errno: ENOMEM}',
	'  - act:',
	'      function: open',
	'      when: {arg: 0, matches: "/etc/host name"}',
	'      do: {return: -1, errno: ENOENT}',
	'',
].join('\n');

const json = JSON.stringify({rules: [
	{act: {function: 'read', when: {call: [2, 4], every: 3}, do: {delay: '50ms'}}},
	{act: {object: 'lib*.so*', function: 'write@@GLIBC_2.2.5', when: {probability: 0.25, seed: 7, arg: 1, equals: 42}, do: {signal: 'SIGUSR1'}}},
]}, null, 2);

function origin(file: string, line: number, column: number) {
	return {file, line, column};
}

test('act rules in YAML parse to the normalized shape, the object * when omitted', async t => {
	const directory = writeFiles({'pdi.yaml': yaml}, 'pdi-config-act-');
	const file = path.join(directory, 'pdi.yaml');
	const config = await loadConfig(file);
	t.deepEqual(config.rules, [
		{kind: 'act', object: '$main', function: 'malloc', when: {from: 3, times: 1}, do: {return: 0, errno: 'ENOMEM'}, origin: origin(file, 2, 5)},
		{kind: 'act', object: '*', function: 'open', when: {arg: 0, matches: '/etc/host name'}, do: {return: -1, errno: 'ENOENT'}, origin: origin(file, 7, 5)},
	] satisfies NormalizedRule[]);
	t.deepEqual(config.backends, []);
});

test('act rules in JSON parse to the normalized shape, call always a list', async t => {
	const directory = writeFiles({'pdi.json': json}, 'pdi-config-act-');
	const file = path.join(directory, 'pdi.json');
	const config = await loadConfig(file);
	t.deepEqual(config.rules, [
		{kind: 'act', object: '*', function: 'read', when: {call: [2, 4], every: 3}, do: {delay: '50ms'}, origin: origin(file, 3, 5)},
		{kind: 'act', object: 'lib*.so*', function: 'write@@GLIBC_2.2.5', when: {probability: 0.25, seed: 7, arg: 1, equals: 42}, do: {signal: 'SIGUSR1'}, origin: origin(file, 18, 5)},
	] satisfies NormalizedRule[]);
});

test('an act rule without when acts on every call: its conditions are empty', t => {
	const [rule] = normalizeConfig({rules: [{act: {function: 'getpid', do: {return: 1}}}]}).rules;
	t.deepEqual(rule, {kind: 'act', object: '*', function: 'getpid', when: {}, do: {return: 1}, origin: undefined});
});

test('values are normalized as the core reads them: one call number, a delay in its largest exact unit, a signal with SIG, integers written as strings, count only when alone (a delay of 0 is none, and may stand beside it)', t => {
	const config = normalizeConfig({rules: [
		{act: {function: 'a', when: {call: 3}, do: {delay: 1.5, signal: 'TERM'}}},
		{act: {function: 'b', when: {arg: 2, equals: '0x10'}, do: {return: '0xffffffffffffffff', errno: 'EWOULDBLOCK'}}},
		{act: {function: 'c', when: {arg: 0, equals: '-9007199254740993'}, do: {return: '9007199254740993'}}},
		{act: {function: 'd', do: {return: {double: -2.5}, delay: 250, signal: 'SIGIO'}}},
		{act: {function: 'e', do: {delay: '1.5s', errno: 'ENOTSUP', return: '-1'}}},
		{act: {function: 'f', when: {probability: 0.5}, do: {delay: 0, count: true}}},
		{act: {function: 'g', do: {delay: '1.5ns'}}},
		{act: {function: 'h', do: {delay: 3_600_000}}},
	]});
	t.deepEqual(config.rules.map(rule => rule.kind === 'act' ? [rule.when, rule.do] : []), [
		[{call: [3]}, {delay: '1500us', signal: 'SIGTERM'}],
		// A register holds 64 bits: 2^64 - 1 is -1; the aliases glibc does not name are their canonical names.
		[{arg: 2, equals: 16}, {return: -1, errno: 'EAGAIN'}],
		[{arg: 0, equals: '-9007199254740993'}, {return: '9007199254740993'}],
		[{}, {return: {double: -2.5}, delay: '250ms', signal: 'SIGPOLL'}],
		// A delay in its largest exact unit; a probability's seed is 0 unless given; count is implied by any other action.
		[{}, {delay: '1500ms', errno: 'EOPNOTSUPP', return: -1}],
		[{probability: 0.5, seed: 0}, {count: true}],
		// Whole nanoseconds, the fraction dropped (a delay under 1ns is an error, not silently none).
		[{}, {delay: '1ns'}],
		[{}, {delay: '3600s'}],
	]);
});

test('a bad errno name in YAML is an error at its value', async t => {
	const directory = writeFiles({'pdi.yaml': 'rules:\n  - act: {function: open, do: {return: -1, errno: ENOPE}}\n'}, 'pdi-config-act-');
	t.is((await loadError(path.join(directory, 'pdi.yaml'))).message, `${directory}/pdi.yaml:2:51: rules[0].act.do.errno: not an errno name, got "ENOPE"`);
});

test('a wrong number in a YAML or JSON file is quoted as written, not as JavaScript reads it', async t => {
	// Before: `got 18446744073709552000` for 18446744073709551616, the very value the message is about.
	const directory = writeFiles({
		'pdi.yaml': 'rules:\n  - act: {function: read, do: {return: 18446744073709551616}}\n',
		'pdi.json': '{"rules": [{"act": {"function": "read", "do": {"return": 1e400}}}]}\n',
	}, 'pdi-config-act-');
	t.regex((await loadError(path.join(directory, 'pdi.yaml'))).message, /^\S+pdi\.yaml:2:40: rules\[0\]\.act\.do\.return: expected an integer .*, got 18446744073709551616$/);
	t.regex((await loadError(path.join(directory, 'pdi.json'))).message, /^\S+pdi\.json:1:58: rules\[0\]\.act\.do\.return: expected an integer .*, got 1e400$/);
});

test('a bad signal name is an error at its value', async t => {
	const directory = writeFiles({'pdi.yaml': 'rules:\n  - act:\n      function: f\n      do: {signal: SIGNOPE}\n'}, 'pdi-config-act-');
	t.is((await loadError(path.join(directory, 'pdi.yaml'))).message, `${directory}/pdi.yaml:4:20: rules[0].act.do.signal: not a signal name, got "SIGNOPE"`);
	t.is(configError(() => normalizeConfig({rules: [{act: {function: 'f', do: {signal: 9 as never}}}]})).message, 'rules[0].act.do.signal: expected a signal name, got 9');
});

test('errno without return is an error at errno: a call that runs sets its own errno', async t => {
	const directory = writeFiles({'pdi.yaml': 'rules:\n  - act:\n      function: f\n      do:\n        delay: 5ms\n        errno: EINTR\n'}, 'pdi-config-act-');
	t.is((await loadError(path.join(directory, 'pdi.yaml'))).message, `${directory}/pdi.yaml:6:16: rules[0].act.do.errno: errno needs return: a call that runs sets its own errno`);
});

test('matches without arg is an error at matches, and arg without matches or equals at arg, named by their path as in memory (a file\'s message lacked `rules[0].act.when.matches: `)', async t => {
	const directory = writeFiles({
		'matches.yaml': 'rules:\n  - act: {function: open, when: {matches: "/etc/*"}, do: {count: true}}\n',
		'arg.json': '{"rules": [{"act": {"function": "open", "when": {"arg": 1}, "do": {"count": true}}}]}',
	}, 'pdi-config-act-');
	t.is((await loadError(path.join(directory, 'matches.yaml'))).message, `${directory}/matches.yaml:2:43: rules[0].act.when.matches: matches needs arg: the number of the argument`);
	t.is((await loadError(path.join(directory, 'arg.json'))).message, `${directory}/arg.json:1:57: rules[0].act.when.arg: arg needs matches or equals`);
});

test('in memory, where there is no line to point at, an error about keys that go together names the rule\'s key (it named nothing: "seed needs probability")', t => {
	const message = (rule: unknown) => configError(() => normalizeConfig({rules: [{act: {function: 'g', do: {count: true}}}, {act: rule as never}]})).message;
	t.is(message({function: 'f', when: {arg: 0, equals: 1, matches: 'x'}, do: {count: true}}), 'rules[1].act.when.equals: arg takes one of matches and equals, not both');
	t.is(message({function: 'f', when: {equals: 1}, do: {count: true}}), 'rules[1].act.when.equals: equals needs arg: the number of the argument');
	t.is(message({function: 'f', when: {matches: '/etc/*'}, do: {count: true}}), 'rules[1].act.when.matches: matches needs arg: the number of the argument');
	t.is(message({function: 'f', when: {arg: 2}, do: {count: true}}), 'rules[1].act.when.arg: arg needs matches or equals');
	t.is(message({function: 'f', do: {delay: 5, errno: 'EINTR'}}), 'rules[1].act.do.errno: errno needs return: a call that runs sets its own errno');
});

test('an unknown key in when is an error at the key', async t => {
	const directory = writeFiles({'pdi.yaml': 'rules:\n  - act:\n      function: f\n      when: {from: 2, tims: 1}\n      do: {count: true}\n'}, 'pdi-config-act-');
	t.is((await loadError(path.join(directory, 'pdi.yaml'))).message, `${directory}/pdi.yaml:4:23: unknown key 'tims' in rules[0].act.when (did you mean 'times'?)`);
});

test('unknown keys in the rule and in do are errors too; an act rule has no backend', t => {
	t.is(configError(() => normalizeConfig({rules: [{act: {function: 'f', backend: 'x', do: {count: true}} as never}]})).message, 'unknown key \'backend\' in rules[0].act');
	t.is(configError(() => normalizeConfig({rules: [{act: {function: 'f', do: {count: true, retrun: 1} as never}}]})).message, 'unknown key \'retrun\' in rules[0].act.do (did you mean \'return\'?)');
	t.is(configError(() => normalizeConfig({rules: [{act: {function: 'f'} as never}]})).message, 'missing key \'do\' in rules[0].act');
	t.is(configError(() => normalizeConfig({rules: [{act: {function: 'f', do: {count: true}}, relink: {object: '$main', function: 'f', backend: 'b', wrapper: 'w'}} as never]})).message, 'rules[0]: expected a rule with exactly one of relink, redefine, callback, act');
});

test('values out of range are errors naming what is expected', t => {
	const message = (rule: unknown) => configError(() => normalizeConfig({rules: [{act: rule as never}]})).message;
	t.is(message({function: 'f', do: {}}), 'rules[0].act.do: expected at least one of return, delay, signal, count, got {}');
	t.is(message({function: 'f', when: {call: 0}, do: {count: true}}), 'rules[0].act.when.call: expected a call number (an integer ≥ 1), got 0');
	t.is(message({function: 'f', when: {call: Array.from({length: 17}, (_, index) => index + 1)}, do: {count: true}}).replace(/, got .*/, ''), 'rules[0].act.when.call: expected a call number or a list of 1 to 16 of them');
	t.is(message({function: 'f', when: {call: []}, do: {count: true}}), 'rules[0].act.when.call: expected a call number or a list of 1 to 16 of them, got []');
	t.is(message({function: 'f', when: {from: 1.5}, do: {count: true}}), 'rules[0].act.when.from: expected a call number (an integer ≥ 1), got 1.5');
	t.is(message({function: 'f', when: {probability: 1.5}, do: {count: true}}), 'rules[0].act.when.probability: expected a probability from 0 to 1, got 1.5');
	t.is(message({function: 'f', when: {seed: 3}, do: {count: true}}), 'rules[0].act.when.seed: seed needs probability: a seed only picks the calls of a probability');
	t.is(message({function: 'f', when: {arg: 16, equals: 0}, do: {count: true}}), 'rules[0].act.when.arg: expected an argument number from 0 to 15, got 16');
	t.is(message({function: 'f', when: {arg: 0, matches: 'a\nb'}, do: {count: true}}), 'rules[0].act.when.matches: expected a glob on one line, got "a\\nb"');
	t.is(message({function: 'f', when: {arg: 0, equals: '0x1ffffffffffffffff'}, do: {count: true}}), 'rules[0].act.when.equals: expected an integer that fits in 64 bits, got "0x1ffffffffffffffff"');
	t.is(message({function: 'f', when: {arg: 0, equals: 2 ** 60}, do: {count: true}}), `rules[0].act.when.equals: expected an integer (as a decimal or 0x-hex string past 2^53), got ${2 ** 60}`);
	t.is(message({function: 'f', do: {return: 'lots'}}), 'rules[0].act.do.return: expected an integer (as a decimal or 0x-hex string past 2^53) or {double: NUMBER} (NaN and the infinities by name: {double: nan}, inf, -inf), got "lots"');
	t.is(message({function: 'f', do: {delay: '2h'}}), 'rules[0].act.do.delay: expected a duration (50ms, 1.5s, 100us, 10ns) or a number of milliseconds, got "2h"');
	t.is(message({function: 'f', do: {delay: 3_600_001}}), 'rules[0].act.do.delay: expected a delay of at most 1 hour, got 3600001');
	t.is(message({function: 'f', do: {delay: '3600.5s'}}), 'rules[0].act.do.delay: expected a delay of at most 1 hour, got "3600.5s"');
	t.is(message({function: 'f', do: {delay: '0.4ns'}}), 'rules[0].act.do.delay: expected a delay of at least 1ns, or 0 for none, got "0.4ns"');
	t.is(message({function: 'f', do: {delay: 0.0000004}}), 'rules[0].act.do.delay: expected a delay of at least 1ns, or 0 for none, got 4e-7');
	// One error, not a second one at the same place (before: also 'expected a delay of at least 1ns, or 0 for none').
	t.is(message({function: 'f', do: {delay: -5}}), 'rules[0].act.do.delay: expected a duration (50ms, 1.5s, 100us, 10ns) or a number of milliseconds, got -5');
	t.deepEqual(normalizeConfig({rules: [{act: {function: 'f', do: {delay: '0ms'}}}, {act: {function: 'f', do: {delay: '1.7ns'}}}]}).rules.map(rule => rule.kind === 'act' ? rule.do : undefined), [{count: true}, {delay: '1ns'}]);
	t.is(message({function: 'f', do: {count: false}}), 'rules[0].act.do.count: expected true, got false');
	t.is(message({function: 'f@@', do: {count: true}}), 'rules[0].act.function: expected a function name (`name`, `name@VERSION` or `name@@VERSION`), got "f@@"');
	t.notThrows(() => normalizeConfig({rules: [{act: {function: 'f', do: {delay: '3600s'}}}, {act: {function: 'f', do: {delay: 3_600_000}}}]}));
});

test('compileConfig writes an act line per rule in rule order, with its origin, the place of each field, an object alias and the glob quoted', async t => {
	const directory = writeFiles({'pdi.yaml': [
		'backends: [{name: nop, library: noop}]',
		'rules:',
		'  - act: {object: $main, function: open, when: {arg: 0, matches: "/etc/host name \\"1\\" \\\\ #x"}, do: {return: -1, errno: ENOENT}}',
		'  - relink: {object: $main, function: close, backend: nop, wrapper: pdi_be_init}',
		'  - act: {function: malloc, when: {call: [3, 5], from: 2, times: 4, every: 2, probability: 0.05, seed: 7}, do: {delay: 50, signal: SEGV}}',
		'  - act: {object: "/opt/my app/x", function: f, when: {arg: 15, equals: "0x7fffffffffffffff"}, do: {return: {double: 1.5}}}',
		'',
	].join('\n')}, 'pdi-config-act-');
	const file = path.join(directory, 'pdi.yaml');
	const text = compileConfig(await loadConfig(file));
	t.is(text.slice(text.indexOf('[global]\n')), [
		'[global]',
		`#@origin ${file}:1:12`,
		`#@field 15 ${file}:1:33`,
		'backend nop = noop',
		`#@origin ${file}:3:5`,
		'object o1 = $main',
		`#@origin ${file}:6:5`,
		'object o2 = "/opt/my app/x"',
		`#@origin ${file}:3:5`,
		`#@field 5 ${file}:3:19`,
		`#@field 8 ${file}:3:36`,
		`#@field 13 ${file}:3:54`,
		`#@field 47 ${file}:3:110`,
		`#@field 57 ${file}:3:121`,
		'act o1 open arg0~"/etc/host name \\"1\\" \\\\ #x" return=-1 errno=ENOENT',
		`#@origin ${file}:4:5`,
		`#@field 8 ${file}:4:22`,
		`#@field 11 ${file}:4:39`,
		`#@field 17 ${file}:4:55`,
		`#@field 21 ${file}:4:69`,
		'relink o1 close nop pdi_be_init',
		`#@origin ${file}:5:5`,
		...[[7, 21], [14, 42], [23, 56], [30, 66], [38, 76], [46, 92], [53, 104], [60, 120], [71, 132]].map(([column, at]) => `#@field ${column} ${file}:5:${at}`),
		'act * malloc call=3,5 from=2 times=4 every=2 p=0.05 seed=7 delay=50ms signal=SIGSEGV',
		`#@origin ${file}:6:5`,
		`#@field 5 ${file}:6:19`,
		`#@field 8 ${file}:6:46`,
		`#@field 10 ${file}:6:61`,
		`#@field 36 ${file}:6:109`,
		'act o2 f arg15=9223372036854775807 return=double:1.5',
		'',
	].join('\n'));
});

test('merged configs keep one copy of an act rule given twice, and both of two that differ in an action', t => {
	const rule = {act: {object: '$main', function: 'open', when: {arg: 0, matches: '/etc/*'}, do: {return: -1, errno: 'EACCES' as const}}};
	const other = {act: {...rule.act, do: {return: -1, errno: 'EPERM' as const}}};
	const merged = mergeConfigs([normalizeConfig({rules: [rule]}), normalizeConfig({rules: [rule, other]})]);
	t.deepEqual(merged.rules.map(each => each.kind === 'act' ? each.do.errno : ''), ['EACCES', 'EPERM']);
});

const verifyOptions = () => ({backendDirectory: paths.nativeDirectory, bundled: paths.backends});

// The tests below need the core's reader to know act lines (the text dialect is read by the core only).

test('a compiled act config reads back with the core\'s reader as the same rules, at the places of the source', async t => {
	const directory = writeFiles({'pdi.yaml': [
		'rules:',
		'  - act: {object: $main, function: open, when: {arg: 0, matches: "/etc/host name \\"1\\" \\\\ #x"}, do: {return: -1, errno: ENOENT}}',
		'  - act: {function: malloc, when: {call: [3, 5], from: 2, times: 4, every: 2, probability: 0.05, seed: 7}, do: {delay: 50, signal: SEGV}}',
		'  - act: {object: "/opt/my app/x", function: f@@V2, when: {arg: 15, equals: "0x7fffffffffffffff"}, do: {return: {double: 1.5}}}',
		'  - act: {object: lib*.so*, function: g, when: {arg: 1, equals: -3}, do: {return: "0xffffffffffffff00", delay: 1.5s}}',
		'  - act: {function: h, do: {delay: 10ns}}',
		'',
	].join('\n')}, 'pdi-config-act-');
	const config = await loadConfig(path.join(directory, 'pdi.yaml'));
	const reread = parseTextDialect(compileConfig(config), path.join(directory, 'compiled.cfg'));
	t.deepEqual(reread.rules, config.rules);
});

test('hand-written act lines of the text dialect read as the normalized rules JSON and YAML give', t => {
	const file = '/etc/pdi.cfg';
	const config = parseTextDialect([
		'object app = $main',
		'act app open arg0~"/etc/host name" return=-1 errno=ENOENT   # a comment',
		'act * malloc call=3,5 from=2 times=1 every=2 p=0.5 seed=7 delay=50ms signal=SEGV',
		'act libx.so* strtod@GLIBC_2.2.5 arg1=0x10 return=double:1.5',
		'act "/opt/my app/x" getpid return=9007199254740993',
		'',
	].join('\n'), file);
	t.deepEqual(config.rules, normalizeConfig({rules: [
		{act: {object: '$main', function: 'open', when: {arg: 0, matches: '/etc/host name'}, do: {return: -1, errno: 'ENOENT'}}},
		{act: {function: 'malloc', when: {call: [3, 5], from: 2, times: 1, every: 2, probability: 0.5, seed: 7}, do: {delay: '50ms', signal: 'SIGSEGV'}}},
		{act: {object: 'libx.so*', function: 'strtod@GLIBC_2.2.5', when: {arg: 1, equals: 16}, do: {return: {double: 1.5}}}},
		{act: {object: '/opt/my app/x', function: 'getpid', do: {return: '9007199254740993'}}},
	]}).rules.map((rule, index) => ({...rule, origin: origin(file, index + 2, 1)})));
});

test('an errno name the core knows and Node does not list (ENOTBLK) is accepted in both spellings alike', t => {
	const [text] = parseTextDialect('act * f return=-1 errno=ENOTBLK\n').rules;
	const [json] = normalizeConfig({rules: [{act: {function: 'f', do: {return: -1, errno: 'ENOTBLK'}}}]}).rules;
	t.deepEqual({...text, origin: undefined}, json);
});

test('the other names of an errno or a signal number (EWOULDBLOCK, ENOTSUP, SIGIOT, IOT, SIGIO) are accepted in both spellings alike', t => {
	// Before, the text dialect refused them ('errno=EWOULDBLOCK: not an errno name') where JSON and YAML took them.
	for (const [token, action] of [['errno=EWOULDBLOCK', {errno: 'EWOULDBLOCK'}], ['errno=ENOTSUP', {errno: 'ENOTSUP'}]] as const) {
		const [text] = parseTextDialect(`act * f return=-1 ${token}\n`).rules;
		const [json] = normalizeConfig({rules: [{act: {function: 'f', do: {return: -1, ...action}}}]}).rules;
		t.deepEqual({...text, origin: undefined}, json, token);
	}

	for (const signal of ['SIGIOT', 'IOT', 'SIGIO', 'IO'] as const) {
		const [text] = parseTextDialect(`act * f signal=${signal}\n`).rules;
		const [json] = normalizeConfig({rules: [{act: {function: 'f', do: {signal}}}]}).rules;
		t.deepEqual({...text, origin: undefined}, json, signal);
	}
});

test('pdi config check and pdi run name every act rule\'s problem of a YAML config, not only the first', async t => {
	const directory = writeFiles({'acts.yaml': [
		'rules:',
		'  - act: {function: open, when: {arg: 3, equals: 1}, do: {count: true}}',
		'  - act: {function: getpid, do: {count: true}}',
		'  - act: {function: sqrt, do: {return: 0}}',
		'  - act: {function: longjmp, do: {count: true}}',
		'',
	].join('\n')}, 'pdi-config-act-');
	const file = path.join(directory, 'acts.yaml');
	const expected = [
		`pdi: ${file}:2:39: act open: arg3: open takes 3 integer or pointer argument(s), numbered from 0`,
		`pdi: ${file}:4:40: act sqrt: sqrt returns a floating-point value: give it as return=double:X`,
		`pdi: ${file}:5:21: act longjmp: longjmp is never instrumented (it returns twice, never returns, or looks at its caller: docs/mechanisms.md), so no act rule can see its calls`,
		'',
	].join('\n');
	// Before, only the first line: the core's reader stops at its first problem.
	// pdi config compile wrote such a config without a word (the core refused it when it read the output).
	const output = path.join(directory, 'acts.cfg');
	for (const command of [['config', 'check', file], ['run', '-c', file, '--', '/bin/true'], ['config', 'compile', file, '-o', output]]) {
		const result = await pdi(command);
		t.deepEqual([result.code, result.stderr], [2, expected], command.slice(0, 2).join(' '));
	}

	t.false(existsSync(output));
});

test('more than 256 act rules are refused at the 257th in every spelling by config check, compile and run, before the program starts', async t => {
	// Before, config check and compile passed such a config and pdi run refused it as the program started, without a column.
	const lines = Array.from({length: 257}, (_, index) => `act $main getpid call=${index + 1} return=${index + 1}`);
	const directory = writeFiles({
		'many.cfg': lines.join('\n') + '\n',
		'many.yaml': ['rules:', ...lines.map((_, index) => `  - act: {function: getpid, when: {call: [${index + 1}]}, do: {return: ${index + 1}}}`), ''].join('\n'),
		'enough.cfg': lines.slice(0, 256).join('\n') + '\n',
	}, 'pdi-config-act-many-');
	for (const [name, place] of [['many.cfg', '257:1'], ['many.yaml', '258:5']] as const) {
		const file = path.join(directory, name);
		for (const command of [['config', 'check', file], ['config', 'compile', file], ['run', '-c', file, '--', '/bin/true']]) {
			const result = await pdi(command);
			t.deepEqual([result.code, result.stderr], [2, `pdi: ${file}:${place}: act: more than 256 act rules in one config\n`], `${name}: ${command.slice(0, 2).join(' ')}`);
		}
	}

	// The shell's first getpid() is the first rule's: 256 rules install.
	const enough = await pdi(['run', '-c', path.join(directory, 'enough.cfg'), '--', '/bin/sh', '-c', 'echo $$']);
	t.deepEqual([enough.code, enough.stdout, enough.stderr], [0, '1\n', '']);
});

test('a BigInt in an in-memory config is a ConfigError naming the field, not a TypeError of JSON.stringify', t => {
	for (const [config, message] of [
		[{rules: [{act: {function: 'open', do: {return: 1n}}}]}, /^rules\[0\]\.act\.do\.return: expected an integer .*, got 1n \(a BigInt: give a number\)$/],
		[{rules: [{act: {function: 'open', when: {arg: 0, equals: 1n}, do: {count: true}}}]}, /^rules\[0\]\.act\.when\.equals: expected an integer .*, got 1n \(a BigInt: give a number\)$/],
		[{options: {maxThreads: 5n}}, /^options\.maxThreads: expected an integer ≥ 1, got 5n \(a BigInt: give a number\)$/],
	] as const) {
		t.regex(configError(() => normalizeConfig(config as never)).message, message);
	}
});

test('a bad token of a text-dialect act line is an error at its line', t => {
	t.regex(configError(() => parseTextDialect('act * open return=-1 errno=ENOPE\n', '/etc/pdi.cfg')).message, /^\/etc\/pdi\.cfg:1:\d+: .*not an errno name/);
	t.is(configError(() => parseTextDialect('\nact * open delay=5ms errno=ENOENT\n', '/etc/pdi.cfg')).message, '/etc/pdi.cfg:2:22: act: errno= needs return=: a call that runs sets its own errno');
	// errno= alone meant to fail calls: told so at its token (was: "no action" at the line's start).
	t.is(configError(() => parseTextDialect('act * open errno=ENOENT\n', '/etc/pdi.cfg')).message, '/etc/pdi.cfg:1:12: act: errno= needs return=: a call that runs sets its own errno');
});

test('seed= without p= in a text-dialect act line is an error, as seed without probability is in YAML, not a token silently dropped', async t => {
	t.is(configError(() => parseTextDialect('act * open seed=7 return=-1 errno=EIO\n', '/etc/pdi.cfg')).message, '/etc/pdi.cfg:1:12: act: seed= needs p=: a seed only picks the calls of a probability');
	t.like(parseTextDialect('act * open p=0.5 seed=7 return=-1 errno=EIO\n').rules[0], {when: {probability: 0.5, seed: 7}});
	const directory = writeFiles({'act.cfg': 'act $main open seed=3 return=-1 errno=EIO\n', other: 'shown\n'}, 'pdi-config-act-');
	const run = await pdi(['run', '-c', path.join(directory, 'act.cfg'), '--', '/bin/cat', path.join(directory, 'other')]);
	t.is(run.stderr, `pdi: ${directory}/act.cfg:1:16: act: seed= needs p=: a seed only picks the calls of a probability\n`);
	t.is(run.code, 2);
	t.is(run.stdout, '', 'cat never ran');
});

test('verifyConfig accepts act rules without a declared backend, next to a relink of the same function and a callback, as the core does', t => {
	// The core refuses an act rule only on a slot a callback instruments, which the config does not tell.
	const config = normalizeConfig({backends: [{name: 'nop', library: 'noop'}, {name: 'trace', library: 'trace'}], rules: [
		{act: {object: '$main', function: 'open', do: {return: -1, errno: 'EACCES'}}},
		{act: {object: '$main', function: 'open', when: {call: 2}, do: {count: true}}},
		{relink: {object: '$main', function: 'open', backend: 'nop', wrapper: 'pdi_be_init'}},
		{act: {function: 'read', do: {count: true}}},
		{callback: {object: 'libfoo.so.1', backend: 'trace'}},
	]});
	t.deepEqual(verifyConfig(config, verifyOptions()), {warnings: []});
});

test('pdi config check prints an act rule normalized, and pdi run changes the calls of a real program with it', async t => {
	const directory = writeFiles({'host name': 'hidden\n', other: 'shown\n'}, 'pdi-config-act-');
	const file = path.join(directory, 'act.yaml');
	writeFileSync(file, 'rules:\n  - act: {object: $main, function: open, when: {arg: 0, matches: "*/host name"}, do: {return: -1, errno: EACCES}}\n');
	const check = await pdi(['config', 'check', file]);
	t.is(check.code, 0, check.stderr);
	t.like((JSON.parse(check.stdout) as {rules: NormalizedRule[]}).rules[0], {kind: 'act', object: '$main', function: 'open', when: {arg: 0, matches: '*/host name'}, do: {return: -1, errno: 'EACCES'}});
	const run = await pdi(['run', '-c', file, '--', '/bin/cat', path.join(directory, 'host name'), path.join(directory, 'other')]);
	t.is(run.code, 1);
	t.regex(run.stderr, /host name'?: Permission denied$/m);
	t.is(run.stdout, 'shown\n');
});

test('a condition or action given twice in one text-dialect act line is an error at the second, not a rule that silently drops the first (arg0~ then arg1= made cat fail on every file)', async t => {
	t.is(configError(() => parseTextDialect('act $main open arg0~"/etc/hostname" arg1=0 return=-1 errno=ENOENT\n', '/etc/pdi.cfg')).message, '/etc/pdi.cfg:1:37: act: arg1=0: a rule has one argument condition (argN~ or argN=)');
	t.is(configError(() => parseTextDialect('act * open return=-1 errno=ENOENT errno=EACCES\n', '/etc/pdi.cfg')).message, '/etc/pdi.cfg:1:35: act: errno=EACCES: errno is given twice in one rule');
	t.is(configError(() => parseTextDialect('act * open from=5 from=1 count\n', '/etc/pdi.cfg')).message, '/etc/pdi.cfg:1:19: act: from=1: from is given twice in one rule');
	const directory = writeFiles({'act.cfg': 'act $main open arg0~"*/hidden" arg1=0 return=-1 errno=ENOENT\n', other: 'shown\n'}, 'pdi-config-act-');
	const run = await pdi(['run', '-c', path.join(directory, 'act.cfg'), '--', '/bin/cat', path.join(directory, 'other')]);
	t.is(run.code, 2);
	t.is(run.stdout, '', 'cat never ran');
	t.is(run.stderr, `pdi: ${directory}/act.cfg:1:32: act: arg1=0: a rule has one argument condition (argN~ or argN=)\n`);
});

test('a text-dialect call number or seed past 2^53 - 1, which JSON and YAML cannot hold, is an error at its token with the value as written, in pdi and in the core', async t => {
	// Before: the core took them, and pdi's second reading named column 1, the list index and a rounded value.
	const cases = [
		['act $main open from=18446744073709551615 count', '1:16: act: from=18446744073709551615: expected a number from 1 to 9007199254740991'],
		['act $main open call=2,9007199254740993 count', '1:16: act: call=2,9007199254740993: expected up to 16 call numbers from 1 to 9007199254740991, separated by commas'],
		['act $main open every=9007199254740992 count', '1:16: act: every=9007199254740992: expected a number from 1 to 9007199254740991'],
		['act $main open p=0.5 seed=9007199254740992 count', '1:22: act: seed=9007199254740992: expected a number from 0 to 9007199254740991'],
	] as const;
	for (const [line, message] of cases) {
		const directory = writeFiles({'act.cfg': `${line}\n`}, 'pdi-config-act-');
		const file = path.join(directory, 'act.cfg');
		t.is(configError(() => parseTextDialect(`${line}\n`, '/etc/pdi.cfg')).message, `/etc/pdi.cfg:${message}`);
		const core = await runPreloaded('/bin/true', [], file);
		t.deepEqual([core.code, core.stderr], [2, `pdi: ${file}:${message}\n`], line);
	}

	t.like(parseTextDialect('act * open from=9007199254740991 count\n').rules[0], {when: {from: 9_007_199_254_740_991}});
});

test('a call= list with an empty item is an error at the token, not a rule without its condition that acts on every call (call=, loaded as such)', async t => {
	for (const list of [',', '3,,5', '3,', ',3']) {
		t.is(configError(() => parseTextDialect(`act * open call=${list} return=-1 errno=EIO\n`, '/etc/pdi.cfg')).message,
			`/etc/pdi.cfg:1:12: act: call=${list}: expected up to 16 call numbers from 1 to 9007199254740991, separated by commas`);
	}

	t.like(parseTextDialect('act * open call=3,5 return=-1 errno=EIO\n').rules[0], {when: {call: [3, 5]}});
	const directory = writeFiles({'act.cfg': 'act $main open call=, return=-1 errno=ENOENT\n', other: 'shown\n'}, 'pdi-config-act-');
	const run = await pdi(['run', '-c', path.join(directory, 'act.cfg'), '--', '/bin/cat', path.join(directory, 'other')]);
	t.is(run.code, 2);
	t.is(run.stdout, '', 'cat never ran');
});

test('a glob the act matcher cannot read is an error at its place in every spelling, not a rule that never acts (arg0~"[abc" loaded and matched nothing, not even [abc)', async t => {
	const unclosed = 'a \'[\' without its closing \']\' (\\[ is a literal \'[\')';
	t.is(configError(() => parseTextDialect('act $main open arg0~"*[abc" return=-1 errno=EPERM\n', '/etc/pdi.cfg')).message, `/etc/pdi.cfg:1:16: act: arg0~*[abc: not a glob: ${unclosed}`);
	t.is(configError(() => parseTextDialect('act $main open arg0~"x[" count\n', '/etc/pdi.cfg')).message, `/etc/pdi.cfg:1:16: act: arg0~x[: not a glob: ${unclosed}`);
	t.regex(configError(() => parseTextDialect('act $main open arg0~"[[:digit:]]" count\n', '/etc/pdi.cfg')).message, /:1:16: act: arg0~\[\[:digit:\]\]: not a glob: character classes such as \[:digit:\] are not supported: write the range, \[0-9\]$/);
	for (const glob of ['[abc', '[!]', 'x\\', '[[:alpha:]]']) {
		const problem = configError(() => normalizeConfig({rules: [{act: {function: 'open', when: {arg: 0, matches: glob}, do: {count: true}}}]})).message;
		t.regex(problem, /rules\[0\]\.act\.when\.matches: expected a glob: /, glob);
	}

	for (const glob of ['[]]x', '[!]]', '\\[abc', '[a-z]*', '*.conf']) {
		t.like(normalizeConfig({rules: [{act: {function: 'open', when: {arg: 0, matches: glob}, do: {count: true}}}]}).rules[0], {when: {matches: glob}});
		t.like(parseTextDialect(`act $main open arg0~"${glob.replaceAll('\\', '\\\\')}" count\n`).rules[0], {when: {matches: glob}});
	}

	const directory = writeFiles({'[abc': 'hidden\n', 'act.yaml': 'rules:\n  - act: {function: open, when: {arg: 0, matches: "*/\\\\[abc"}, do: {return: -1, errno: EPERM}}\n'}, 'pdi-config-act-');
	const run = await pdi(['run', '-c', path.join(directory, 'act.yaml'), '--', '/bin/cat', path.join(directory, '[abc')]);
	t.is(run.code, 1, 'the escaped [ matches a literal [');
	t.regex(run.stderr, /Operation not permitted/);
	writeFileSync(path.join(directory, 'act.yaml'), 'rules:\n  - act: {function: open, when: {arg: 0, matches: "*/[abc"}, do: {return: -1, errno: EPERM}}\n');
	const refused = await pdi(['run', '-c', path.join(directory, 'act.yaml'), '--', '/bin/cat', path.join(directory, '[abc')]);
	t.is(refused.code, 2);
	t.is(refused.stdout, '', 'cat never ran');
	t.regex(refused.stderr, /act\.yaml:2:\d+: rules\[0\]\.act\.when\.matches: expected a glob: a '\[' without its closing '\]'/);
});

test('count beside another action is an error at count in every spelling, not dropped (docs/act.md: nothing but counting; the return acted and count was ignored)', async t => {
	const message = 'count goes with no other action (return, delay, signal): it is nothing but counting, and a rule that acts counts its calls too';
	t.is(configError(() => normalizeConfig({rules: [{act: {function: 'open', do: {return: -1, errno: 'EIO', count: true} as never}}]})).message, `rules[0].act.do.count: ${message}`);
	for (const action of [{signal: 'SEGV'}, {delay: '5ms'}]) {
		t.is(configError(() => normalizeConfig({rules: [{act: {function: 'open', do: {...action, count: true} as never}}]})).message, `rules[0].act.do.count: ${message}`);
	}

	const directory = writeFiles({
		'act.yaml': 'rules:\n  - act: {object: $main, function: open, do: {return: -1, errno: EIO, count: true}}\n',
		'act.json': '{"rules": [{"act": {"function": "open", "do": {"return": -1, "count": true}}}]}',
		'act.cfg': 'act $main open return=-1 errno=EIO count\n',
		other: 'shown\n',
	}, 'pdi-config-act-');
	t.is((await loadError(path.join(directory, 'act.yaml'))).message, `${directory}/act.yaml:2:78: rules[0].act.do.count: ${message}`);
	t.is((await loadError(path.join(directory, 'act.json'))).message, `${directory}/act.json:1:71: rules[0].act.do.count: ${message}`);
	const core = 'act: count goes with no other action (return=, delay=, signal=): it is nothing but counting, and a rule that acts counts its calls too';
	t.is(configError(() => parseTextDialect('act * open delay=5ms count\n', '/etc/pdi.cfg')).message, `/etc/pdi.cfg:1:22: ${core}`);
	const run = await pdi(['run', '-c', path.join(directory, 'act.cfg'), '--', '/bin/cat', path.join(directory, 'other')]);
	t.is(run.stderr, `pdi: ${directory}/act.cfg:1:36: ${core}\n`);
	t.is(run.code, 2);
	t.is(run.stdout, '', 'cat never ran');
	// A delay of 0 is none: beside count it leaves counting alone, in every spelling.
	t.like(normalizeConfig({rules: [{act: {function: 'open', do: {delay: 0, count: true}}}]}).rules[0], {do: {count: true}});
	t.like(parseTextDialect('act * open delay=0 count\n').rules[0], {do: {count: true}});
});
