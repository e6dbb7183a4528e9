import path from 'node:path';
import test from 'ava';
import {writeFiles, configError} from './helpers/files.js';
import {ConfigError, loadConfig, mergeConfigs, normalizeConfig, type PdiConfig} from '../src/ts/config/index.js';
import {pdi} from './helpers/cli.js';

const formerYaml = 'options:\n  maxThreads: 8\n  donttouchBackends: false\n  donttouchPdi: false\n  allowLibAsBe: true\n';

test('the 0.1 option names are read as the current ones, with a deprecation warning at each key', async t => {
	const directory = writeFiles({'former.yaml': formerYaml, 'former.json': '{\n  "options": {"allowLibAsBe": true}\n}\n'});
	const yaml = path.join(directory, 'former.yaml');
	const config = await loadConfig(yaml);
	t.false(config.options.protectBackends);
	t.false(config.options.protectPdi);
	t.true(config.options.allowUndeclaredWrappers);
	t.deepEqual(config.warnings, [
		{message: '\'donttouchBackends\' is deprecated, use \'protectBackends\'', origin: {file: yaml, line: 3, column: 3}},
		{message: '\'donttouchPdi\' is deprecated, use \'protectPdi\'', origin: {file: yaml, line: 4, column: 3}},
		{message: '\'allowLibAsBe\' is deprecated, use \'allowUndeclaredWrappers\'', origin: {file: yaml, line: 5, column: 3}},
	]);
	t.deepEqual(config.optionOrigins.protectPdi, {file: yaml, line: 4, column: 17});
	const json = path.join(directory, 'former.json');
	t.deepEqual((await loadConfig(json)).warnings, [
		{message: '\'allowLibAsBe\' is deprecated, use \'allowUndeclaredWrappers\'', origin: {file: json, line: 2, column: 15}},
	]);
});

test('an in-memory config may use a 0.1 name too; merged, it overrides like the current name', t => {
	const former = normalizeConfig({options: {donttouchPdi: false}} as unknown as PdiConfig);
	t.false(former.options.protectPdi);
	t.deepEqual(former.warnings, [{message: '\'donttouchPdi\' is deprecated, use \'protectPdi\'', origin: undefined}]);
	t.false(mergeConfigs([normalizeConfig({options: {protectPdi: true}}), former]).options.protectPdi);
});

test('a wrong value under a 0.1 name is reported under that name, and both names of one option are an error', async t => {
	const directory = writeFiles({
		'wrong.yaml': 'options:\n  donttouchPdi: maybe\n',
		'both.yaml': 'options:\n  protectPdi: true\n  donttouchPdi: false\n',
	});
	const wrong = await t.throwsAsync(loadConfig(path.join(directory, 'wrong.yaml')), {instanceOf: ConfigError});
	t.is(wrong.message, `${path.join(directory, 'wrong.yaml')}:2:17: options.donttouchPdi: expected a boolean, got "maybe"`);
	const both = await t.throwsAsync(loadConfig(path.join(directory, 'both.yaml')), {instanceOf: ConfigError});
	t.is(both.message, `${path.join(directory, 'both.yaml')}:3:3: 'donttouchPdi' is the deprecated name of 'protectPdi', which is also given`);
	t.is(configError(() => normalizeConfig({options: {allowLibAsBe: true, allowUndeclaredWrappers: true}} as unknown as PdiConfig)).message,
		'\'allowLibAsBe\' is the deprecated name of \'allowUndeclaredWrappers\', which is also given');
});

test('pdi config check and pdi run print each deprecation warning once', async t => {
	const file = path.join(writeFiles({'former.yaml': formerYaml}), 'former.yaml');
	const expected = [
		`pdi: warning: ${file}:3:3: 'donttouchBackends' is deprecated, use 'protectBackends'`,
		`pdi: warning: ${file}:4:3: 'donttouchPdi' is deprecated, use 'protectPdi'`,
		`pdi: warning: ${file}:5:3: 'allowLibAsBe' is deprecated, use 'allowUndeclaredWrappers'`,
	].join('\n') + '\n';
	const check = await pdi(['config', 'check', file]);
	t.is(check.code, 0, check.stderr);
	t.is(check.stderr, expected);
	const run = await pdi(['run', '-c', file, '-c', file, '--', '/bin/true']);
	t.is(run.code, 0, run.stderr);
	t.is(run.stderr, expected);
});
