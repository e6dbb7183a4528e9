import {writeFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {compileConfig, ConfigError, loadConfig, mergeConfigs, normalizeConfig} from '../src/ts/config/index.js';
import {scratchDirectory} from './helpers/files.js';

const scratch = scratchDirectory('pdi config act early ');

// Was a bug: the TypeScript functions took these, compileConfig() wrote text the core refuses, and only the run
// (or pdi config check) said what was wrong.
for (const [rule, message] of [
	[{act: {function: 'sqrt', do: {return: 1}}}, 'rules[0]: act sqrt: sqrt returns a floating-point value: give it as return=double:X'],
	[{act: {function: 'longjmp', do: {return: 0}}}, 'rules[0]: act longjmp: longjmp is never instrumented (it returns twice, never returns, or looks at its caller: docs/mechanisms.md), so no act rule can see its calls'],
	[{act: {function: 'ldiv', do: {return: 0}}}, 'rules[0]: act ldiv: return= cannot give ldiv\'s result: it returns a structure (delay, signal and count work on it)'],
	[{act: {function: 'read', when: {arg: 7, equals: 1}, do: {return: 1}}}, 'rules[0]: act read: arg7: read takes 3 integer or pointer argument(s), numbered from 0'],
] as const) {
	test(`normalizeConfig() and compileConfig() refuse what the core refuses: ${message.slice(10, 40)}...`, t => {
		t.throws(() => normalizeConfig({rules: [rule]}), {instanceOf: ConfigError, message});
		t.throws(() => compileConfig({rules: [rule]}), {instanceOf: ConfigError, message});
	});
}

test('loadConfig() refuses every act rule the core refuses, in YAML, JSON and the text dialect, at its place', async t => {
	const yaml = path.join(scratch, 'bad.yaml');
	writeFileSync(yaml, 'rules:\n  - {act: {object: $main, function: read, when: {arg: 7, equals: 1}, do: {return: 1}}}\n  - {act: {object: $main, function: sqrt, do: {return: 1}}}\n');
	const error = await t.throwsAsync(loadConfig(yaml), {instanceOf: ConfigError});
	t.deepEqual(error?.issues.map(issue => `${issue.line}:${issue.column}: ${issue.message}`), [
		'2:55: act read: arg7: read takes 3 integer or pointer argument(s), numbered from 0',
		'3:56: act sqrt: sqrt returns a floating-point value: give it as return=double:X',
	]);
	const json = path.join(scratch, 'bad.json');
	writeFileSync(json, '{"rules": [{"act": {"function": "sqrt", "do": {"return": 1}}}]}\n');
	await t.throwsAsync(loadConfig(json), {instanceOf: ConfigError, message: `${json}:1:58: act sqrt: sqrt returns a floating-point value: give it as return=double:X`});
	const text = path.join(scratch, 'bad.cfg');
	writeFileSync(text, 'act $main sqrt return=1\n');
	await t.throwsAsync(loadConfig(text), {instanceOf: ConfigError, message: `${text}:1:16: act sqrt: sqrt returns a floating-point value: give it as return=double:X`});
});

test('an act rule the core takes is taken, and compiles as before', t => {
	t.regex(compileConfig({rules: [{act: {function: 'read', when: {call: 3}, do: {return: -1, errno: 'EIO'}}}]}), /^act \* read call=3 return=-1 errno=EIO$/m);
});

// Was silent: the rule of the second file vanished from the counts a harness checks against its rules.
test('merging an act rule equal to one of another file keeps it once and warns at the dropped one; the same file twice does not', async t => {
	const yaml = path.join(scratch, 'faults.yaml');
	writeFileSync(yaml, 'rules:\n  - {act: {object: $main, function: open, when: {call: 3}, do: {return: -1, errno: ENOENT}}}\n');
	const text = path.join(scratch, 'faults.cfg');
	writeFileSync(text, 'act $main open call=3 return=-1 errno=ENOENT\n');
	const [first, second] = [await loadConfig(yaml), await loadConfig(text)];
	const merged = mergeConfigs([first, second]);
	t.is(merged.rules.length, 1);
	t.deepEqual(merged.warnings.map(warning => `${warning.origin?.file}:${warning.origin?.line}: ${warning.message}`), [
		`${text}:1: act open: the same rule as ${yaml}:2, kept once: its calls are counted there`,
	]);
	const twice = mergeConfigs([first, await loadConfig(yaml)]);
	t.is(twice.rules.length, 1);
	t.deepEqual(twice.warnings, []);
});

// Was silent: `pdi run -c` of a file holding one act rule twice printed one count line, the second rule gone.
test('an act rule written twice in one file, or in one in-memory config, is kept once with a warning at the second', async t => {
	const twice = path.join(scratch, 'twice.cfg');
	writeFileSync(twice, 'act $main close call=2 return=0\nact $main close call=2 return=0\n');
	const merged = mergeConfigs([await loadConfig(twice)]);
	t.is(merged.rules.length, 1);
	t.deepEqual(merged.warnings.map(warning => `${warning.origin?.line}: ${warning.message}`), [`2: act close: the same rule as ${twice}:1, kept once: its calls are counted there`]);
	const rule = {act: {object: '$main', function: 'close', when: {call: 2}, do: {return: 0}}};
	const inMemory = mergeConfigs([normalizeConfig({rules: [rule, rule]})]);
	t.is(inMemory.rules.length, 1);
	t.deepEqual(inMemory.warnings.map(warning => warning.message), ['act close: the same rule as rules[0], kept once: its calls are counted there']);
});
