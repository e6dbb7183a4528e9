import {realpathSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {pdi} from './helpers/cli.js';
import {writeFiles} from './helpers/files.js';
import {preloadPath} from './helpers/preload.js';

// A relink on pdi's own core with donttouch_pdi on (the default): `pdi config check` accepted it, `pdi run` refused it
// when the program started, at the rule's start, since the compiled config gave no place for the object. Both now
// refuse it at the object value.
const core = realpathSync(preloadPath());
const rule = (object: string) => `backends: [{name: c, library: count}]\nrules:\n  - relink: {object: ${JSON.stringify(object)}, function: getpid, backend: c, wrapper: count_getpid}\n`;
const directory = writeFiles({
	'name.yaml': rule('pdi-preload.so'),
	'path.yaml': rule(core),
	'off.yaml': `options: {protectPdi: false}\n${rule('pdi-preload.so')}`,
	'glob.yaml': rule('pdi-*.so'),
	'vdso.yaml': rule('linux-vdso.so.1'),
	'self.cfg': 'backend c = count\nrelink pdi-preload.so getpid c count_getpid\n',
}, 'pdi-core-object-');

/** The message with the core's path as its real path: pdi run names the core as LD_PRELOAD does, a link under a path with a blank. */
const withRealCore = (stderr: string) => stderr.replace(/object (.+) is pdi itself/, (_, file: string) => `object ${realpathSync(file)} is pdi itself`);

for (const name of ['name.yaml', 'path.yaml', 'self.cfg']) {
	test(`config check and run refuse alike a relink of pdi's own core named by ${name.startsWith('path') ? 'its path' : name.endsWith('.cfg') ? 'its file name in a text file' : 'its file name'}, at the object`, async t => {
		const file = path.join(directory, name);
		const at = name.endsWith('.cfg') ? '2:8' : '3:22';
		for (const args of [['config', 'check', file], ['run', '-c', file, '--', '/bin/true']]) {
			const result = await pdi(args);
			t.deepEqual([result.code, withRealCore(result.stderr)], [2, `pdi: ${file}:${at}: relink getpid: object ${core} is pdi itself and donttouch_pdi (protectPdi) is on\n`], args[0]);
		}
	});
}

test('the compiled config places a rule\'s object, so that the core\'s errors about it name the object value', async t => {
	const result = await pdi(['config', 'compile', path.join(directory, 'name.yaml')]);
	t.is(result.code, 0);
	t.regex(result.stdout, new RegExp(`#@field 8 ${directory}/name\\.yaml:3:22\\n(?:#@field .*\\n)*relink o1 getpid c count_getpid\\n`));
});

test('an object the core refuses when the program starts (the vDSO) is refused by config check and run alike, at the object value of a YAML rule', async t => {
	const file = path.join(directory, 'vdso.yaml');
	// Before, config check accepted it.
	for (const args of [['config', 'check', file], ['run', '-c', file, '--', '/bin/true']]) {
		const result = await pdi(args);
		t.deepEqual([result.code, result.stderr], [2, `pdi: ${file}:3:22: relink getpid: object linux-vdso.so.1 is the vDSO\n`], args[0]);
	}
});

test('config check accepts a relink of pdi\'s core with protectPdi off, and a glob that names more than the core', async t => {
	for (const name of ['off.yaml', 'glob.yaml']) {
		t.is((await pdi(['config', 'check', path.join(directory, name)])).code, 0, name);
	}
});
