import path from 'node:path';
import test from 'ava';
import {pdi} from './helpers/cli.js';
import {writeFiles} from './helpers/files.js';

// `redefinition`, pDI-Tools' word, got `(did you mean 'redefine'?)` in a text file but no suggestion in YAML or JSON:
// an edit distance alone does not reach it. Each dialect now suggests by the text dialect's rule.
const suggestion = (stderr: string): string | undefined => /\(did you mean '(\w+)'\?\)/.exec(stderr)?.[1];

test('a rule kind written as pDI-Tools wrote it (redefinition) gets the suggestion in YAML and JSON that the text dialect gives', async t => {
	const directory = writeFiles({
		'r.yaml': 'backends: [{name: g, library: count}]\nrules:\n  - redefinition: {function: getpid, backend: g, wrapper: count_getpid}\n',
		'r.json': '{"rules": [{"redefinition": {"function": "getpid", "backend": "g", "wrapper": "count_getpid"}}]}\n',
	}, 'pdi-rule-kind-');
	const yaml = await pdi(['config', 'check', path.join(directory, 'r.yaml')]);
	t.deepEqual([yaml.code, yaml.stderr], [2, `pdi: ${directory}/r.yaml:3:5: rules[0]: unknown rule kind 'redefinition' (did you mean 'redefine'?); a rule is one of relink, redefine, callback, act\n`]);
	const json = await pdi(['config', 'check', path.join(directory, 'r.json')]);
	t.deepEqual([json.code, json.stderr], [2, `pdi: ${directory}/r.json:1:13: rules[0]: unknown rule kind 'redefinition' (did you mean 'redefine'?); a rule is one of relink, redefine, callback, act\n`]);
});

test('every dialect suggests the same rule kind for the same unknown word', async t => {
	const words = ['redefinition', 'relinking', 'callbacks', 'callbac', 'relnk', 'redefin', 'actt', 'zzz'];
	const files: Record<string, string> = {};
	for (const word of words) {
		files[`${word}.cfg`] = `${word} * f b w\n`;
		files[`${word}.yaml`] = `rules:\n  - ${word}: {function: f, backend: b, wrapper: w}\n`;
	}

	const directory = writeFiles(files, 'pdi-rule-kind-');
	for (const word of words) {
		const text = await pdi(['config', 'check', path.join(directory, `${word}.cfg`)]);
		const yaml = await pdi(['config', 'check', path.join(directory, `${word}.yaml`)]);
		t.is(text.code, 2, word);
		t.is(yaml.code, 2, word);
		t.is(suggestion(yaml.stderr), suggestion(text.stderr), word);
	}

	t.is(suggestion((await pdi(['config', 'check', path.join(directory, 'relinking.yaml')])).stderr), 'relink');
});
