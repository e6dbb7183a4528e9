import {writeFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {pdi} from './helpers/cli.js';
import {scratchDirectory} from './helpers/files.js';

const scratch = scratchDirectory('pdi-config-duplicate-');

async function check(name: string, text: string) {
	const file = path.join(scratch, name);
	writeFileSync(file, text);
	return {file, result: await pdi(['config', 'check', file])};
}

test('a key given twice in one YAML mapping is an error naming the key and its first place, in the words of JSON\'s', async t => {
	const {file, result} = await check('twice.yaml', 'options:\n  maxThreads: 4\n  maxThreads: 5\n');
	t.is(result.code, 2);
	t.is(result.stderr, `pdi: ${file}:3:3: syntax error: duplicate key "maxThreads" (first at line 2, column 3)\n`);
	const json = await check('twice.json', '{"options": {"maxThreads": 4,\n "maxThreads": 5}}\n');
	t.is(json.result.stderr, `pdi: ${json.file}:2:2: JSON syntax error: duplicate key "maxThreads" (first at line 1, column 14)\n`);
});

test('a key given twice in a YAML flow mapping of a rule is named with its first place', async t => {
	const {file, result} = await check('rule.yaml', [
		'backends: [{name: count, library: count}]',
		'rules:',
		'  - relink: {object: $main, function: malloc, backend: count, wrapper: count_malloc, object: libc.so.6}',
		'',
	].join('\n'));
	t.is(result.code, 2);
	t.is(result.stderr, `pdi: ${file}:3:86: syntax error: duplicate key "object" (first at line 3, column 14)\n`);
});
