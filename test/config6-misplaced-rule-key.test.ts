import path from 'node:path';
import test from 'ava';
import {pdi} from './helpers/cli.js';
import {writeFiles} from './helpers/files.js';

// A rule's key indented as far as its kind (YAML), or written beside it (JSON), gave two errors: the key missing
// inside the rule and an unknown key beside it. It is one mistake, said once, at the key.
const directory = writeFiles({
	'relink.yaml': 'rules:\n  - relink:\n      object: $main\n      function: malloc\n      backend: b\n    wrapper: w_malloc\n',
	'act.yaml': 'rules:\n  - act:\n      function: open\n    do: {return: -1, errno: ENOENT}\n',
	'relink.json': '{"rules": [{"relink": {"object": "$main", "function": "malloc", "backend": "b"}, "wrapper": "w"}]}\n',
	'both.yaml': 'rules:\n  - relink:\n      object: $main\n      function: malloc\n      backend: b\n      wrapper: w\n    wrapper: w2\n',
}, 'pdi config6 misplaced ');

test('a rule\'s key written beside its kind is one error at the key, saying where it belongs', async t => {
	const expected = {
		'relink.yaml': '6:5: \'wrapper\' stands beside \'relink\' in rules[0], where it is an unknown key: it belongs inside rules[0].relink, with relink\'s other keys',
		'act.yaml': '4:5: \'do\' stands beside \'act\' in rules[0], where it is an unknown key: it belongs inside rules[0].act, with act\'s other keys',
		'relink.json': '1:82: \'wrapper\' stands beside \'relink\' in rules[0], where it is an unknown key: it belongs inside rules[0].relink, with relink\'s other keys',
	};
	for (const [name, message] of Object.entries(expected)) {
		const file = path.join(directory, name);
		const result = await pdi(['config', 'check', file]);
		t.deepEqual([result.code, result.stderr], [2, `pdi: ${file}:${message}\n`], name);
	}
});

test('a key beside the kind that the kind already has is an unknown key, as any other', async t => {
	const file = path.join(directory, 'both.yaml');
	const result = await pdi(['config', 'check', file]);
	t.deepEqual([result.code, result.stderr], [2, `pdi: ${file}:7:5: unknown key 'wrapper' in rules[0]\n`]);
});
