import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {isNormalizedConfig} from '../config/built.js';
import {normalizeConfig, requireConfig} from '../config/load.js';
import type {NormalizedConfig, PdiConfigInput} from '../config/types.js';
import {escapeControls, PdiError} from '../errors.js';
import {nativeBinding} from '../native/binding.js';
import {actReportFile, actReportVariable, hasActRules, readActReport, type ActCount} from './act-report.js';
import {prepareConfig} from './prepared-config.js';
import {removeOnSignal} from './signals.js';

/** Installed interpositions in this process; see {@link interpose}. */
export type Interposition = {
	/**
	 * Uninstalls the rules (every slot gets its old value back), then finishes the backends, and returns what the
	 * config's `act` rules counted (empty without act rules, and on a second call). Idempotent.
	 */
	close(): ActCount[];
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
 * (config problems, a config that is null or undefined) or `PdiError`
 * (install problems) is thrown.
 */
export function interpose(config: PdiConfigInput | NormalizedConfig): Interposition {
	return interposeWith(config, {}, sessionLabel('interpose()', interpose));
}

let sessions = 0;
/** The labels of the sessions this thread has open, oldest first, as the core prints them. */
const openLabels = new Set<string>();

/**
 * How the core's messages name a session's rules, beside their place (`rules[0] (interpose() #2 called at
 * /app/test.mjs:12:9)`): the API call, numbered in this thread, and the caller's place when the stack has it.
 */
export function sessionLabel(call: string, api: (...args: never[]) => unknown): string {
	const holder: {stack?: string} = {};
	Error.captureStackTrace(holder, api);
	const frame = holder.stack?.split('\n')[1]?.trim() ?? '';
	const place = /\(([^()]+:\d+:\d+)\)$/.exec(frame)?.[1] ?? /^at ([^()]+:\d+:\d+)$/.exec(frame)?.[1];
	const file = place?.startsWith('file://') ? fileURLToPath(place.replace(/(:\d+){2}$/, '')) + /(:\d+){2}$/.exec(place)![0] : place;
	return `${call} #${++sessions}${file === undefined ? '' : ` called at ${file}`}`;
}

/**
 * A message of the core about the session labelled `own`: its own rules without the label (the caller knows its
 * call), those of the sessions opened before it said to be theirs.
 */
function sessionMessage(message: string, own: string | undefined): string {
	let text = own === undefined ? message : message.replaceAll(` (${escapeControls(own)})`, '');
	for (const other of openLabels) {
		text = text.replaceAll(` (${other})`, ` (of an earlier ${other})`);
	}

	return text;
}

/**
 * {@link interpose} with `variables` set in the process's real environment while the backends start (they read
 * them with getenv), and put back afterwards. The addon sets them: `process.env` of a worker thread is a copy
 * that the backends never see.
 */
export function interposeWith(config: PdiConfigInput | NormalizedConfig, variables: Record<string, string>, label?: string): Interposition {
	requireConfig(config);

	const prepared = prepareConfig(isNormalizedConfig(config) ? config : normalizeConfig(config), label);
	const binding = nativeBinding();
	// The act backend takes the report file from the environment when the session opens, and writes it when it
	// closes: then the compiled config's private directory, which holds it, stays until close().
	const report = hasActRules(prepared.config) ? actReportFile(prepared.file) : undefined;
	let session: unknown;
	try {
		session = binding.interpose(prepared.file, report === undefined ? variables : {...variables, [actReportVariable]: report});
	} catch (error) {
		prepared.remove();
		throw new PdiError(sessionMessage((error as Error).message, label), {exitCode: 2, cause: error});
	} finally {
		if (report === undefined) {
			prepared.remove();
		}
	}

	// A worker thread that ends without close(): the addon closes the session then, and removes the report's directory.
	const directory = path.dirname(prepared.file);
	let forget = () => undefined as void;
	if (report !== undefined) {
		binding.ownDirectory(directory, true);
		forget = removeOnSignal(() => {
			prepared.remove();
		});
	}

	let closed = false;
	const printed = label === undefined ? undefined : escapeControls(label);
	if (printed !== undefined) {
		openLabels.add(printed);
	}

	return {
		close() {
			if (closed) {
				return [];
			}

			closed = true;
			binding.uninterpose(session);
			if (printed !== undefined) {
				openLabels.delete(printed);
			}

			if (report === undefined) {
				return [];
			}

			const counts = readActReport(report, prepared.config);
			binding.ownDirectory(directory, false);
			forget();
			prepared.remove();
			return counts;
		},
		get closed() {
			return closed;
		},
	};
}
