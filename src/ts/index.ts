// The declarations name Node's types (ChildProcess, Buffer, NodeJS.ProcessEnv): a project whose tsconfig lists no
// ambient types (types: [], TypeScript 6's default) gets them through this reference, from its @types/node.
/// <reference types="node" preserve="true" />
export {PdiError} from './errors.js';
export {PrototypeError, type PrototypePlace} from './trace/prototypes.js';
export {ComuxError} from './comux/comux-error.js';
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
	SlotStub,
	SlotTarget,
} from './elf/model.js';
export {inspectProgram, type InspectOptions, type InspectResult} from './inspect/inspect.js';
export {formatReport} from './inspect/format.js';
// The config's API from the modules that define it, not config/index.ts: the declarations reached from here must
// not name zod's (docs/typescript.md, test/package-types.test.ts).
export {ConfigError} from './config/config-error.js';
export {compileConfig, loadConfig, mergeConfigs, normalizeConfig} from './config/load.js';
export {configJsonSchema} from './config/json-schema.js';
export {defineConfig, type NormalizedConfig, type NormalizedRule, type PdiConfig, type PdiConfigInput} from './config/types.js';
export type {
	ActArgumentEquals, ActArgumentMatches, ActCallConditions, ActDelay, ActDo, ActDoCount, ActDoInput, ActDoReturn, ActDoRun, ActDoubleReturn, ActNoArgument,
	ActNoProbability, ActProbability, ActReturn, ActRule, ActWhen, ActWhenInput, ErrnoName, SignalName,
} from './config/act-types.js';
export {spawn, type PdiChildProcess} from './launch/spawn.js';
export {interpose, type Interposition} from './launch/interpose.js';
export {attach, type AttachOptions, type Attachment} from './attach/attach.js';
export {runProgram, type RunOptions, type RunResult} from './launch/run.js';
export type {ActCount} from './launch/act-report.js';
export type {LaunchExit} from './launch/launch.js';
export {trace, type Trace, type TraceLaunchOptions, type TraceResult} from './trace/trace.js';
export {observe, type Observation} from './trace/observe.js';
export {traceProcess, type ProcessTrace, type ProcessTraceResult, type TraceProcessOptions} from './trace/trace-process.js';
export type {TraceOptions} from './trace/options.js';
export type {AbandonedCallEvent, ArgumentValue, CallEvent, CallEventFields, ReturnedCallEvent} from './trace/events.js';
export type {FunctionSummary, ProcessSummary, TraceSummary} from './trace/summary.js';
