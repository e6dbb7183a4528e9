import {spawn as spawnChild} from 'node:child_process';
import {openSync, closeSync} from 'node:fs';
import type {PdiConfig} from '../config/index.js';
import {checkPreloadable, resolveProgram} from '../inspect/program.js';
import {prepareConfig} from '../launch/prepared-config.js';
import {exitStatus} from '../launch/run.js';
import {preloadEnvironment} from '../launch/environment.js';

/** The functions the comux-accept backend redefines: a server's listening socket and every way it waits for a client. */
export const comuxFunctions = ['listen', 'accept', 'accept4', 'epoll_ctl', 'epoll_wait', 'epoll_pwait', 'poll', 'ppoll', 'select', 'pselect'] as const;

/**
 * The bundled config that installs the comux-accept backend: one `redefine`
 * rule per function of {@link comuxFunctions}, so the server is reached
 * whichever library it calls them from. `pdi comux config` writes it compiled,
 * for `PDI_CONFIG` (AFL++: with `AFL_PRELOAD`).
 */
export function comuxConfig(): PdiConfig {
	return {
		backends: [{name: 'comux', library: 'comux-accept'}],
		rules: comuxFunctions.map(name => ({redefine: {function: name, backend: 'comux', wrapper: `comux_${name}`}})),
	};
}

/** Options of {@link runComux}. */
export type RunComuxOptions = {
	/** Environment of the server (default `process.env`). */
	env?: NodeJS.ProcessEnv;
	cwd?: string;
	/** Kill the server when the replay takes longer than this (ms, default 30000); the result says `timedOut`. */
	timeout?: number;
	/** `PDI_COMUX_IDLE_MS`: a reply ends when no byte came for this long after the last one (default 50). */
	idleMs?: number;
	/** `PDI_COMUX_TIMEOUT_MS`: a reply ends after this long at most (default 2000). */
	replyTimeoutMs?: number;
	/** `PDI_COMUX_NO_WAIT`: send every chunk without waiting for replies in between. */
	noWait?: boolean;
	/** `PDI_COMUX_EXIT_IMMEDIATE`: end with `_exit` instead of `exit` (no atexit handlers). */
	exitImmediate?: boolean;
	/** `PDI_COMUX_LOG`: `stderr` or a file for the backend's log. */
	log?: string;
};

/** How one replay ended. */
export type ComuxRunResult = {
	/** The server's replies, in schedule order (what the backend wrote to stdout). */
	stdout: Buffer;
	stderr: string;
	/** Exit status (128+N when signal N ended it), or null when the replay was killed for taking too long. */
	status: number | null;
	exitCode: number | null;
	signal: NodeJS.Signals | null;
	timedOut: boolean;
	/** Wall time of the replay in milliseconds. */
	durationMs: number;
};

/** The `PDI_COMUX_*` variables that carry `options` to the backend. */
export function comuxVariables(options: RunComuxOptions): Record<string, string> {
	const variables: Record<string, string> = {};
	for (const [name, value] of [
		['PDI_COMUX_IDLE_MS', options.idleMs],
		['PDI_COMUX_TIMEOUT_MS', options.replyTimeoutMs],
		['PDI_COMUX_NO_WAIT', options.noWait ? '1' : undefined],
		['PDI_COMUX_EXIT_IMMEDIATE', options.exitImmediate ? '1' : undefined],
		['PDI_COMUX_LOG', options.log],
	] as const) {
		if (value !== undefined) {
			variables[name] = String(value);
		}
	}

	return variables;
}

/**
 * Replays one comux conversation against a fresh `server` process: the
 * server runs with the comux-accept backend, reads `input` (bytes, or the
 * path of a comux file) instead of real clients, and exits by itself when
 * the conversation is over.
 *
 * ```ts
 * const {stdout, status} = await runComux(['/usr/sbin/nginx', '-c', conf], comux().conn(0, 'GET / HTTP/1.0\r\n\r\n', {awaitResponse: true}).bytes());
 * ```
 */
export async function runComux(server: readonly string[], input: Uint8Array | string, options: RunComuxOptions = {}): Promise<ComuxRunResult> {
	const [command, ...args] = server;
	if (command === undefined) {
		throw new TypeError('runComux: the server command is empty');
	}

	const environment = options.env ?? process.env;
	const program = resolveProgram(command, environment);
	checkPreloadable(program, command);
	const prepared = prepareConfig(comuxConfig());
	const childEnvironment = {...preloadEnvironment(environment, prepared.file), ...comuxVariables(options)};

	const inputFd = typeof input === 'string' ? openSync(input, 'r') : undefined;
	const started = performance.now();
	try {
		return await new Promise<ComuxRunResult>((resolve, reject) => {
			const child = spawnChild(program, args, {
				argv0: command,
				cwd: options.cwd,
				env: childEnvironment,
				stdio: [inputFd ?? 'pipe', 'pipe', 'pipe'],
			});
			const stdout: Buffer[] = [];
			const stderr: Buffer[] = [];
			child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
			child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
			if (typeof input !== 'string') {
				child.stdin?.on('error', () => undefined);
				child.stdin?.end(input);
			}

			let timedOut = false;
			const timer = setTimeout(() => {
				timedOut = true;
				child.kill('SIGKILL');
			}, options.timeout ?? 30_000);
			child.once('error', error => {
				clearTimeout(timer);
				reject(error);
			});
			child.once('close', (code, signal) => {
				clearTimeout(timer);
				resolve({
					stdout: Buffer.concat(stdout),
					stderr: Buffer.concat(stderr).toString('utf8'),
					status: timedOut ? null : exitStatus(code, signal),
					exitCode: code,
					signal,
					timedOut,
					durationMs: performance.now() - started,
				});
			});
		});
	} finally {
		if (inputFd !== undefined) {
			closeSync(inputFd);
		}

		prepared.remove();
	}
}
