// The declarations name Node's types (ChildProcess, Buffer, NodeJS.ProcessEnv): a project whose tsconfig lists no
// ambient types (types: [], TypeScript 6's default) gets them through this reference, from its @types/node.
/// <reference types="node" preserve="true" />
export {ComuxError} from './comux-error.js';
export {
	AWAIT_RESPONSE,
	COMUX_CHUNK_HEADER_SIZE,
	COMUX_HEADER_SIZE,
	COMUX_KNOWN_FLAGS,
	COMUX_MAGIC,
	COMUX_MAX_CHUNK_LEN,
	COMUX_MAX_CHUNKS,
	COMUX_MAX_CONNS,
	COMUX_MAX_INPUT,
	COMUX_VERSION,
	NO_SHUTDOWN,
	checkComuxHead,
	parseComux,
	scheduleOrder,
	serializeComux,
	validateComux,
	type ComuxChunk,
	type ComuxDocument,
	type ReadonlyComuxDocument,
} from './format.js';
export {
	ComuxBuilder,
	comux,
	comuxFromDescription,
	comuxToDescription,
	splitRequest,
	type ComuxChunkDescription,
	type ComuxChunkOptions,
	type ComuxDescription,
} from './builder.js';
export {COMUX_HANG, COMUX_NOT_SERVING, comuxConfig, comuxFunctions, runComux, type ComuxRunResult, type RunComuxOptions} from './replay.js';
export {startComuxForkServer, type ComuxForkServer} from './fork-server.js';
export type {LaunchExit} from '../launch/launch.js';
