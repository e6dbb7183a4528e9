import type {ConfigPlace} from './config-error.js';
import type {ConfigSource, ConfigWarning} from './schema.js';
import {isRecord} from '../is-record.js';
import {ruleKinds} from './rule-kinds.js';

const kinds = new Set<string>(ruleKinds);

/** A rule of the checked form, `{kind, ...fields, origin}`, as written: `{[kind]: fields}`. */
function asWrittenRule(rule: unknown): unknown {
	if (!isRecord(rule) || typeof rule['kind'] !== 'string' || !kinds.has(rule['kind'])) {
		return rule;
	}

	const fields: Record<string, unknown> = {...rule};
	delete fields['kind'];
	delete fields['origin'];
	return {[rule['kind']]: fields};
}

function withoutOrigin(entry: unknown): unknown {
	if (!isRecord(entry)) {
		return entry;
	}

	const rest = {...entry};
	delete rest['origin'];
	return rest;
}

/** The options the checked form says were set (its optionOrigins): the others are its defaults. */
function setOptions(options: unknown, origins: unknown): unknown {
	if (!isRecord(options) || !isRecord(origins)) {
		return options;
	}

	const set = new Set(Object.keys(origins));
	const kept: Record<string, unknown> = {};
	for (const [name, value] of Object.entries(options)) {
		if (set.has(name)) {
			kept[name] = value;
		} else if (isRecord(value)) {
			const fields = Object.entries(value).filter(([field]) => set.has(`${name}.${field}`));
			if (fields.length > 0) {
				kept[name] = Object.fromEntries(fields);
			}
		}
	}

	return kept;
}

function isWarning(value: unknown): value is ConfigWarning {
	return isRecord(value) && typeof value['message'] === 'string';
}

/**
 * What `pdi config check` prints (a normalized config: `"normalized": true`, rules as `{kind,
 * ...}`, origins) read back as a config: the rules in their written spelling, only the options it
 * says were set (the rest are defaults), the origins dropped (places are this file's now), its
 * warnings kept with their first origins.
 * Any other document is returned as it is.
 */
export function readCheckedForm(input: unknown, source: ConfigSource): {input: unknown; source: ConfigSource; warnings: ConfigWarning[]} {
	if (!isRecord(input) || input['normalized'] !== true) {
		return {input, source, warnings: []};
	}

	const {warnings, optionOrigins, ...config} = input;
	delete config['normalized'];
	const rules = config['rules'];
	const backends = config['backends'];
	// A rule's field is rules[i].kind.field to the schema and rules[i].field in this file.
	const asWritten = (path: readonly PropertyKey[]): readonly PropertyKey[] =>
		path[0] === 'rules' && typeof path[1] === 'number' && path.length > 2 ? ['rules', path[1], ...path.slice(3)] : path;
	return {
		input: {
			...config,
			...('options' in config ? {options: setOptions(config['options'], optionOrigins)} : {}),
			...(Array.isArray(rules) ? {rules: rules.map(rule => asWrittenRule(rule))} : {}),
			...(Array.isArray(backends) ? {backends: backends.map(backend => withoutOrigin(backend))} : {}),
		},
		source: {
			...source,
			locate: (path, key): ConfigPlace => source.locate(asWritten(path), key),
			label: path => source.label(asWritten(path)),
			show: (value, path) => source.show(value, path && asWritten(path)),
		},
		warnings: Array.isArray(warnings) ? warnings.filter(warning => isWarning(warning)).map(({message, origin}) => ({message, origin})) : [],
	};
}
