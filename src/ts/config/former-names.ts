import {ConfigError, originOf, type ConfigPlace} from './config-error.js';
import {formerOptionNames, optionMessages} from './options.js';
import type {ConfigSource, ConfigWarning} from './schema.js';
import {isRecord} from '../is-record.js';

/**
 * A config's options given by their former names (`donttouchBackends`) renamed to the current
 * ones (`protectBackends`), a source that still places and labels them as written, and one
 * deprecation warning per renamed option, at its key. Both names of one option are an error.
 */
export function renameFormerOptions(input: unknown, source: ConfigSource): {input: unknown; source: ConfigSource; warnings: ConfigWarning[]} {
	const options = isRecord(input) ? input['options'] : undefined;
	if (!isRecord(input) || !isRecord(options) || !Object.keys(options).some(key => formerOptionNames.has(key))) {
		return {input, source, warnings: []};
	}

	const written = new Map<string, string>();
	const entries = Object.entries(options).map(([key, value]) => {
		const name = formerOptionNames.get(key);
		if (name === undefined) {
			return [key, value] as const;
		}

		if (Object.hasOwn(options, name)) {
			throw new ConfigError(`'${key}' is the deprecated name of '${name}', which is also given`, source.locate(['options', key], true));
		}

		written.set(name, key);
		return [name, value] as const;
	});
	const asWritten = (path: readonly PropertyKey[]): readonly PropertyKey[] => {
		const former = path[0] === 'options' && typeof path[1] === 'string' ? written.get(path[1]) : undefined;
		return former === undefined ? path : ['options', former, ...path.slice(2)];
	};

	return {
		input: {...input, options: Object.fromEntries(entries)},
		source: {
			...source,
			locate: (path, key): ConfigPlace => source.locate(asWritten(path), key),
			label: path => source.label(asWritten(path)),
			show: (value, path) => source.show(value, path && asWritten(path)),
		},
		warnings: [...written].map(([name, former]) => ({
			message: optionMessages.deprecated(former, name),
			origin: originOf(source.locate(['options', former], true)),
		})),
	};
}
