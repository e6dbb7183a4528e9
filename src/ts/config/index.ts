export {ConfigError, formatPlace, type ConfigIssue, type ConfigPlace, type Origin} from './config-error.js';
export {configSchema, isNormalizedConfig, type RuleKind} from './schema.js';
export {
	defineConfig,
	type ConfigOptions,
	type ConfigWarning,
	type NormalizedBackend,
	type NormalizedConfig,
	type NormalizedRule,
	type PdiConfig,
	type PdiConfigInput,
} from './types.js';
export type {OptionName} from './options.js';
export {configJsonSchema} from './json-schema.js';
export type {ActDo, ActRule, ActWhen} from './act-types.js';
export {compileConfig, loadConfig, mergeConfigs, normalizeConfig} from './load.js';
export {parseTextDialect, type ReadOptions} from './text-dialect.js';
export {compileNormalizedConfig} from './compile.js';
export {builtConfig} from './built.js';
export {resolveBackendLibrary, verifyConfig, type ResolvedLibrary, type VerifyOptions, type VerifyResult} from './verify.js';
