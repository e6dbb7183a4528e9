import test from 'ava';
import {pdi} from './helpers/cli.js';
import {refusedAlike, writeIn} from './helpers/config-agree.js';
import {scratchDirectory} from './helpers/files.js';

const scratch = scratchDirectory('pdi-config5-keys-');

const write = (name: string, text: string): string => writeIn(scratch, name, text);

test('an option written with its JSON/YAML name in a text config names its text key, also when the words differ (protectBackends, donttouch_backends)', async t => {
	const cases: Array<[string, string]> = [
		['protectBackends', 'donttouch_backends'],
		['protectPdi', 'donttouch_pdi'],
		['allowUndeclaredWrappers', 'allow_lib_as_be'],
		['backendPath', 'be_path'],
		['log.level', 'log_level'],
		['maxThreads', 'max_threads'],
	];
	for (const [written, meant] of cases) {
		const file = write(`${written}.cfg`, `# options\n  ${written} = 1\n`);
		const expected = `pdi: ${file}:2:3: unknown key '${written}' (did you mean '${meant}'?)\n`;
		t.is(await refusedAlike(t, file), expected);
	}
});

test('an option written with its text key in YAML or JSON names its JSON/YAML name, also when the words differ (donttouch_backends, protectBackends)', async t => {
	const yaml = write('keys.yaml', 'options:\n  donttouch_backends: false\n  donttouch_pdi: false\n  allow_lib_as_be: true\n  be_path: [x]\n  on_error: warn\n');
	const checked = await pdi(['config', 'check', yaml]);
	t.is(checked.code, 2);
	t.is(checked.stderr, [
		`pdi: ${yaml}:2:3: unknown key 'donttouch_backends' in options (did you mean 'protectBackends'?)`,
		`pdi: ${yaml}:3:3: unknown key 'donttouch_pdi' in options (did you mean 'protectPdi'?)`,
		`pdi: ${yaml}:4:3: unknown key 'allow_lib_as_be' in options (did you mean 'allowUndeclaredWrappers'?)`,
		`pdi: ${yaml}:5:3: unknown key 'be_path' in options (did you mean 'backendPath'?)`,
		`pdi: ${yaml}:6:3: unknown key 'on_error' in options (did you mean 'onError'?)`,
		'',
	].join('\n'));
	const json = write('keys.json', '{"options": {"allow_lib_as_be": true}}\n');
	const run = await pdi(['run', '-c', json, '--', '/bin/true']);
	t.is(run.code, 2);
	t.is(run.stderr, `pdi: ${json}:1:14: unknown key 'allow_lib_as_be' in options (did you mean 'allowUndeclaredWrappers'?)\n`);
});
