export {PdiError} from './errors.js';
export {paths, pdiPaths, type PdiPaths} from './paths.js';
export {objects, imports, exports} from './elf/process.js';
export type {
	ExportedSymbol,
	ImportSlot,
	LoadedObject,
	ObjectImportSlot,
	ProcessReport,
	SlotKind,
	SlotTarget,
} from './elf/model.js';
export {inspectProgram, type InspectOptions, type InspectResult} from './inspect/inspect.js';
export {formatReport} from './inspect/format.js';
