export {PdiError} from './errors.js';
export {paths, pdiPaths, type PdiPaths} from './paths.js';
export {objects, imports, exports} from './elf/process.js';
export type {
	ExportedSymbol,
	ImportSlot,
	LoadedObject,
	ObjectImportSlot,
	ProcessReport,
	RedefinedSymbol,
	SlotKind,
	SlotTarget,
} from './elf/model.js';
export {inspectProgram, type InspectOptions, type InspectResult} from './inspect/inspect.js';
export {formatReport} from './inspect/format.js';
export {
	ConfigError,
	compileConfig,
	configJsonSchema,
	defineConfig,
	loadConfig,
	mergeConfigs,
	normalizeConfig,
	type NormalizedConfig,
	type PdiConfig,
} from './config/index.js';
export {spawn} from './launch/spawn.js';
export {interpose, type Interposition} from './launch/interpose.js';
export {runProgram, type RunOptions} from './launch/run.js';
