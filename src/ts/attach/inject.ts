import {execFile} from 'node:child_process';
import {existsSync} from 'node:fs';
import {PdiError, printLine} from '../errors.js';
import {pdiPaths} from '../paths.js';
import {notPermittedMessage, permissionFacts} from './permission.js';

/** pdi-inject's exit status when PTRACE_SEIZE failed with EPERM (src/native/inject/inject.h). */
const notPermitted = 3;

/** The operations of pdi-inject (src/native/inject/main.c), each one run of it. */
export type InjectOperation = ['open', string, string] | ['close'] | ['report', string, string];

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

	return new Promise((resolve, reject) => {
		const env = thread === undefined ? process.env : {...process.env, PDI_INJECT_THREAD: String(thread)};
		execFile(injector, [String(pid), preload, ...operation], {encoding: 'utf8', env}, (error, _stdout, stderr) => {
			if (error === null) {
				// Done, with something to report (signals that could not be given back).
				for (const line of stderr.split('\n').filter(line => line.startsWith('warning: '))) {
					printLine(`pdi: process ${pid}: ${line}`);
				}

				resolve();
				return;
			}

			const code = typeof error.code === 'number' ? error.code : undefined;
			if (code === notPermitted) {
				reject(new PdiError(notPermittedMessage(permissionFacts(pid, thread))));
				return;
			}

			const line = stderr.trim().split('\n').at(-1);
			reject(new PdiError(line && line !== '' ? line : `the injector failed on process ${pid} (${error.signal ?? error.message})`));
		});
	});
}
