export {ConfigError, formatPlace, type ConfigIssue, type ConfigPlace, type Origin} from './config-error.js';
export {
	configJsonSchema,
	configSchema,
	defineConfig,
	isNormalizedConfig,
	type ConfigOptions,
	type ConfigWarning,
	type NormalizedBackend,
	type NormalizedConfig,
	type NormalizedRule,
	type OptionName,
	type PdiConfig,
	type PdiConfigInput,
	type RuleKind,
} from './schema.js';
export type {ActDo, ActRule, ActWhen} from './act-schema.js';
export {compileConfig, loadConfig, mergeConfigs, normalizeConfig} from './load.js';
export {parseTextDialect, type ReadOptions} from './text-dialect.js';
export {compileNormalizedConfig} from './compile.js';
export {builtConfig} from './built.js';
export {resolveBackendLibrary, verifyConfig, type ResolvedLibrary, type VerifyOptions, type VerifyResult} from './verify.js';
