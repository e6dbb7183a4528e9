import type {
	ChildProcess,
	ChildProcessByStdio,
	ChildProcessWithoutNullStreams,
	SpawnOptions,
	SpawnOptionsWithoutStdio,
	SpawnOptionsWithStdioTuple,
	StdioNull,
	StdioPipe,
} from 'node:child_process';
import type {Readable, Writable} from 'node:stream';
import {isNormalizedConfig} from '../config/built.js';
import {normalizeConfig, requireConfig} from '../config/load.js';
import type {NormalizedConfig, PdiConfigInput} from '../config/types.js';
import type {ActCount} from './act-report.js';
import {PdiError, shown} from '../errors.js';
import {launch} from './launch.js';

/**
 * The child of {@link spawn}: Node's `ChildProcess` (`Child`, whose streams are typed by the `stdio` option as
 * Node's own `spawn` types them: not null with the default `'pipe'`), and what the config's `act` rules counted.
 */
export type PdiChildProcess<Child extends ChildProcess = ChildProcess> = Child & {
	/** Settles when the child has exited: each act rule's counts per process (empty without act rules, or if the child could not start). */
	readonly act: Promise<ActCount[]>;
};

/** A child's stream for a `stdio` entry: `Stream` when the entry makes a pipe (`'pipe'`, `null`, left out), else null. */
export type Piped<Entry, Stream> = Entry extends StdioPipe ? Stream : null;

/**
 * Starts `command` with the interpositions of `config`: the preload core in
 * `LD_PRELOAD` and the compiled config in `PDI_CONFIG`, both set only in the
 * child's environment. The compiled config (and the link to the core that an
 * install path with spaces needs) lives in a private temporary directory that
 * is removed when the child exits, or at the latest when this process exits.
 *
 * ```ts
 * const child = spawn(defineConfig({
 * 	backends: [{name: 'count', library: 'count'}],
 * 	rules: [{relink: {object: '$main', function: 'malloc', backend: 'count', wrapper: 'count_malloc'}}],
 * }), './server', ['--port', '8080'], {stdio: 'inherit'});
 * ```
 *
 * The config is validated and its backends and wrappers are checked before
 * anything starts; a problem throws a `ConfigError` naming the place. The
 * program is found as `pdi run` finds it (PATH, relative to `options.cwd`;
 * with `shell`, the shell), and one that would silently run without the
 * interpositions (missing, static, for another architecture) throws a
 * `PdiError`. Files are loaded with `loadConfig()` first.
 */
export function spawn(config: PdiConfigInput | NormalizedConfig, command: string, args?: readonly string[], options?: SpawnOptionsWithoutStdio): PdiChildProcess<ChildProcessWithoutNullStreams>;
export function spawn<I extends StdioPipe | StdioNull, O extends StdioPipe | StdioNull, E extends StdioPipe | StdioNull>(
	config: PdiConfigInput | NormalizedConfig, command: string, args: readonly string[], options: SpawnOptionsWithStdioTuple<I, O, E>,
): PdiChildProcess<ChildProcessByStdio<Piped<I, Writable>, Piped<O, Readable>, Piped<E, Readable>>>;
export function spawn(config: PdiConfigInput | NormalizedConfig, command: string, args: readonly string[], options: SpawnOptions & {stdio: 'inherit' | 'ignore'}): PdiChildProcess<ChildProcessByStdio<null, null, null>>;
export function spawn(config: PdiConfigInput | NormalizedConfig, command: string, args: readonly string[], options: SpawnOptions & {stdio: 'pipe'}): PdiChildProcess<ChildProcessWithoutNullStreams>;
export function spawn(config: PdiConfigInput | NormalizedConfig, command: string, args?: readonly string[], options?: SpawnOptions): PdiChildProcess;
export function spawn(config: PdiConfigInput | NormalizedConfig, command: string, args: readonly string[] = [], options: SpawnOptions = {}): PdiChildProcess {
	requireConfig(config);

	const given: unknown = options;
	if (typeof given !== 'object' || given === null || Array.isArray(given)) {
		throw new PdiError(`options: expected an object (Node's spawn options), got ${shown(given)}`);
	}

	const {child, exited} = launch(command, args, {...options, config: isNormalizedConfig(config) ? config : normalizeConfig(config), throwUnheardError: true});
	const act = exited.then(exit => exit.act, () => []);
	return Object.defineProperty(child, 'act', {value: act, enumerable: false}) as PdiChildProcess;
}
