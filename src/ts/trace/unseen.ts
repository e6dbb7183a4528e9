import {globMatches} from '../glob-problem.js';
import {nativeBinding} from '../native/binding.js';

/** The -e patterns of a `functions` option, a comma-separated text or a list of them. */
function patternList(functions: string | readonly string[] | undefined): string[] {
	return (functions === undefined ? '' : typeof functions === 'string' ? functions : functions.join(',')).split(',');
}

/**
 * The including -e patterns that name one function (no glob, no @OBJ): those pdi says it saw nothing of. Under -C a
 * mangled name is left out: it was counted, and marked, by its demangled name.
 */
export function plainNames(functions: string | readonly string[] | undefined, demangle: boolean | undefined): string[] {
	const patterns = patternList(functions);
	// An exclusion for every callee takes a name out: -e 'open,!open' traces no open, and no process lacks it.
	const excluded = patterns.filter(pattern => pattern.startsWith('!') && !pattern.includes('@')).map(pattern => pattern.slice(1));
	return patterns.filter(pattern => pattern !== '' && !/[*?[\\!@]/.test(pattern) && !(demangle && pattern.startsWith('_Z'))
		&& !excluded.some(glob => globMatches(glob, pattern)));
}

/** The functions that, when they succeed, replace the program and never return to their caller. */
const execFunctions = new Set(['execve', 'execv', 'execvp', 'execvpe', 'execl', 'execlp', 'execle', 'fexecve', 'execveat']);

/**
 * What pdi says of a function -e names plainly that it saw nothing of: pdi never traces it (it never returns, ...),
 * or, with -c, no call of it was traced (`uncalled`: a traced object imports it; `calls`: none does; `unknown`: an
 * attached process, which marks no call sites), and with -f (`sites`), no followed process had a call site of it.
 */
export function unseenNotice(name: string, seen: 'calls' | 'sites' | 'uncalled' | 'unknown'): string {
	const never = nativeBinding().neverStubbedReason(name);
	if (never !== null) {
		return `pdi: trace: ${name}: pdi never traces ${name} (${never}: docs/mechanisms.md, "Which imports")`;
	}

	if (seen === 'uncalled') {
		// A call that succeeds never returns, and a line is written at the return: only failed calls are traced.
		return execFunctions.has(name)
			? `pdi: trace: ${name}: no call of it returned (a traced object imports it; a call that succeeds runs another program and never returns, so only failed ones have a line)`
			: `pdi: trace: ${name}: no call of it was traced (a traced object imports it, and made no call of it)`;
	}

	// 'unknown': an attached process (-p) marks no call sites: whether one imports it is not known.
	const what = seen === 'sites' ? 'no traced process had a call site of it (none imports it' : `no call of it was traced (${seen === 'unknown' ? 'the traced objects made none, or ' : ''}no traced object imports it`;
	return `pdi: trace: ${name}: ${what}, or they only take its address from a pointer slot, GLOB_DAT, which is not traced: docs/trace.md, "What is traced, and what is not")`;
}

/**
 * Warnings for the -e names written as -C shows a C++ function (`std::thread::join()`) while names are not demangled:
 * they match no symbol (`_ZNSt6thread4joinEv`), and the notice at the end would say the program has no call site of
 * them, which it may well have.
 */
export function demangledNameWarnings(functions: string | readonly string[] | undefined, demangle: boolean | undefined, option: string, demangleOption: string): string[] {
	if (demangle) {
		return [];
	}

	const patterns = patternList(functions);
	return patterns.map(pattern => pattern.replace(/^!/, '').replace(/@[^:]*$/, ''))
		.filter(name => name.includes('::') || /\)(?:\s*const)?$/.test(name))
		.map(name => `pdi: warning: ${option} '${name}' is a C++ name as ${demangleOption} shows it: without ${demangleOption}, names are matched against the symbols (_ZN...), and it matches none`);
}
