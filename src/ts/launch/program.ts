import {accessSync, constants, realpathSync, statSync} from 'node:fs';
import path from 'node:path';
import {fileSystemReason, PdiError} from '../errors.js';
import {resolveKeepingSlash} from '../resolve-path.js';
import {foreignArchitecture, hostMachineName, readExecutableInfo} from '../elf/file.js';
import {capabilitiesReason} from './capabilities.js';

function executable(file: string): boolean {
	try {
		accessSync(file, constants.X_OK);
		return true;
	} catch {
		return false;
	}
}

/** Checks a program named with a slash the way execve would, with the shell's wording. */
function checkProgramFile(command: string, directory: string): string {
	const file = resolveKeepingSlash(command, directory);
	let stats;
	try {
		stats = statSync(file);
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code;
		throw new PdiError(`${command}: ${code === 'ENOENT' ? 'no such file or directory' : code === 'ENOTDIR' ? 'not a directory' : code === 'EACCES' ? 'permission denied' : fileSystemReason(error)}`);
	}

	if (stats.isDirectory()) {
		throw new PdiError(`${command}: is a directory`);
	}

	if (!stats.isFile()) {
		throw new PdiError(`${command}: not a regular file`);
	}

	if (!executable(file)) {
		throw new PdiError(`${command}: permission denied (not executable)`);
	}

	return file;
}

/**
 * Finds `command` as a shell in `directory` would (PATH search unless it
 * contains a slash; relative names and PATH entries from `directory`, as the
 * started program's working directory is what `execvp` resolves them in).
 */
export function resolveProgram(command: string, environment: NodeJS.ProcessEnv = process.env, directory = process.cwd()): string {
	if (command === '') {
		throw new PdiError('the program name is empty');
	}

	if (command.includes('/')) {
		return checkProgramFile(command, directory);
	}

	// As execvp: a file found without execute permission is the error when no later entry has an executable one.
	let notExecutable: string | undefined;
	for (const entry of (environment['PATH'] ?? '/usr/local/bin:/usr/bin:/bin').split(':')) {
		const candidate = path.resolve(directory, entry, command);
		try {
			if (statSync(candidate).isFile()) {
				if (executable(candidate)) {
					return candidate;
				}

				notExecutable ??= candidate;
			}
		} catch {}
	}

	if (notExecutable !== undefined) {
		throw new PdiError(`${command}: permission denied (${notExecutable} is not executable)`);
	}

	// `pdi inspect libc.so.6`: a library is reached through a program that loads it.
	const library = /\.so(\.\d+)*$/.test(command) ? ' (a shared library\'s name? pdi starts a program: name one that loads it)' : '';
	throw new PdiError(`${command}: not found in PATH${library}`);
}

/**
 * A shared library given where a program belongs (`ET_DYN` without an interpreter and without
 * `DF_1_PIE`): the commands say how to reach the library through a program ({@link withAdvice}).
 */
export class SharedLibraryError extends PdiError {
	constructor(readonly library: string, advice: string) {
		super(`${library}: a shared library, not a program: ${advice}`);
	}

	/** The same refusal with a command's own advice (`pdi inspect runs a program (...)`). */
	withAdvice(advice: (name: string) => string): SharedLibraryError {
		return new SharedLibraryError(this.library, advice(path.basename(this.library)));
	}
}

/**
 * Refuses programs that would silently ignore the preloaded core: static
 * executables (static-pie ones too) and programs for another architecture;
 * and shared libraries, which are no programs ({@link SharedLibraryError}).
 */
export function checkPreloadable(program: string, displayName = program, directory = process.cwd()): void {
	let info;
	try {
		info = readExecutableInfo(program);
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'EACCES') {
			// Executable but not readable (mode 0711): the kernel runs it and the loader preloads the core, as for anyone.
			return;
		}

		throw new PdiError(`${displayName}: ${fileSystemReason(error)}`, {cause: error});
	}

	if (info.format === 'unknown') {
		throw new PdiError(`${displayName}: not an ELF executable or a script`);
	}

	if (info.format === 'script') {
		// The kernel resolves a relative interpreter against the working directory of the exec.
		checkInterpreter(info.interpreter === '' ? undefined : path.resolve(directory, info.interpreter), displayName, 'interpreter');
		return;
	}

	// Before the exec: an ELF file the kernel refuses with ENOEXEC would be run by execvp() as a /bin/sh script.
	if (info.problem !== undefined) {
		throw new PdiError(`${displayName}: ${info.problem}`);
	}

	if (info.truncated !== undefined) {
		// The kernel may still map it, and the program dies of SIGSEGV or SIGBUS in the loader, before pdi's core.
		throw new PdiError(`${displayName}: a truncated ELF file (its headers need ${info.truncated.needs} bytes, the file has ${info.truncated.has})`);
	}

	checkNotQemuUser(program, displayName);
	if (info.linkage === 'library') {
		throw new SharedLibraryError(displayName, 'pdi starts a program (run one that loads this library)');
	}

	const host = hostMachineName();
	if (!info.dynamic) {
		const kind = info.linkage === 'static-pie' ? 'statically linked (static-pie)' : 'statically linked';
		// Both said at once: rebuilt dynamically, a program of another architecture would only meet the second refusal.
		const foreignMachine = info.machine === host ? '' : `, and built for ${info.machine} (${info.bits}-bit) where this pdi build is for ${host}${otherArchitectureAdvice(info.machine, 'a dynamically linked build of it')}`;
		throw new PdiError(`${displayName}: ${kind}; pdi needs a dynamically linked program (LD_PRELOAD has no effect on it)${foreignMachine}`);
	}

	if (info.machine !== host) {
		throw new PdiError(`${displayName}: built for ${info.machine} (${info.bits}-bit), but this pdi build is for ${host}${otherArchitectureAdvice(info.machine)}`);
	}

	// The machine alone let an x32 program (ELFCLASS32, EM_X86_64) through: the loader refuses the 64-bit core
	// (wrong ELF class) and it ran without the interpositions, or the kernel did not run it at all.
	const foreign = foreignArchitecture(program);
	if (foreign !== undefined) {
		throw new PdiError(`${displayName}: built for ${foreign.built} (${info.bits}-bit), but this pdi build is for ${host}: pdi supports x86_64, aarch64 and i386 programs only`);
	}

	checkInterpreter(info.interpreter, displayName, 'dynamic loader');
}

/** The architectures that scripts/build-arch.mjs builds the core for, with the qemu-user that runs their programs. */
const crossBuilt: Record<string, string> = {aarch64: 'qemu-aarch64', i386: 'qemu-i386'};

/**
 * What to do with a program of another architecture than pdi's: one that pdi's core can be built for runs under
 * qemu-user by hand (docs/launching.md), anything else is no architecture of pdi's. Unless the program given was the
 * emulator itself, a qemu-user missing from pdi's PATH is named, with its package.
 */
function otherArchitectureAdvice(machine: string, program = 'this one', emulatorGiven = false): string {
	const qemu = crossBuilt[machine];
	if (qemu !== undefined) {
		return `: pdi starts programs of its own architecture only; start ${program} by hand under ${qemu} with pdi's ${machine} core`
			+ ' (docs/launching.md, "Programs of another architecture")' + (emulatorGiven || inSearchPath(qemu) ? '' : `; ${qemu} is not in PATH (Debian: apt-get install qemu-user)`);
	}

	return machine === 'x86_64' ? ': pdi starts programs of its own architecture only' : ': pdi supports x86_64, aarch64 and i386 programs only';
}

/** Whether `command` is found in pdi's own `PATH`, as the shell the advice is for would find it. */
function inSearchPath(command: string): boolean {
	try {
		resolveProgram(command);
		return true;
	} catch {
		return false;
	}
}

/** qemu-user's emulators (`qemu-aarch64`, `qemu-i386-static`, ...), by name: the architecture each runs programs of. */
const qemuUser = /^qemu-(aarch64(?:_be)?|alpha|armeb|arm|cris|hexagon|hppa|i386|loongarch64|m68k|microblazeel|microblaze|mips64el|mips64|mipsel|mipsn32el|mipsn32|mips|nios2|or1k|ppc64le|ppc64|ppc|riscv32|riscv64|s390x|sh4eb|sh4|sparc32plus|sparc64|sparc|x86_64|xtensaeb|xtensa)(?:-static)?$/;

/**
 * Refuses qemu-user as the program (`pdi run -- qemu-aarch64 ./app`): the core would be preloaded into the emulator,
 * whose own calls the rules would change, and never into the program it runs (its loader refuses the core of the
 * wrong architecture with an `ERROR: ld.so` line), so nothing the user meant would happen.
 */
function checkNotQemuUser(program: string, displayName: string): void {
	// By its own name or, through symbolic links (an alias of one's own, Debian's qemu-binfmt/*-binfmt-P), by the
	// name of the file it is: was, a link to qemu-aarch64 under another name got the core and the rules.
	const real = realName(program);
	const name = [path.basename(program), real].find(candidate => qemuUser.test(candidate));
	const emulated = name === undefined ? undefined : qemuUser.exec(name)?.[1];
	if (name === undefined || emulated === undefined) {
		return;
	}

	const which = name === path.basename(program) ? 'the qemu-user emulator' : `the qemu-user emulator ${name}`;
	const advice = emulated === hostMachineName() ? `: run the ${emulated} program without ${name}` : otherArchitectureAdvice(emulated, `the ${emulated} program`, true);
	throw new PdiError(`${displayName}: ${which}: pdi would instrument the emulator's own calls, never those of the ${emulated} program it runs${advice}`);
}

/** The base name of the file `program` is, its symbolic links resolved; its own base name if that fails. */
function realName(program: string): string {
	try {
		return path.basename(realpathSync(program));
	} catch {
		return path.basename(program);
	}
}

/**
 * Refuses a program whose interpreter (a script's `#!` program, an ELF program's dynamic loader) is missing or cannot
 * be executed: the exec would fail with ENOENT or EACCES, which names the program, though the program is there.
 * A relative interpreter is the kernel's to resolve (from the working directory) and is left to it.
 */
function checkInterpreter(interpreter: string | undefined, displayName: string, what: string): void {
	if (interpreter === undefined || !path.isAbsolute(interpreter)) {
		return;
	}

	let stats;
	try {
		stats = statSync(interpreter);
	} catch (error) {
		throw new PdiError(`${displayName}: its ${what} ${interpreter}: ${fileSystemReason(error)}`, {cause: error});
	}

	if (stats.isDirectory() || !executable(interpreter)) {
		throw new PdiError(`${displayName}: its ${what} ${interpreter}: ${stats.isDirectory() ? 'is a directory' : 'permission denied (not executable)'}`);
	}
}

/**
 * Why the loader would run `program` in secure mode (`AT_SECURE`), where it ignores `LD_PRELOAD` and so the core:
 * an ELF file set-user-ID to another user than the caller's real one, or set-group-ID to another group, or one whose
 * file capabilities a caller that is not root would gain; undefined otherwise (the kernel ignores all these on scripts).
 */
export function secureModeReason(program: string): string | undefined {
	try {
		const stats = statSync(program);
		if (readExecutableInfo(program).format === 'script') {
			return undefined;
		}

		if ((stats.mode & 0o4000) !== 0 && stats.uid !== process.getuid?.()) {
			return `set-user-ID (owner uid ${stats.uid})`;
		}

		if ((stats.mode & 0o2000) !== 0 && stats.gid !== process.getgid?.()) {
			return `set-group-ID (group gid ${stats.gid})`;
		}

		return capabilitiesReason(program);
	} catch {}

	return undefined;
}
