import {execFileSync} from 'node:child_process';
import {readFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {pdi, root} from './helpers/cli.js';
import {compileC, scratchDirectory} from './helpers/files.js';

const scratch = scratchDirectory('pdi-trace-prototypes-');

/** A declaration's register class: an integer, a pointer, a double, a struct or long double (not compared), variadic. */
type ArgumentClass = 'int' | 'pointer' | 'float' | 'other' | '...';

/** glibc's typedefs of pointers that -aux-info prints by name. */
const pointerTypedefs = new Set(['__SOCKADDR_ARG', '__CONST_SOCKADDR_ARG', '__compar_fn_t', 'locale_t', 'iconv_t', '__sighandler_t', '__gnuc_va_list', 'va_list']);

function declaredClass(type: string): ArgumentClass {
	const words = type.replaceAll(/[^\w.]+/g, ' ').trim().split(' ');
	if (type.trim() === '...') {
		return '...';
	}

	if (/[*[(]/.test(type) || words.some(word => pointerTypedefs.has(word))) {
		return 'pointer';
	}

	if (/\blong double\b|\b(struct|union)\b/.test(type)) {
		return 'other';
	}

	return /\b(double|float)\b/.test(type) ? 'float' : 'int';
}

/** A spec letter's class (prototypes.h): p, s and $ are pointers, d and g floating point, . variadic, the rest integers. */
function letterClass(letter: string): ArgumentClass {
	return 'ps$'.includes(letter) ? 'pointer' : 'dg'.includes(letter) ? 'float' : letter === '.' ? '...' : 'int';
}

/** Every function glibc's headers declare, as `gcc -aux-info` prints them: name → return type and parameter types. */
function glibcDeclarations(): Map<string, {returns: string; parameters: string[]}> {
	const listing = path.join(scratch, 'declarations.txt');
	execFileSync('gcc', ['-aux-info', listing, '-c', path.join(root, 'test/fixtures/trace/libc-headers.c'), '-o', path.join(scratch, 'headers.o')]);
	const declarations = new Map<string, {returns: string; parameters: string[]}>();
	for (const line of readFileSync(listing, 'utf8').split('\n')) {
		const declaration = /^\/\*.*?\*\/\s*(?:extern\s+)?(.*\))\s*;\s*$/.exec(line)?.[1];
		if (declaration === undefined) {
			continue;
		}

		let depth = 0;
		let open = -1;
		for (let index = declaration.length - 1; index >= 0 && open < 0; index--) {
			depth += declaration[index] === ')' ? 1 : declaration[index] === '(' ? -1 : 0;
			open = depth === 0 ? index : -1;
		}

		const head = /^(.*?)(\w+)\s*$/.exec(declaration.slice(0, open));
		if (head === null) {
			continue;
		}

		const parameters: string[] = [];
		let current = '';
		depth = 0;
		for (const character of declaration.slice(open + 1, -1)) {
			depth += '(['.includes(character) ? 1 : ')]'.includes(character) ? -1 : 0;
			if (character === ',' && depth === 0) {
				parameters.push(current.trim());
				current = '';
			} else {
				current += character;
			}
		}

		parameters.push(current.trim());
		declarations.set(head[2]!, {returns: head[1]!.trim(), parameters: parameters.join() === 'void' ? [] : parameters});
	}

	return declarations;
}

/** The differences between a built-in spec and glibc's declaration of the function, in words. */
function mismatches(spec: string, returns: string, parameters: readonly string[]): string[] {
	const [returned, ...letters] = [...spec.replace('!', '')];
	const found: string[] = [];
	const returnClass = returns === 'void' ? 'void' : declaredClass(returns);
	const specReturn = returned === 'v' ? 'void' : letterClass(returned!);
	if (returnClass !== 'other' && returnClass !== specReturn) {
		found.push(`returns ${returns}, spec ${returned}`);
	}

	for (const [index, parameter] of parameters.entries()) {
		const expected = declaredClass(parameter);
		if (expected === '...') {
			break; // a variadic function's spec may decode the arguments it takes (open's mode, fcntl's argument)
		}

		const letter = letters[index];
		if (letter === undefined) {
			found.push(`takes ${parameters.length} arguments, spec ${letters.length}`);
			break;
		}

		if (expected !== 'other' && letterClass(letter) !== expected) {
			found.push(`argument ${index} is ${parameter}, spec ${letter}`);
		}
	}

	if (!parameters.includes('...') && letters.length > parameters.length) {
		found.push(`takes ${parameters.length} arguments, spec ${letters.length}`);
	}

	return found;
}

test('every built-in prototype of the trace backend takes the arguments glibc declares, each of the same class (integer, pointer, floating point)', t => {
	const table = readFileSync(path.join(root, 'src/native/backends/trace/prototypes-table.c'), 'utf8');
	const entries = [...table.matchAll(/\{"(\w+)", "([^"]*)"\}/g)].map(match => ({name: match[1]!, spec: match[2]!}));
	t.true(entries.length > 300, `${entries.length} entries`);
	const declarations = glibcDeclarations();
	const wrong: string[] = [];
	const undeclared: string[] = [];
	for (const {name, spec} of entries) {
		const declared = declarations.get(name);
		if (declared === undefined) {
			undeclared.push(name);
			continue;
		}

		wrong.push(...mismatches(spec, declared.returns, declared.parameters).map(problem => `${name} "${spec}": ${problem}`));
	}

	// Found by this test: getopt and getopt_long decoded argc as a pointer, iconv showed 4 of its 5 arguments;
	// __memcpy_chk and __memmove_chk showed the source pointer as a size (`__memcpy_chk(0x7ffd..., 94156161019616, 2,
	// 256)`), once the fixture declared glibc's internal entry points, which its headers do not.
	t.deepEqual(wrong, []);
	// bsd_signal left glibc's headers in 2.36.
	t.deepEqual(undeclared.filter(name => name !== 'bsd_signal'), []);
});

test('pdi trace shows getopt_long\'s argc as a number, in text and JSON', async t => {
	const text = path.join(scratch, 'ls.txt');
	const run = await pdi(['trace', '-e', 'getopt_long', '-o', text, '--', 'ls', '-d', '/'], {timeout: 30_000});
	t.is(run.code, 0, run.stderr);
	// Before: ls!getopt_long(0x3, 0x7ffd..., "abcdfghiklmnopqrstuvw:xABCDFGHI:"..., 0x..., 0x...) = 100
	t.regex(readFileSync(text, 'utf8'), /ls!getopt_long\(3, 0x[\da-f]+, "/);
	const json = path.join(scratch, 'ls.ndjson');
	const jsonRun = await pdi(['trace', '--json', '-e', 'getopt_long', '-o', json, '--', 'ls', '-d', '/'], {timeout: 30_000});
	t.is(jsonRun.code, 0, jsonRun.stderr);
	const calls = readFileSync(json, 'utf8').trim().split('\n').map(line => JSON.parse(line) as {args: unknown[]});
	t.true(calls.length > 0);
	t.true(calls.every(call => call.args[0] === 3), JSON.stringify(calls[0]));
});

test('pdi trace decodes alarm, pause (its EINTR) and the posix_spawn attribute and file-action calls', async t => {
	const program = compileC(scratch, 'spawner', `#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
extern char **environ;
static void on_alarm(int signal) { (void)signal; }
int main(void) {
  signal(SIGALRM, on_alarm);
  alarm(1);
  pause();
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attributes;
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_init(&attributes);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY | O_CREAT, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t child;
  char *argv[] = {"true", 0};
  if (posix_spawnp(&child, "true", &actions, &attributes, argv, environ) == 0) waitpid(child, 0, 0);
  return 0;
}
`);
	const run = await pdi(['trace', '-e', 'alarm,pause,posix_spawn_file_actions_a*,posix_spawnattr_setflags', '--', program], {timeout: 30_000});
	t.is(run.code, 0, run.stderr);
	// Before: alarm(0x1, 0x0, 0x0) = 0x0 and pause(0x8, 0x0, 0x0) = 0xffffffff, as for a function pdi knows nothing of.
	t.deepEqual(run.stderr.split('\n').filter(Boolean).map(line => line.replace(/^\d+ \d+ {2}spawner!/, '').replaceAll(/0x[\da-f]+/g, 'ADDRESS')), [
		'alarm(1) = 0',
		'pause() = -1 errno EINTR',
		'posix_spawnattr_setflags(ADDRESS, 8) = 0',
		'posix_spawn_file_actions_addopen(ADDRESS, 1, "/dev/null", O_WRONLY|O_CREAT, 0644) = 0',
		'posix_spawn_file_actions_adddup2(ADDRESS, 1, 2) = 0',
	]);
});
