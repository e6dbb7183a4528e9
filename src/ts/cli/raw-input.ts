import {isUtf8} from 'node:buffer';
import {readFileSync} from 'node:fs';
import {escapeControls, PdiError, printLine} from '../errors.js';
import {processStat} from '../proc-stat.js';

/** The NUL-separated strings of a /proc/self file as bytes; none when it cannot be read. */
function procStrings(name: string): Buffer[] {
	let data: Buffer;
	try {
		data = readFileSync(`/proc/self/${name}`);
	} catch {
		return [];
	}

	const strings: Buffer[] = [];
	for (let start = 0; start < data.length;) {
		const end = data.indexOf(0, start);
		strings.push(data.subarray(start, end === -1 ? data.length : end));
		start = end === -1 ? data.length : end + 1;
	}

	return strings;
}

/** Bytes a shell or printf would read as something else inside double quotes: \\, ", ', $, `, %. */
const special = new Set([0x5C, 0x22, 0x27, 0x24, 0x60, 0x25]);

/** `bytes` as printf's format reads them: printable ASCII as it is, every other byte in octal. */
function octal(bytes: Buffer): string {
	return [...bytes].map(byte => (byte >= 0x20 && byte < 0x7F && !special.has(byte) ? String.fromCodePoint(byte) : `\\${byte.toString(8).padStart(3, '0')}`)).join('');
}

/**
 * Refuses an argument of pdi's command line that is not valid UTF-8: Node.js decodes its arguments as UTF-8, so such
 * bytes reach pdi, and a program pdi starts, as U+FFFD. A program must get exactly what it was given (a file name
 * with byte 0xff would name another file), so pdi stops and says how a shell can make that argument instead.
 */
export function refuseArgumentsNotUtf8(argv: readonly string[]): void {
	const raw = procStrings('cmdline');
	const ours = raw.slice(raw.length - argv.length);
	if (raw.length < argv.length || ours.some((bytes, index) => bytes.toString('utf8') !== argv[index])) {
		return; // not this process's command line (main() called with other arguments)
	}

	const index = ours.findIndex(bytes => !isUtf8(bytes));
	if (index !== -1) {
		const written = octal(ours[index]!);
		const remedy = index > argv.indexOf('--') && argv.includes('--')
			? `let a shell make it, as in -- sh -c 'exec PROGRAM "$(printf "${written}")"'`
			: 'name the file with a UTF-8 name (a symbolic link to it, for one)';
		throw new PdiError(`argument ${index + 1} ('${written}') is not valid UTF-8, and Node.js, which pdi runs on, cannot take it unchanged: ${remedy} (docs/launching.md, "Bytes that are not UTF-8")`);
	}
}

/**
 * Warns, once per command that starts a program, of each environment variable whose value is not valid UTF-8: the
 * program gets it with U+FFFD in place of those bytes (Node.js passes the environment on as text).
 */
export function warnOfVariablesNotUtf8(): void {
	for (const entry of procStrings('environ')) {
		const equals = entry.indexOf(0x3D);
		if (equals > 0 && !isUtf8(entry)) {
			printLine(`pdi: warning: the environment variable ${octal(entry.subarray(0, equals))} is not valid UTF-8: the program gets it with U+FFFD in place of those bytes (docs/launching.md, "Bytes that are not UTF-8")`);
		}
	}
}

/** Whether npx (`npm exec`, whose process names itself so) is pdi's parent or, through `sh -c`, its grandparent. */
function startedByNpx(): boolean {
	if (process.env.npm_command !== 'exec') {
		return false;
	}

	let pid = process.ppid;
	for (let level = 0; level < 2 && pid > 1; level++) {
		try {
			if (/^(npm exec|npx)\b/.test(readFileSync(`/proc/${pid}/cmdline`, 'latin1'))) {
				return true;
			}

			pid = Number(processStat(pid)?.[1] ?? 0);
		} catch {
			return false;
		}
	}

	return false;
}

/**
 * Warns of the arguments and variables that hold U+FFFD when npx (`npm exec`) started pdi: npm's own Node.js process
 * decoded them first, so bytes that were not UTF-8 arrive here already replaced and the check above cannot see them.
 * A U+FFFD typed on purpose is rare; a Latin-1 file name that became one is the silent mistake the check prevents.
 */
export function warnOfBytesReplacedByNpx(argv: readonly string[], variables: boolean): void {
	if (![...argv, ...(variables ? Object.values(process.env) : [])].some(text => text?.includes('\uFFFD')) || !startedByNpx()) {
		return;
	}

	const why = 'npx (npm exec) runs pdi from a Node.js process of its own, which has replaced bytes that are not UTF-8 with it';
	const remedy = 'run node_modules/.bin/pdi instead of npx, or let a shell make the value';
	for (const [index, argument] of argv.entries()) {
		if (argument.includes('\uFFFD')) {
			printLine(`pdi: warning: argument ${index + 1} ('${escapeControls(argument)}') holds U+FFFD: ${why}; if the argument had such bytes, the program gets another one: ${remedy} (docs/launching.md, "Bytes that are not UTF-8")`);
		}
	}

	for (const entry of variables ? procStrings('environ') : []) {
		const equals = entry.indexOf(0x3D);
		if (equals > 0 && isUtf8(entry) && entry.toString('utf8').includes('\uFFFD')) {
			printLine(`pdi: warning: the environment variable ${escapeControls(entry.subarray(0, equals).toString('utf8'))} holds U+FFFD: ${why}; if its value had such bytes, the program gets another one: ${remedy} (docs/launching.md, "Bytes that are not UTF-8")`);
		}
	}
}
