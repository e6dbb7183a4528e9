import {accessSync, constants, statSync} from 'node:fs';
import path from 'node:path';
import {PdiError} from '../errors.js';
import {readExecutableInfo} from '../elf/file.js';

const hostMachines: Record<string, string> = {x64: 'x86_64', arm64: 'aarch64', ia32: 'i386'};

/** Finds `command` as a shell would (PATH search unless it contains a slash). */
export function resolveProgram(command: string, environment: NodeJS.ProcessEnv = process.env): string {
	if (command === '') {
		throw new PdiError('the program name is empty');
	}

	const candidates = command.includes('/')
		? [path.resolve(command)]
		: (environment['PATH'] ?? '/usr/local/bin:/usr/bin:/bin').split(':').map(directory => path.resolve(directory || '.', command));
	for (const candidate of candidates) {
		try {
			if (statSync(candidate).isFile()) {
				accessSync(candidate, constants.X_OK);
				return candidate;
			}
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code === 'EACCES' && command.includes('/')) {
				throw new PdiError(`${command}: permission denied`);
			}
		}
	}

	throw new PdiError(command.includes('/') ? `${command}: no such program` : `${command}: not found in PATH`);
}

/**
 * Refuses programs that would silently ignore the preloaded core: static
 * executables and programs for another architecture.
 */
export function checkPreloadable(program: string, displayName = program): void {
	const info = readExecutableInfo(program);
	if (info.format === 'unknown') {
		throw new PdiError(`${displayName}: not an ELF executable or a script`);
	}

	if (info.format === 'script') {
		return;
	}

	if (!info.dynamic) {
		throw new PdiError(`${displayName}: statically linked; pdi needs a dynamically linked program (LD_PRELOAD has no effect on it)`);
	}

	const host = hostMachines[process.arch] ?? process.arch;
	if (info.machine !== host) {
		throw new PdiError(`${displayName}: built for ${info.machine} (${info.bits}-bit), but this pdi build is for ${host}`);
	}
}
