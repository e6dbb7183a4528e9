import {execFile} from 'node:child_process';
import {closeSync, copyFileSync, openSync, symlinkSync, writeFileSync, writeSync} from 'node:fs';
import path from 'node:path';
import {isLoaderSafe, loaderSafePreload} from '../../src/ts/launch/preload.js';
import {root} from './cli.js';
import {scratchDirectory} from './files.js';

/**
 * The architecture the C-level tests run for: the host, or (npm run test:arch)
 * aarch64 / i386 under qemu-user with the cross-built core and fixtures.
 */
export const testArch = process.env['PDI_TEST_ARCH'] ?? '';
// qemu-user's -L: the cross libraries with an empty ld.so.cache, made by scripts/build-arch.mjs (why: there).
const sysrootOf = (arch: string): string => path.join(root, 'build/arch', arch, 'sysroot');

export const fixtures = path.join(root, testArch ? `test/fixtures/out-${testArch}` : 'test/fixtures/out');

let hostPreload: string | undefined;

/** The core for LD_PRELOAD: on the host, as pdi's own launches name it (a checkout under a path with a blank gets a link). */
export function preloadPath(): string {
	if (testArch) {
		return path.join(root, 'build/arch', testArch, 'pdi-preload.so');
	}

	hostPreload ??= loaderSafePreload().preload;
	return hostPreload;
}
export const fixBackend = path.join(fixtures, 'backends/fix-backend.so');

/**
 * A library of the tests' own for LD_PRELOAD: `file` itself, or, in a checkout under a path the loader would
 * split (a blank, ':'), a link to it in a fresh scratch directory, as docs/launching.md tells users to make.
 */
export function loaderSafeFile(file: string): string {
	if (isLoaderSafe(file)) {
		return file;
	}

	const link = path.join(scratchDirectory('pdi-preload-link-'), path.basename(file));
	symlinkSync(file, link);
	return link;
}

export type RunResult = {code: number | null; signal: string | null; stdout: string; stderr: string};

/** Runs `program` with `guestEnv` added to its environment; under qemu-user the variables go to the guest only (-E), never to qemu itself. */
async function runTarget(program: string, args: readonly string[], guestEnv: NodeJS.ProcessEnv): Promise<RunResult> {
	return new Promise(resolve => {
		const [file, argv, environment] = testArch
			? [`qemu-${testArch}`, ['-L', sysrootOf(testArch), ...Object.entries(guestEnv).flatMap(([key, value]) => ['-E', `${key}=${value ?? ''}`]), program, ...args], process.env]
			: [program, [...args], {...process.env, ...guestEnv}];
		execFile(file, argv, {
			env: environment,
			timeout: 60_000,
			maxBuffer: 16 * 1024 * 1024,
		}, (error, stdout, stderr) => {
			const failure = error as (NodeJS.ErrnoException & {code?: number | string; signal?: string}) | null;
			resolve({
				code: failure ? (typeof failure.code === 'number' ? failure.code : null) : 0,
				signal: failure?.signal ?? null,
				stdout,
				stderr,
			});
		});
	});
}

/** Runs `program` with the preloaded core and PDI_CONFIG, as a user would by hand. */
export async function runPreloaded(program: string, args: readonly string[], config: string | undefined, env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
	return runTarget(program, args, {...env, LD_PRELOAD: preloadPath(), ...(config ? {PDI_CONFIG: config} : {})});
}

/** Runs `program` without pdi (under qemu-user for another architecture). */
export async function runBare(program: string, args: readonly string[] = []): Promise<RunResult> {
	return runTarget(program, args, {});
}

/** Writes a config file (and a command file it names) in a fresh scratch directory; returns the config's path. */
export function writeConfig(commands: readonly string[], settings: readonly string[] = []): string {
	const directory = scratchDirectory('pdi-config-');
	writeFileSync(path.join(directory, 'rules.cmd'), commands.join('\n') + '\n');
	writeFileSync(path.join(directory, 'pdi.cfg'), [...settings, 'config = rules.cmd'].join('\n') + '\n');
	return path.join(directory, 'pdi.cfg');
}

/** `name=value` lines a fixture printed, as a map. */
export function values(stdout: string): Map<string, string> {
	const result = new Map<string, string>();
	for (const line of stdout.split('\n')) {
		const match = /^([\w ]+)=(.*)$/.exec(line);
		if (match?.[1] && match[2] !== undefined) {
			result.set(match[1], match[2]);
		}
	}

	return result;
}

/** A copy of a host fixture program whose ELF header names another machine (e_machine, at byte 18), in a scratch directory made with `prefix`. */
export function programForMachine(machine: number, prefix: string): string {
	const program = path.join(scratchDirectory(prefix), 'app');
	copyFileSync(path.join(fixtures, 'now-pie/fixprog'), program);
	const descriptor = openSync(program, 'r+');
	writeSync(descriptor, Buffer.from([machine & 0xff, machine >> 8]), 0, 2, 18);
	closeSync(descriptor);
	return program;
}
