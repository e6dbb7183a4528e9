import path from 'node:path';
import test from 'ava';
import {pdi} from './helpers/cli.js';
import {writeFiles} from './helpers/files.js';
import {runPreloaded} from './helpers/preload.js';

// Several errors of one file came in the order the checks found them (each option's range, then the limits between
// options): 1:54, 1:71, then 1:38. docs/config.md promises the first first.
const directory = writeFiles({
	'lim.yaml': 'options: {maxThreads: 4, numThreads: 8, cbStackSize: 100, cbMaxStubs: 0}\n',
	'lim.json': '{"options": {"cbMaxStubs": 0,\n  "maxThreads": 4, "numThreads": 8,\n  "cbStackSize": 100}}\n',
	'lim.cfg': 'max_threads = 4\nnum_threads = 8\ncb_stack_size = 100\ncb_max_stubs = 0\n',
	'included.cfg': 'Include ":defaults"\nInclude ":defaults"\n[defaults\nmax_threads = x\n',
	'many.cfg': Array.from({length: 25}, (_, index) => `bad${index + 1} = 1\n`).join(''),
	'limit-last.cfg': 'max_threads = 4\nnum_threads = 8\nbogus = 1\n',
	'typo-first.cfg': 'max_thread = 4\nbogus = 1\n',
	'json.conf': '{"rules": [\n{"relink": 1},\n{"act": 2}]}\n',
	'rules.yaml': 'rules:\n  - relink: {object: a, function: f, backend: b, wrapper: w, extra: 1}\n  - redefine: {function: 5, backend: b, wrapper: w}\noptions: {cbStackSize: 100}\n',
}, 'pdi-errors-order-');

const lines = (stderr: string): string[] => stderr.trimEnd().split('\n').map(line => line.replace(/^pdi: [^:]+:(\d+:\d+): .*$/, '$1'));

test('the errors of one YAML file are printed in file order, by pdi config check and pdi run alike', async t => {
	const file = path.join(directory, 'lim.yaml');
	for (const args of [['config', 'check', file], ['run', '-c', file, '--', '/bin/true']]) {
		const result = await pdi(args);
		t.is(result.code, 2, args[0]);
		t.is(result.stderr, [
			`pdi: ${file}:1:38: options.numThreads: expected an integer ≤ maxThreads (4), got 8`,
			`pdi: ${file}:1:54: options.cbStackSize: expected an integer ≥ 256, got 100`,
			`pdi: ${file}:1:71: options.cbMaxStubs: expected an integer ≥ 1, got 0`,
			'',
		].join('\n'), args[0]);
	}
});

test('the errors of a JSON file are printed in file order over several lines', async t => {
	const result = await pdi(['config', 'check', path.join(directory, 'lim.json')]);
	t.is(result.code, 2);
	t.deepEqual(lines(result.stderr), ['1:28', '2:34', '3:18']);
});

test('errors of rules and options are printed in file order, the options last when they come after the rules', async t => {
	const result = await pdi(['config', 'check', path.join(directory, 'rules.yaml')]);
	t.is(result.code, 2);
	t.deepEqual(lines(result.stderr), ['2:62', '3:26', '4:24']);
});

test('a text-dialect file reports each wrong line and the limits between options, in file order', async t => {
	const file = path.join(directory, 'lim.cfg');
	const result = await pdi(['config', 'check', file]);
	t.deepEqual([result.code, result.stderr], [2, [
		`pdi: ${file}:2:15: num_threads: expected an integer ≤ max_threads (4), got '8'`,
		`pdi: ${file}:3:17: cb_stack_size: expected an integer ≥ 256, got '100'`,
		`pdi: ${file}:4:16: cb_max_stubs: expected an integer ≥ 1, got '0'`,
		'',
	].join('\n')]);
});

test('an error met once per Include of its file is said once, and the lines under a malformed header are skipped', async t => {
	const file = path.join(directory, 'included.cfg');
	const result = await pdi(['config', 'check', file]);
	t.deepEqual([result.code, lines(result.stderr)], [2, ['1:9', '2:9', '3:1']]);
});

test('a text-dialect file stops at 20 errors and says so', async t => {
	const file = path.join(directory, 'many.cfg');
	const result = await pdi(['config', 'check', file]);
	const printed = result.stderr.trimEnd().split('\n');
	t.deepEqual([result.code, printed.length, printed.at(-2), printed.at(-1)], [2, 21, `pdi: ${file}:20:1: unknown key 'bad20'`, 'pdi: 20 errors: the reading stopped there']);
});

test('the core, given a text-dialect file by hand, names the first error in file order and how many more there are', async t => {
	const file = path.join(directory, 'limit-last.cfg');
	const many = path.join(directory, 'many.cfg');
	const limit = await runPreloaded('/bin/echo', ['hi'], file);
	t.deepEqual([limit.code, limit.stderr], [2, `pdi: ${file}:2:15: num_threads: expected an integer ≤ max_threads (4), got '8' (and 1 more error: \`pdi config check ${file}\` lists every one)\n`]);
	const cut = await runPreloaded('/bin/echo', ['hi'], many);
	t.deepEqual([cut.code, cut.stderr], [2, `pdi: ${many}:1:1: unknown key 'bad1' (and at least 19 more errors: \`pdi config check ${many}\` lists the first 20)\n`]);
});

test('a wrong first line stops the reading only when it is JSON or YAML, not a typo of the text dialect', async t => {
	const typo = await pdi(['config', 'check', path.join(directory, 'typo-first.cfg')]);
	t.deepEqual([typo.code, lines(typo.stderr)], [2, ['1:1', '2:1']]);
	const json = await pdi(['config', 'check', path.join(directory, 'json.conf')]);
	t.deepEqual([json.code, lines(json.stderr)], [2, ['1:1']]);
});
