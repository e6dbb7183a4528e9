import test from 'ava';
import path from 'node:path';
import {compileConfig, ConfigError, interpose, loadConfig, mergeConfigs, normalizeConfig, runProgram, spawn, type PdiConfig} from '../src/ts/index.js';
import {writeFiles} from './helpers/files.js';
import {verifyConfig} from '../src/ts/config/index.js';
import {pdiPaths} from '../src/ts/paths.js';

const count = {name: 'c', library: 'count'};
const relink = (backend: string, wrapper: string) => ({relink: {object: '$main', function: 'malloc', backend, wrapper}});

/** The message of the ConfigError that `run` throws. */
function message(run: () => unknown): string {
	const error = (() => {
		try {
			run();
		} catch (error) {
			return error;
		}

		return undefined;
	})();
	if (!(error instanceof ConfigError)) {
		throw new Error(`expected a ConfigError, got ${String(error)}`);
	}

	return error.message;
}

const cases: Array<[string, PdiConfig, string]> = [
	['an undeclared backend', {backends: [count], rules: [{act: {function: 'open', do: {count: true}}}, relink('zz', 'w')]}, 'rules[1]: unknown backend \'zz\''],
	['a wrapper the backend does not define', {backends: [count], rules: [relink('c', 'nope')]}, 'rules[0]: relink malloc: wrapper \'nope\' is not defined by c ('],
	['a backend library that does not exist', {backends: [count, {name: 'g', library: '/nonexistent/pdi-g.so'}]}, 'backends[1]: backend \'g\': library \'/nonexistent/pdi-g.so\' not found'],
	['two rules in conflict', {backends: [count], rules: [relink('c', 'count_malloc'), {relink: {object: '*', function: 'malloc', backend: 'c', wrapper: 'count_free'}}]}, 'rules[1]: relink malloc: conflicts with the relink at rules[0], '],
];

for (const [what, config, expected] of cases) {
	test(`a config given in memory with ${what} is refused by interpose(), spawn() and verifyConfig() naming the entry`, t => {
		const paths = pdiPaths();
		const verified = message(() => verifyConfig(normalizeConfig(config), {backendDirectory: paths.nativeDirectory, bundled: paths.backends}));
		t.true(verified.startsWith(expected), verified);
		t.is(message(() => interpose(config)), verified);
		t.is(message(() => spawn(config, '/bin/true')), verified);
	});
}

test('with onError warn, the warnings about a config given in memory name the entry too', t => {
	const paths = pdiPaths();
	const {warnings} = verifyConfig(normalizeConfig({options: {onError: 'warn'}, backends: [count], rules: [relink('c', 'nope')]}), {backendDirectory: paths.nativeDirectory, bundled: paths.backends});
	t.is(warnings.length, 1);
	t.regex(warnings[0]!.message, /^rules\[0\]: relink malloc: wrapper 'nope' is not defined by c \(.*\) \(rule skipped\)$/);
});

test('an in-memory config merged after config files names its entries by their index in the object given, in errors and in act counts', async t => {
	const directory = writeFiles({'file.yaml': 'rules:\n  - act: {object: $main, function: getenv, do: {count: true}}\n  - act: {object: $main, function: setlocale, do: {count: true}}\n'}, 'pdi-in-memory-');
	const files = [path.join(directory, 'file.yaml')];
	const bad: PdiConfig = {backends: [count], rules: [relink('zz', 'w')]};
	const error = await runProgram('/bin/true', [], {configs: files, config: bad, stdio: 'ignore'}).then(() => undefined, (error: unknown) => error);
	t.true(error instanceof ConfigError);
	t.is((error as ConfigError).message, 'rules[0]: unknown backend \'zz\'');
	const {status, act} = await runProgram('/bin/ls', ['-d', '/'], {configs: files, config: {rules: [{act: {function: 'isatty', do: {count: true}}}]}, stdio: 'ignore'});
	t.is(status, 0);
	t.deepEqual(act.map(count => count.rule), [`${files[0]}:2`, `${files[0]}:3`, 'rules[0]']);
});

test('a file name, null or a number where a config object or file name belongs is a ConfigError saying what was expected, never a raw TypeError', async t => {
	const fileName = 'expected a config object, got "/etc/pdi.yaml": a config file is read with loadConfig(file) first';
	t.throws(() => spawn('/etc/pdi.yaml' as never, '/bin/true', []), {instanceOf: ConfigError, message: fileName});
	t.throws(() => interpose('/etc/pdi.yaml' as never), {instanceOf: ConfigError, message: fileName});
	t.throws(() => compileConfig('/etc/pdi.yaml' as never), {instanceOf: ConfigError, message: fileName});
	// null and undefined are a lost argument everywhere (normalizeConfig() and compileConfig() took them for an empty config).
	t.throws(() => compileConfig(null as never), {instanceOf: ConfigError, message: 'config: expected a config object, got null'});
	t.throws(() => normalizeConfig(undefined as never), {instanceOf: ConfigError, message: 'config: expected a config object, got undefined'});
	t.throws(() => normalizeConfig(null as never), {instanceOf: ConfigError, message: 'config: expected a config object, got null'});
	t.throws(() => spawn(undefined as never, '/bin/true', []), {instanceOf: ConfigError, message: 'config: expected a config object, got undefined'});
	await t.throwsAsync(loadConfig(5 as never), {instanceOf: ConfigError, message: 'loadConfig(): expected the name of a config file, got 5'});
	t.throws(() => mergeConfigs(null as never), {instanceOf: ConfigError, message: 'mergeConfigs(): expected an array of configs from loadConfig() or normalizeConfig(), got null'});
	// The element at fault is named (every bad input had one message).
	t.throws(() => mergeConfigs([normalizeConfig({}), {rules: []}] as never), {instanceOf: ConfigError, message: 'mergeConfigs(): configs[1] is not a config from loadConfig() or normalizeConfig() (got {"rules":[]}): normalize it with normalizeConfig() first'});
	// runProgram()'s lost config is a ConfigError too, as spawn()'s (it was a PdiError).
	await t.throwsAsync(runProgram('/bin/true', [], {config: null as never}), {instanceOf: ConfigError, message: 'config: expected a config object, got null'});
});
