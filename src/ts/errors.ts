import {constants} from 'node:os';
/**
 * An expected failure of pdi itself (bad usage, a program that cannot be
 * instrumented, a missing native build). The CLI prints `pdi: <message>` and
 * exits with `exitCode`, without a stack trace.
 */
export class PdiError extends Error {
	override name = 'PdiError';

	/** Exit status the CLI uses for this error. */
	readonly exitCode: number;

	constructor(message: string, options: {exitCode?: number; cause?: unknown} = {}) {
		super(message, {cause: options.cause});
		this.exitCode = options.exitCode ?? 2;
	}
}

const reasons: Record<string, string> = {
	E2BIG: 'argument list too long',
	EACCES: 'permission denied',
	EEXIST: 'already exists',
	EIO: 'input/output error',
	EISDIR: 'is a directory',
	ELOOP: 'too many levels of symbolic links',
	EMFILE: 'too many open files',
	ENAMETOOLONG: 'name too long',
	ENOENT: 'no such file or directory',
	ENOEXEC: 'not an executable format',
	ENOSPC: 'no space left on device',
	ENOTDIR: 'not a directory',
	ENOTEMPTY: 'directory not empty',
	EPERM: 'operation not permitted',
	EROFS: 'read-only file system',
	ETXTBSY: 'text file busy',
};

/** The reason of a failed system call in words: `no such file or directory` for `ENOENT`. */
export function fileSystemReason(error: unknown): string {
	const {code, message} = error as {code?: unknown; message?: unknown};
	if (typeof code === 'string' && reasons[code]) {
		return reasons[code];
	}

	const text = typeof message === 'string' ? message : String(error);
	return /^E[A-Z\d]+: ([^,]+)/.exec(text)?.[1] ?? (typeof code === 'string' ? code : text);
}

/**
 * The reason of an errno number that native code reported with the C
 * library's words (`No space left on device`): pdi's own words for it, as
 * {@link fileSystemReason} gives them, else the C library's uncapitalised.
 */
export function errnoReason(errno: number, text: string): string {
	const code = Object.entries(constants.errno).find(([, value]) => value === errno)?.[0];
	return (code && reasons[code]) ?? uncapitalised(text);
}

/** A sentence of a library's (the C library's, the yaml parser's) in pdi's case: lower-case at its start. */
export function uncapitalised(text: string): string {
	// Not an abbreviation in capitals ('RPC struct is bad').
	return /^[A-Z][^A-Z]/.test(text) ? text[0]!.toLowerCase() + text.slice(1) : text;
}

/**
 * A failed read or write of `file` in the one-line shape every command uses:
 * `PATH: reason` (`/tmp: is a directory`), a {@link PdiError} with exit status 2.
 */
export function fileFailure(file: string, error: unknown): PdiError {
	return new PdiError(`${file}: ${fileSystemReason(error)}`, {cause: error});
}

/**
 * The user-facing form of a failed system call (Node's errors with a `code`
 * such as `ENOENT` and the `path` they were about, else the `syscall`): a
 * {@link PdiError} `PATH: reason` with exit status 2; `undefined` for any
 * other error, which is then a bug of pdi.
 */
export function fileSystemError(error: unknown): PdiError | undefined {
	if (!(error instanceof Error)) {
		return undefined;
	}

	const {code, path, syscall} = error as NodeJS.ErrnoException;
	const subject = typeof path === 'string' ? path : syscall;
	if (typeof code !== 'string' || !/^E[A-Z\d]+$/.test(code) || typeof subject !== 'string') {
		return undefined;
	}

	if (syscall === 'uv_cwd') {
		// process.cwd() (and every relative path) in a directory removed after the shell entered it.
		const hint = code === 'ENOENT' ? ' (it was removed: cd to a directory that exists)' : '';
		return new PdiError(`the working directory: ${fileSystemReason(error)}${hint}`, {cause: error});
	}

	return new PdiError(`${subject}: ${fileSystemReason(error)}`, {cause: error});
}

/** A wrapper or handler name as a message quotes it: cut after 200 characters (a 100 KB name made a 100 KB line). */
export function quotedSymbol(name: string): string {
	return name.length > 200 ? `'${name.slice(0, 200)}…' (${name.length} characters)` : `'${name}'`;
}

/** A value as a message quotes it: `5`, `'x'`, `[1,2]`, `a function`. */
export function shown(value: unknown): string {
	if (typeof value === 'string') {
		return `'${value}'`;
	}

	if (typeof value === 'function' || typeof value === 'symbol' || typeof value === 'bigint') {
		return typeof value === 'function' ? 'a function' : String(value);
	}

	// NaN and the infinities as themselves: JSON writes them null.
	if (typeof value === 'number' && !Number.isFinite(value)) {
		return String(value);
	}

	return JSON.stringify(value) ?? String(value);
}

/**
 * Writes `line` to stderr with its control characters escaped ({@link escapeControls}) and a newline: every
 * warning and notice of the CLI goes through here, so that a name it quotes (a file or function name holding a
 * newline or an escape sequence) can neither break the line nor drive the terminal.
 */
export function printLine(line: string): void {
	process.stderr.write(`${escapeControls(line)}\n`);
}

/**
 * `text` on one line: each control character (a newline in a directory's name) written `\xHH`, as the core writes
 * them in its messages and the compiled config in its `#@origin` comments.
 */
export function escapeControls(text: string): string {
	let escaped = '';
	for (const character of text) {
		const code = character.codePointAt(0)!;
		escaped += code < 0x20 || code === 0x7F ? `\\x${code.toString(16).padStart(2, '0')}` : character;
	}

	return escaped;
}
