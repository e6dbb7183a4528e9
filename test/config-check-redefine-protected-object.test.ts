import {realpathSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {pdi, refusedByCheckAndRun} from './helpers/cli.js';
import {refusedAlike} from './helpers/config-agree.js';
import {writeFiles} from './helpers/files.js';
import {preloadPath} from './helpers/preload.js';

// A redefine's object names the object whose definition it replaces, and the core never takes one of the vDSO or of
// pdi's own core. Such a rule was accepted by `pdi config check` and `pdi run`, which then warned that no object
// matching it defined the function; both now refuse it at the object value, as they refuse a relink naming it.
const core = realpathSync(preloadPath());
const rule = (object: string, name: string) => `backends: [{name: c, library: count}]\nrules:\n  - redefine: {object: ${object}, function: ${name}, backend: c, wrapper: count_getpid}\n`;
const directory = writeFiles({
	'vdso.yaml': rule('linux-vdso.so.1', '__vdso_clock_gettime'),
	'vdso.cfg': 'backend c = count\nredefine linux-vdso.so.1 __vdso_clock_gettime c count_getpid\n',
	'core.yaml': rule('pdi-preload.so', 'pdi_original'),
	'off.yaml': `options: {protectPdi: false}\n${rule('pdi-preload.so', 'pdi_original')}`,
}, 'pdi-redefine-protected-');

/** The message with the core's path as its real path: pdi run names the core as LD_PRELOAD does, a link under a path with a blank. */
const withRealCore = (stderr: string) => stderr.replace(/object (.+) is pdi itself/, (_, file: string) => `object ${realpathSync(file)} is pdi itself`);

test('config check and run refuse a redefine whose object is the vDSO, at the object value', async t => {
	const file = path.join(directory, 'vdso.yaml');
	await refusedByCheckAndRun(t, file, `pdi: ${file}:3:24: redefine __vdso_clock_gettime: object linux-vdso.so.1 is the vDSO\n`);
});

test('the core refuses a redefine of the vDSO in a config given by hand, as config check does', async t => {
	const file = path.join(directory, 'vdso.cfg');
	t.is(await refusedAlike(t, file), `pdi: ${file}:2:10: redefine __vdso_clock_gettime: object linux-vdso.so.1 is the vDSO\n`);
});

test('config check and run refuse a redefine whose object is pdi\'s own core, saying why with protectPdi on and off', async t => {
	for (const [name, why] of [['core.yaml', 'is pdi itself and donttouch_pdi (protectPdi) is on'], ['off.yaml', 'is pdi itself, whose definitions no redefine replaces']] as const) {
		const file = path.join(directory, name);
		const at = name === 'off.yaml' ? '4:24' : '3:24';
		for (const args of [['config', 'check', file], ['run', '-c', file, '--', '/bin/true']]) {
			const result = await pdi(args);
			t.deepEqual([result.code, withRealCore(result.stderr)], [2, `pdi: ${file}:${at}: redefine pdi_original: object ${core} ${why}\n`], `${name} ${args[0]}`);
		}
	}
});
