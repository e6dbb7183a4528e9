import {writeFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {pdi} from './helpers/cli.js';
import {scratchDirectory} from './helpers/files.js';

const scratch = scratchDirectory('pdi-config5-yaml-');

function write(name: string, text: string): string {
	const file = path.join(scratch, name);
	writeFileSync(file, text);
	return file;
}

test('a YAML key that is a list or a mapping is one syntax error at the key, with no Node.js warning on stderr', async t => {
	const cases: Array<[string, string, string]> = [
		['complex.yaml', 'options:\n  maxThreads: 4\n  ? [a, b]\n  : 1\n', '3:5'],
		['flow.yaml', '[a]: 1\n', '1:1'],
		['rule.yaml', 'rules:\n  - {[x]: 1}\n', '2:6'],
		['alias.yaml', 'x: &k {a: 1}\noptions:\n  *k : 1\n', '3:3'],
	];
	for (const [name, text, place] of cases) {
		const file = write(name, text);
		for (const command of [['config', 'check', file], ['run', '-c', file, '--', '/bin/true']]) {
			const result = await pdi(command);
			t.is(result.code, 2);
			t.is(result.stderr, `pdi: ${file}:${place}: syntax error: a list or a mapping as a key (a config's keys are names, such as maxThreads)\n`, command.join(' '));
		}
	}
});

test('a YAML syntax error comes alone, as the first one, not with the errors that follow from it', async t => {
	const file = write('quote.yaml', 'options: {maxThreads: "unterminated}\n');
	const result = await pdi(['config', 'check', file]);
	t.is(result.code, 2);
	t.regex(result.stderr, /^pdi: [^\n]+quote\.yaml:\d+:\d+: syntax error: [^\n]+\n$/);
});

test('an unterminated quoted string in YAML is reported where it starts, as in the text dialect, not where yaml gave up', async t => {
	for (const [text, place, mark] of [
		['options: {maxThreads: "unterminated}\n', '1:23', '"'],
		['options:\n  maxThreads: "abc\n  numThreads: 1\n', '2:15', '"'],
		['rules:\n  - act: {function: open, when: {arg: 0, matches: \'/etc/*}, do: {return: 1}}\n', '2:51', '\''],
	] as const) {
		const file = write('quoted.yaml', text);
		const result = await pdi(['config', 'check', file]);
		t.is(result.code, 2);
		t.is(result.stderr, `pdi: ${file}:${place}: syntax error: unterminated quoted string (a closing ${mark} is missing)\n`);
	}
});

const deeperKey = 'a key indented more than the key above it (the keys of one mapping start at the same column; a mapping as a value starts on the line after its key)';

test('a YAML item indented out of line is reported at its first character, and an unclosed { or [ where it opens, not at the line\'s start or the end of the file', async t => {
	for (const [text, place, message] of [
		['backends:\n  - name: count\n    library: count\nrules:\n  - relink:\n      object: $main\n     function: malloc\n', '7:6', 'all mapping items must start at the same column'],
		['rules:\n  - relink: {object: $main, function: malloc, wrapper: count_malloc\n', '2:13', 'a flow mapping opened here is not closed (a } is missing, or a line after it is not indented enough)'],
		['rules: [ {relink: {object: $main}}\n', '1:8', 'a flow list opened here is not closed (a ] is missing, or a line after it is not indented enough)'],
		['rules: [{relink: {object: $main}\n', '1:9', 'a flow mapping opened here is not closed (a } is missing, or a line after it is not indented enough)'],
		// Indented more: yaml took the value above and this key for one key on two lines, and said so at the value.
		['rules:\n  - act:\n      object: $main\n      function: getpid\n       do: {return: 4242}\n', '5:8', deeperKey],
		['options:\n  onError: warn\n   log: {level: info}\n', '3:4', deeperKey],
		['a: b: c\n', '1:4', 'nested mappings are not allowed in compact mappings'],
	] as const) {
		const file = write('indent.yaml', text);
		const result = await pdi(['config', 'check', file]);
		t.is(result.code, 2);
		t.is(result.stderr, `pdi: ${file}:${place}: syntax error: ${message}\n`, text);
	}
});

test('lists nested a thousand deep are one syntax error at the 65th, in JSON and YAML, not the parser\'s stack overflow; brackets in strings and comments do not count', async t => {
	const cases: Array<[string, string, string]> = [
		// The 65th bracket, as in YAML: JSON's outer braces are no level (they were, and the 64th was refused).
		['deep.json', `{"options": ${'['.repeat(1000)}${']'.repeat(1000)}}\n`, '1:77: JSON syntax error'],
		['deep.yaml', `options: ${'['.repeat(1000)}${']'.repeat(1000)}\n`, '1:74: syntax error'],
		['deep-mappings.yaml', `# [[[[ a comment\noptions: ${'{a: '.repeat(100)}1${'}'.repeat(100)}\n`, '2:266: syntax error'],
	];
	for (const [name, text, start] of cases) {
		const file = write(name, text);
		const result = await pdi(['config', 'check', file]);
		t.is(result.code, 2);
		// Before: 'syntax error: maximum call stack size exceeded' at column 799.
		t.is(result.stderr, `pdi: ${file}:${start}: lists and mappings nested more than 64 deep\n`, name);
	}

	const quoted = write('deep-quoted.yaml', `rules:\n  - act: {function: open, when: {arg: 0, matches: "${'['.repeat(100)}*"}, do: {return: -1}}\n`);
	const result = await pdi(['config', 'check', quoted]);
	t.notRegex(result.stderr, /nested more than/);
});
