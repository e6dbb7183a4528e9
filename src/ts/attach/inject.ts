import {spawn, spawnSync} from 'node:child_process';
import {existsSync} from 'node:fs';
import {PdiError, printLine} from '../errors.js';
import {pdiPaths} from '../paths.js';
import {notPermittedMessage, permissionFacts} from './permission.js';

/** pdi-inject's exit status when PTRACE_SEIZE failed with EPERM (src/native/inject/inject.h). */
const notPermitted = 3;

/** The operations of pdi-inject (src/native/inject/main.c), each one run of it. */
export type InjectOperation = ['open', string, string] | ['close'] | ['report', string, string];

/** How one run of pdi-inject ended. */
type InjectorEnd = {code: number | null; signal: NodeJS.Signals | null; stderr: string};

/** The signals pdi-inject ignores from its first instruction on: one of them can only have ended it before then. */
const ignoredByInjector = new Set<NodeJS.Signals>(['SIGINT', 'SIGTERM', 'SIGHUP']);

/**
 * Runs pdi-inject on process `pid`: a separate program, so that every ptrace
 * call comes from one thread, its waits block no event loop, and a crash of
 * it cannot take this process down. Rejects with a {@link PdiError} of one line.
 */
export async function runInjector(pid: number, operation: InjectOperation, thread?: number): Promise<void> {
	const {injector, preload} = pdiPaths();
	if (!existsSync(injector)) {
		throw new PdiError(`the injector is missing: expected ${injector} next to the preload core; rebuild with \`npm rebuild pdi\``);
	}

	const env = injectorEnvironment(thread);
	let end = await runOnce(injector, [String(pid), preload, ...operation], env);
	// A Ctrl-C sent to pdi's process group (or `timeout -s INT`) while the injector was being started, before it
	// could ignore it, ended it before it touched the process: it runs again. Before, the session stayed installed.
	for (let attempt = 1; attempt < 5 && end.signal !== null && ignoredByInjector.has(end.signal); attempt++) {
		end = await runOnce(injector, [String(pid), preload, ...operation], env);
	}

	const {code, signal, stderr} = end;
	if (code === 0) {
		// Done, with something to report (signals that could not be given back).
		for (const line of stderr.split('\n').filter(line => line.startsWith('warning: '))) {
			printLine(`pdi: process ${pid}: ${line}`);
		}

		return;
	}

	if (code === notPermitted) {
		throw new PdiError(notPermittedMessage(permissionFacts(pid, thread)));
	}

	const line = stderr.trim().split('\n').at(-1);
	// checkPid found the process before the injector started: it has ended meanwhile, it did exist.
	throw new PdiError(line === `no such process: ${pid}` ? endedWhileAttaching(pid) : line && line !== '' ? line : `the injector failed on process ${pid} (${signal ?? `status ${code}`})`);
}

/** pdi-inject's environment: this process's, and the thread to borrow when one is given. */
function injectorEnvironment(thread: number | undefined): NodeJS.ProcessEnv {
	return thread === undefined ? process.env : {...process.env, PDI_INJECT_THREAD: String(thread)};
}

/** One run of pdi-inject, in a session of its own: signals sent to pdi's process group do not reach it. */
async function runOnce(injector: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<InjectorEnd> {
	return new Promise((resolve, reject) => {
		const child = spawn(injector, args, {env, detached: true, stdio: ['ignore', 'ignore', 'pipe']});
		let stderr = '';
		child.stderr.setEncoding('utf8').on('data', (text: string) => {
			stderr += text;
		});
		child.on('error', error => {
			reject(new PdiError(`the injector could not be started: ${error.message}`));
		});
		child.on('close', (code, signal) => {
			resolve({code, signal, stderr});
		});
	});
}

/**
 * Detaches from process `pid` as this process ends (its 'exit' event, or a signal that ends it): synchronously, since
 * nothing asynchronous runs then. A failure is one line on stderr; the next attach of the process closes what is left
 * (the core knows that its pdi has ended).
 */
export function detachNow(pid: number, thread?: number): void {
	const {injector, preload} = pdiPaths();
	const end = spawnSync(injector, [String(pid), preload, 'close'], {env: injectorEnvironment(thread), stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8'});
	if (end.status !== 0) {
		const line = (end.stderr ?? '').trim().split('\n').at(-1);
		printLine(`pdi: ${stoppedRefusal.test(line ?? '') ? sessionLeftInStopped(pid) : `process ${pid}: could not detach as this process ends: ${line || end.error?.message || `status ${end.status}`}`}`);
	}
}

/** The injector's refusal of a process stopped by a signal (src/native/inject/thread.c), which changed nothing in it. */
const stoppedRefusal = /^process \d+ is stopped \(by SIG/;

/** Whether `error` is the injector's refusal of a process stopped by a signal. */
export function refusedAsStopped(error: unknown): boolean {
	return error instanceof PdiError && stoppedRefusal.test(error.message);
}

/** What stays when pdi ends while process `pid` is stopped by a signal: a stopped process runs no detach. */
export function sessionLeftInStopped(pid: number): string {
	return `process ${pid} is stopped: pdi's session stays installed in it, and the next pdi attach or trace -p of it removes it first (to just remove it: pdi attach ${pid} -c CONFIG --detach-after 0.01)`;
}

/** What pdi says of a process that checkPid found and that ended before the attach was done. */
export function endedWhileAttaching(pid: number): string {
	return `process ${pid} has ended while pdi was attaching`;
}
