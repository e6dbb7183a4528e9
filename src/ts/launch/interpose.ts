import type {NormalizedConfig, PdiConfig} from '../config/index.js';
import {PdiError} from '../errors.js';
import {nativeBinding} from '../native/binding.js';
import {prepareConfig} from './prepared-config.js';

/** Installed interpositions in this process; see {@link interpose}. */
export type Interposition = {
	/** Uninstalls the rules (every slot gets its old value back), then finishes the backends. Idempotent. */
	close(): void;
	/** Whether `close()` has run. */
	readonly closed: boolean;
};

/**
 * Installs a config's rules into the running Node process, through the same
 * native core that `pdi run` preloads: backends are loaded and initialised,
 * rules are applied to the objects loaded now and to those loaded later
 * (`process.dlopen` of native addons included). This is how tooling
 * instruments the native addons it loads.
 *
 * ```ts
 * const handle = interpose({
 * 	backends: [{name: 'fix', library: '/path/fix-backend.so'}],
 * 	rules: [{relink: {object: 'addon.node', function: 'getpid', backend: 'fix', wrapper: 'wrap_getpid'}}],
 * });
 * try {
 * 	addon.work();
 * } finally {
 * 	handle.close();
 * }
 * ```
 *
 * All or nothing: on an error nothing stays installed and a `ConfigError`
 * (config problems) or `PdiError` (install problems) is thrown.
 */
export function interpose(config: PdiConfig | NormalizedConfig): Interposition {
	const prepared = prepareConfig(config);
	const binding = nativeBinding();
	let session: unknown;
	try {
		session = binding.interpose(prepared.file);
	} catch (error) {
		throw new PdiError((error as Error).message, {exitCode: 2, cause: error});
	} finally {
		prepared.remove();
	}

	let closed = false;
	return {
		close() {
			if (!closed) {
				closed = true;
				binding.uninterpose(session);
			}
		},
		get closed() {
			return closed;
		},
	};
}
