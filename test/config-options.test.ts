import {readFileSync} from 'node:fs';
import test from 'ava';
import {configHeaderPath, renderConfigHeader} from '../scripts/config-header.js';
import {ConfigError, configJsonSchema, mergeConfigs, normalizeConfig, parseTextDialect} from '../src/ts/config/index.js';
import {optionLimits, optionMessages, optionNames, optionTable, type OptionName} from '../src/ts/config/options.js';
import {defaultOptions} from '../src/ts/config/schema.js';
import type {NativeResult} from '../src/ts/config/native-model.js';
import {nativeBinding} from '../src/ts/native/binding.js';

function reason(run: () => unknown): string {
	try {
		run();
	} catch (error) {
		if (error instanceof ConfigError) {
			return error.reason;
		}

		throw error;
	}

	throw new Error('no ConfigError was thrown');
}

function jsonValue(name: OptionName, value: unknown): Record<string, unknown> {
	return name.startsWith('log.') ? {log: {[name.slice(4)]: value}} : {[name]: value};
}

test('the committed options.generated.h is what scripts/config-header.ts makes of the option table', t => {
	t.is(readFileSync(configHeaderPath, 'utf8'), renderConfigHeader(), 'run `npm run generate` and rebuild');
});

test('the schema has exactly the options of the table, with the table\'s defaults', t => {
	type Properties = Record<string, {default?: unknown; properties?: Properties}>;
	const options = (configJsonSchema() as {properties: {options: {properties: Properties}}}).properties.options.properties;
	t.deepEqual(Object.keys(options).sort(), [...new Set(optionNames.map(name => name.split('.')[0] ?? name))].sort());
	const defaults = defaultOptions();
	for (const name of optionNames) {
		const [outer = name, inner] = name.split('.');
		t.deepEqual(inner === undefined ? options[outer]?.default : options[outer]?.properties?.[inner]?.default, optionTable[name].default, name);
		t.deepEqual(inner === undefined ? defaults[outer as 'maxThreads'] : defaults.log[inner as 'level'], optionTable[name].default, name);
	}
});

test('the native reader starts from the table\'s defaults', t => {
	const result = JSON.parse(nativeBinding().readConfig('/etc/empty.cfg', '', '/etc')) as NativeResult;
	if (!('config' in result)) {
		t.fail(JSON.stringify(result));
		return;
	}

	t.deepEqual(result.config.options.map(option => option.name), optionNames);
	for (const option of result.config.options) {
		t.false(option.set, option.name);
		t.deepEqual(option.value, optionTable[option.name].default, option.name);
	}
});

test('JSON and the text dialect accept each integer option\'s bounds and reject one past them, in the same words', t => {
	for (const name of optionNames) {
		const spec = optionTable[name];
		if (spec.kind !== 'integer') {
			continue;
		}

		const extra = name === 'numThreads' ? `max_threads = ${spec.max}\n` : '';
		const extraJson = name === 'numThreads' ? {maxThreads: spec.max} : {};
		for (const value of [spec.min, spec.max]) {
			t.is(parseTextDialect(`${extra}${spec.key} = ${value}\n`).options[name as 'maxThreads'], value, `${spec.key} = ${value}`);
			t.is(normalizeConfig({options: {...extraJson, ...jsonValue(name, value)}}).options[name as 'maxThreads'], value);
		}

		for (const [value, message] of [[spec.min - 1, optionMessages.integerMin(spec.min)], [spec.max + 1, optionMessages.integerMax(spec.max)]] as const) {
			t.is(reason(() => parseTextDialect(`${spec.key} = ${value}\n`)), `${spec.key}: ${message}, got '${value}'`);
			t.is(reason(() => normalizeConfig({options: jsonValue(name, value)})), `options.${name}: ${message}, got ${value}`);
		}
	}
});

test('JSON and the text dialect reject a wrong boolean or choice in the same words', t => {
	for (const name of optionNames) {
		const spec = optionTable[name];
		if (spec.kind !== 'boolean' && spec.kind !== 'choice') {
			continue;
		}

		const message = spec.kind === 'boolean' ? optionMessages.boolean : optionMessages.choice(spec.choices);
		t.is(reason(() => parseTextDialect(`${spec.key} = bogus\n`)), `${spec.key}: ${message}, got 'bogus'`);
		t.is(reason(() => normalizeConfig({options: jsonValue(name, 'bogus')})), `options.${name}: ${message}, got "bogus"`);
	}
});

test('an option over the option that limits it is reported in the same words in JSON, the text dialect and merged configs', t => {
	for (const {option, atMost} of optionLimits) {
		const [spec, limit] = [optionTable[option], optionTable[atMost]];
		t.is(reason(() => parseTextDialect(`${limit.key} = 4\n${spec.key} = 5\n`)), `${spec.key}: ${optionMessages.integerAtMost(limit.key, 4)}, got '5'`);
		t.is(reason(() => normalizeConfig({options: {...jsonValue(atMost, 4), ...jsonValue(option, 5)}})), `options.${option}: ${optionMessages.integerAtMost(atMost, 4)}, got 5`);
		const merged = [normalizeConfig({options: jsonValue(option, 5)}), normalizeConfig({options: jsonValue(atMost, 4)})];
		t.is(reason(() => mergeConfigs(merged)), `options.${option}: ${optionMessages.integerAtMost(atMost, 4)}, got 5`);
	}
});
