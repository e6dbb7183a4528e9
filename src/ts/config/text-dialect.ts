import path from 'node:path';
import type {ConfigPlace} from './config-error.js';
import {originOf, place, readNativeModel, type NativeModel, type NativeRule} from './native-model.js';
import {optionTable, setOptionValue, type OptionName} from './options.js';
import {checkConfig} from './schema.js';
import type {NormalizedConfig} from './types.js';

/** The JSON spelling of a rule of the native model. */
function jsonRule(rule: NativeRule): Record<string, unknown> {
	switch (rule.kind) {
		case 'callback': {
			return {callback: {object: rule.object, backend: rule.backend ?? '', ...(rule.wrapper === null ? {} : {handler: rule.wrapper})}};
		}

		case 'act': {
			const when = rule.when ?? {};
			return {act: {object: rule.object, function: rule.function ?? '', ...(Object.keys(when).length === 0 ? {} : {when}), do: rule.do ?? {}}};
		}

		default: {
			return {[rule.kind]: {object: rule.object, function: rule.function ?? '', backend: rule.backend ?? '', wrapper: rule.wrapper ?? ''}};
		}
	}
}

/** The JSON spelling of the native model and the place of each of its values, checked by the schema. */
function check(model: NativeModel, file: string, directory: string, {merging, deferred}: {merging: boolean; deferred: boolean}): NormalizedConfig {
	const places = new Map<string, ConfigPlace>();
	const options: Record<string, unknown> = {};
	for (const option of model.options.filter(option => option.set)) {
		setOptionValue(options, option.name, option.value);
		places.set(`options.${option.name}`, place(option.origin));
	}

	const backends = model.backends.map((backend, index) => {
		places.set(`backends.${index}`, place(backend.origin));
		places.set(`backends.${index}.library`, place(backend.libraryOrigin));
		return {name: backend.name, library: backend.library};
	});
	const rules = model.rules.map((rule, index) => {
		places.set(`rules.${index}`, place(rule.origin));
		for (const [field, origin] of Object.entries(rule.fields)) {
			if (rule.kind !== 'act' || field === 'object' || field === 'function') {
				places.set(`rules.${index}.${rule.kind}.${rule.kind === 'callback' && field === 'wrapper' ? 'handler' : field}`, place(origin));
			}
		}

		return jsonRule(rule);
	});
	const config = checkConfig({options, backends, rules}, {
		file,
		directory,
		locate(nodePath) {
			for (let length = nodePath.length; length > 0; length--) {
				const found = places.get(nodePath.slice(0, length).join('.'));
				if (found) {
					return found;
				}
			}

			return {file};
		},
		label: nodePath => nodePath[0] === 'options'
			? optionTable[nodePath.slice(1).join('.') as OptionName]?.key ?? String(nodePath.at(-1))
			: String(nodePath.at(-1)),
		show: value => `'${String(value)}'`,
	}, {merging, deferred});
	config.warnings = model.warnings.map(warning => ({message: warning.message, origin: originOf(warning.origin)}));
	return config;
}

/** How a config file is read. */
export type ReadOptions = {
	/**
	 * The config is one of several to merge (`mergeConfigs()`, `pdi run -c a.yaml -c b.cfg`): a rule
	 * may use a backend that another of them declares, so a backend no rule's own file declares is not an
	 * error here; verifyConfig() reports it, at the rule's backend field, after the merge. (JSON and
	 * YAML never check it before.) Likewise a callback's own handler may rely on `cbAllowHandler` set by
	 * another file: mergeConfigs() checks it.
	 */
	merging?: boolean;
	/**
	 * Leaves the checks of the config as a whole, an option over the option that limits it (`numThreads` over
	 * `maxThreads`) and a callback's own handler without `cbAllowHandler`, to verifyConfig(), which reports them
	 * with the backend and wrapper checks, every problem in one run: `pdi config check` and `pdi run` read so.
	 * mergeConfigs() checks them too.
	 */
	deferChecks?: boolean;
};

/**
 * Parses a config in the native text dialect (docs/config.md) with the core's own reader: runs
 * the `global` section of `file` with its `Include`s, then the `runtime` and `config` command
 * files, and checks the result against the same schema as JSON and YAML. `file` names the text in
 * messages and is where relative paths start (`<config>` in the current directory when omitted);
 * included and command files are read from disk. `Warning` lines end up in `warnings`; every
 * error is a {@link ConfigError} at the file, line and column of the offending token (or at the
 * place a `#@origin FILE:LINE:COL` comment gives for the line after it). `directory`, where relative paths start
 * instead of the directory of `file`, is for a file that has none (a pipe, {@link configDirectory}).
 */
export function parseTextDialect(text: string, file?: string, options: ReadOptions = {}, directory?: string): NormalizedConfig {
	const name = file === undefined ? '<config>' : path.resolve(file);
	directory ??= file === undefined ? process.cwd() : path.dirname(name);
	const merging = options.merging === true;
	const deferred = options.deferChecks === true;
	let model: NativeModel;
	try {
		model = readNativeModel(text, name, directory, merging, deferred);
	} catch (error) {
		// A statement (or a rule's backend) is wrong: read again with every check, so that its errors come with the
		// limits and handlers, as they would without deferChecks.
		if (!deferred) {
			throw error;
		}

		readNativeModel(text, name, directory, merging);
		throw error;
	}

	return check(model, name, directory, {merging, deferred});
}
