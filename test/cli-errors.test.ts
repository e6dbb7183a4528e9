import {execFile, execFileSync, spawn} from 'node:child_process';
import {once} from 'node:events';
import {chmodSync, chownSync, existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import {writeFile} from 'node:fs/promises';
import path from 'node:path';
import test, {type ExecutionContext} from 'ava';
import {cliPath, otherUser, pdi, pdiWithoutReadOverride, startPdi, waitsForWriter} from './helpers/cli.js';
import {scratchDirectory} from './helpers/files.js';
import {fixBackend, fixtures, runPreloaded, values} from './helpers/preload.js';
import {shellWord, textValue} from './helpers/quote.js';
import {processesMentioning} from './helpers/servers.js';

const program = path.join(fixtures, 'now-pie/fixprog');
const scratch = scratchDirectory('pdi-cli-errors-');
const notExecutable = path.join(scratch, 'script.sh');
writeFileSync(notExecutable, '#!/bin/sh\nexit 0\n');
chmodSync(notExecutable, 0o644);
const aDirectory = path.join(scratch, 'a-directory');
mkdirSync(aDirectory);

/** Runs pdi with `args` and checks the failure is exactly one `pdi: …` line on stderr, nothing on stdout, exit status 2. */
async function oneLineFailure(t: ExecutionContext, args: readonly string[], env?: NodeJS.ProcessEnv): Promise<string> {
	const result = await pdi(args, env ? {env: {...process.env, ...env}} : {});
	t.is(result.code, 2, `pdi ${args.join(' ')}: ${result.stderr}`);
	t.is(result.stdout, '', `pdi ${args.join(' ')}`);
	t.regex(result.stderr, /^pdi: [^\n]+\n$/, `pdi ${args.join(' ')}`);
	t.notRegex(result.stderr, /\bat .*\.js:\d+|internal error/);
	return result.stderr;
}

const argumentErrors: Array<[string, string[], RegExp]> = [
	['run with an unknown option', ['run', '--bogus', '--', program], /^pdi: unknown option '--bogus'\n$/],
	['run with a misspelt option', ['run', '--confg', 'x', '--', program], /^pdi: unknown option '--confg' \(did you mean --config\?\)\n$/],
	// Was: no hint (commander suggests names a few letters away).
	['trace with an option in capitals', ['trace', '--JSON', '--', program], /^pdi: unknown option '--JSON' \(did you mean --json\? options are lower case\)\n$/],
	['run without PROGRAM', ['run'], /^pdi: missing PROGRAM \(usage: pdi run .*\)\n$/],
	['run with -c and no file', ['run', '-c'], /^pdi: --config: missing file\n$/],
	['run with an empty program name', ['run', '--', ''], /^pdi: the program name is empty\n$/],
	['inspect with an unknown option', ['inspect', '--bogus', '--', program], /^pdi: unknown option '--bogus'\n$/],
	['inspect without PROGRAM', ['inspect'], /^pdi: missing PROGRAM \(usage: pdi inspect .*\)\n$/],
	['inspect with --imports and no pattern', ['inspect', '--imports'], /^pdi: --imports: missing object\n$/],
	['trace with an unknown option', ['trace', '--bogus', '--', program], /^pdi: unknown option '--bogus'\n$/],
	['trace without PROGRAM', ['trace'], /^pdi: missing PROGRAM \(usage: pdi trace .*\)\n$/],
	['trace with --args out of range', ['trace', '--args', '9', '--', program], /^pdi: --args: expected 0 to 6, got '9'\n$/],
	['trace with -o and no file', ['trace', '-o'], /^pdi: --output: missing file\n$/],
	// Not 'missing n', 'missing ms': the help's placeholders.
	['trace with -s and no number', ['trace', '-s'], /^pdi: --string-size: missing number\n$/],
	['comux run with --timeout and no value', ['comux', 'run', 'x.comux', '--timeout'], /^pdi: --timeout: missing number of milliseconds\n$/],
	['attach with --detach-after and no value', ['attach', '1', '-c', 'x.yaml', '--detach-after'], /^pdi: --detach-after: missing number of seconds\n$/],
	// Before: '(more than 0)' alone for a value past Node's longest timer.
	['attach with --detach-after past its range', ['attach', '1', '-c', 'x.yaml', '--detach-after', '1e99'], /^pdi: --detach-after: '1e99' is not a number of seconds \(more than 0, at most 2147483: about 24 days\)\n$/],
	// getopt's reading of a short option with '=': before, "unknown option '-=2'" and "got '=20'" alone.
	['run with -v=2', ['run', '-v=2', '--', program], /^pdi: unknown option '-v=2' \(a short option takes no '=': -v alone, or -v VALUE for one that takes a value\)\n$/],
	['trace with -s=20', ['trace', '-s=20', '--', program], /^pdi: -s: expected 0 to 4096, got '=20' \(a short option's value follows it without '=': -s 20\)\n$/],
	['paths with an unknown option', ['paths', '--bogus'], /^pdi: unknown option '--bogus'\n$/],
	['paths with an operand', ['paths', 'extra'], /^pdi: paths: too many arguments \(expected 0, got 1\)\n$/],
	['an unknown command', ['inpect'], /^pdi: unknown command 'inpect' \(did you mean inspect\?\)\n$/],
	['no command at all', [], /^pdi: missing command \(usage: pdi \[options\] \[command\]; 'pdi --help' lists them\)\n$/],
	['config without a subcommand', ['config'], /^pdi: missing command \(usage: pdi config .*; 'pdi config --help' lists them\)\n$/],
	['config with an unknown subcommand', ['config', 'chek'], /^pdi: unknown command 'chek' of pdi config \(check, compile, schema\) \(did you mean check\?\)\n$/],
	['config check without FILE', ['config', 'check'], /^pdi: missing required argument 'file' \(usage: pdi config check \[options\] <file>\)\n$/],
	['comux build with a --num-conns that is no number', ['comux', 'build', '--chunk', '0:a', '--num-conns', 'abc'], /^pdi: --num-conns: expected a number of connections from 1 to 65536, got 'abc'\n$/],
	// Bad arguments, not invalid inputs (status 3 before: 'num_conns 0 ...', 'num_conns 100000000000 is not a u32'); the escape's --chunk named.
	['comux build with --num-conns 0', ['comux', 'build', '--chunk', '0:a', '--num-conns', '0'], /^pdi: --num-conns: expected a number of connections from 1 to 65536, got '0'\n$/],
	['comux build with a --chunk connection beyond the format', ['comux', 'build', '--chunk', '99999999999:a'], /^pdi: --chunk '99999999999:a': connection 99999999999 is above 65535 \(a comux file holds at most 65536 connections\)\n$/],
	['comux build with a bad escape in --chunk', ['comux', 'build', '--chunk', '0:\\xZZ'], /^pdi: --chunk '0:\\xZZ': bad escape '\\xZZ' in '\\xZZ' \(known: /],
	['config check with two files', ['config', 'check', 'a.yaml', 'b.yaml'], /^pdi: check: too many arguments \(expected 1, got 2\)\n$/],
	['config compile without FILE', ['config', 'compile'], /^pdi: missing required argument 'file' \(usage: pdi config compile .*\)\n$/],
	['config compile with an unknown option', ['config', 'compile', '--bogus', 'x.yaml'], /^pdi: unknown option '--bogus'\n$/],
	['config compile with -o and no file', ['config', 'compile', 'x.yaml', '-o'], /^pdi: --output: missing file\n$/],
	['config schema with an operand', ['config', 'schema', 'extra'], /^pdi: schema: too many arguments \(expected 0, got 1\)\n$/],
	['config schema with an unknown option', ['config', 'schema', '--bogus'], /^pdi: unknown option '--bogus'\n$/],
	['comux without a subcommand', ['comux'], /^pdi: missing command \(usage: pdi comux .*; 'pdi comux --help' lists them\)\n$/],
	['comux with an unknown subcommand', ['comux', 'bogus'], /^pdi: unknown command 'bogus' of pdi comux \(show, build, run, replay, config\)\n$/],
	['config with an unknown subcommand and --help', ['config', 'describe', '--help'], /^pdi: unknown command 'describe' of pdi config \(check, compile, schema\)\n$/],
	['comux with an unknown subcommand and -h', ['comux', 'bogus', '-h'], /^pdi: unknown command 'bogus'/],
	['comux show without FILE', ['comux', 'show'], /^pdi: missing required argument 'file' \(usage: pdi comux show .*\)\n$/],
	['comux show with an unknown option', ['comux', 'show', '--bogus', 'x.comux'], /^pdi: unknown option '--bogus'\n$/],
	['comux build with --chunk and no value', ['comux', 'build', '--chunk'], /^pdi: --chunk: missing conn:data\n$/],
	['comux build with an unknown option', ['comux', 'build', '--bogus'], /^pdi: unknown option '--bogus'\n$/],
	['comux run without FILE', ['comux', 'run'], /^pdi: missing required argument 'file' \(usage: pdi comux run FILE \[--fork\] .* -- SERVER \[ARGS...\]\)\n$/],
	['comux run without SERVER', ['comux', 'run', 'x.comux'], /^pdi: missing SERVER \(usage: pdi comux run .*\)\n$/],
	// FILE forgotten: before, the server was taken for FILE and its first argument for the server ('pdi: -c: not found in PATH').
	['comux run with FILE left out', ['comux', 'run', '--', '/usr/sbin/nginx', '-c', 'x.conf'], /^pdi: missing FILE: it comes before -- \(usage: pdi comux run FILE -- SERVER \[ARGS...\]\)\n$/],
	['comux run --fork with FILE left out', ['comux', 'run', '--fork', '--', program], /^pdi: missing FILE: it comes before -- \(usage: pdi comux run FILE -- SERVER \[ARGS...\]\)\n$/],
	['comux replay with DIR left out', ['comux', 'replay', '--', '/usr/sbin/nginx', '-c', 'x.conf'], /^pdi: missing DIR: it comes before -- \(usage: pdi comux replay DIR -- SERVER \[ARGS...\]\)\n$/],
	['comux replay without DIR', ['comux', 'replay'], /^pdi: missing required argument 'dir' \(usage: pdi comux replay DIR \[--fork\] .* -- SERVER \[ARGS...\]\)\n$/],
	['attach without PID', ['attach'], /^pdi: missing required argument 'pid' \(usage: pdi attach PID -c CONFIG .*\)\n$/],
	['comux replay with an unknown option', ['comux', 'replay', '--bogus', 'dir', '--', program], /^pdi: unknown option '--bogus'\n$/],
	['comux config with an unknown option', ['comux', 'config', '--bogus'], /^pdi: unknown option '--bogus'\n$/],
	// Options of --chunk arguments that a --json description ignored (a file without the AWAIT_RESPONSE asked for).
	['comux build with --json and --await', ['comux', 'build', '--json', 'desc.json', '--await'], /^pdi: --await: for --chunk arguments only; a --json description says it itself \(awaitResponse, noShutdown, numConns\)\n$/],
	['comux build with --json, --no-shutdown and --num-conns', ['comux', 'build', '--json', 'desc.json', '--no-shutdown', '--num-conns', '2'], /^pdi: --no-shutdown, --num-conns: for --chunk arguments only; /],
	// An empty file name (an unset shell variable): before, ': no such file or directory', or the working directory.
	['trace with an empty -o', ['trace', '-o', '', '--', program], /^pdi: --output: the file name is empty\n$/],
	['run with an empty -c', ['run', '-c', '', '--', program], /^pdi: --config: the file name is empty\n$/],
	['inspect with an empty -o', ['inspect', '-o', '', '--', program], /^pdi: --output: the file name is empty\n$/],
	['comux run with an empty --log', ['comux', 'run', 'x.comux', '--log', '', '--', program], /^pdi: --log: the file name is empty\n$/],
	['config check of an empty file name', ['config', 'check', ''], /^pdi: the file name is empty\n$/],
	['comux replay of an empty directory name', ['comux', 'replay', '', '--', program], /^pdi: the directory name is empty\n$/],
	// An option's value left out before --: it took -- for its value (a trace written to a file named --, a config read from one).
	['trace with -o followed by --', ['trace', '-o', '--', program], /^pdi: --output: missing file \(the next argument, --, ends the options\)\n$/],
	['run with -c followed by --', ['run', '-c', '--', program], /^pdi: --config: missing file \(the next argument, --, ends the options\)\n$/],
	['inspect with --imports followed by --', ['inspect', '--imports', '--', program], /^pdi: --imports: missing object \(the next argument, --, ends the options\)\n$/],
	['trace with -e followed by --', ['trace', '-e', '--', program], /^pdi: --functions: missing list \(the next argument, --, ends the options\)\n$/],
	['comux run with --log followed by --', ['comux', 'run', 'x.comux', '--log', '--', program], /^pdi: --log: missing file \(the next argument, --, ends the options\)\n$/],
];

for (const [what, args, expected] of argumentErrors) {
	test(`${what} is one line on stderr and exit status 2`, async t => {
		t.regex(await oneLineFailure(t, args), expected);
	});
}

test('pdi help comux run and pdi comux help run print the help of comux run; an unknown name after help is an unknown command', async t => {
	// Before: 'pdi help comux run' printed the help of 'pdi comux', and 'pdi help nosuch' said a command was missing.
	for (const args of [['help', 'comux', 'run'], ['comux', 'help', 'run']]) {
		const help = await pdi(args);
		t.is(help.code, 0, help.stderr);
		t.regex(help.stdout, /^Usage: pdi comux run FILE /, args.join(' '));
	}

	t.is(await oneLineFailure(t, ['help', 'inpect']), 'pdi: unknown command \'inpect\' (did you mean inspect?)\n');
	t.is(await oneLineFailure(t, ['comux', 'help', 'nosuch']), 'pdi: unknown command \'nosuch\' of pdi comux (show, build, run, replay, config)\n');
	t.is(await oneLineFailure(t, ['help', 'comux', 'nosuch']), 'pdi: unknown command \'nosuch\' of pdi comux (show, build, run, replay, config)\n');
});

test('pdi help --help prints pdi\'s help, and pdi help config --help the help of config', async t => {
	const help = await pdi(['help', '--help']);
	t.is(help.code, 0, help.stderr);
	t.regex(help.stdout, /^Usage: pdi \[options\] \[command\]\n/);
	const config = await pdi(['help', 'config', '--help']);
	t.is(config.code, 0, config.stderr);
	t.regex(config.stdout, /^Usage: pdi config \[options\] \[command\]\n/);
});

test('pdi help help prints the help of pdi, which lists help [command], and pdi config help help that of config', async t => {
	// Before: 'pdi: unknown command 'help'', status 2.
	for (const [args, usage] of [[['help', 'help'], /^Usage: pdi \[options\] \[command\]\n[\s\S]*\n {2}help \[command\]/], [['config', 'help', 'help'], /^Usage: pdi config \[options\] \[command\]\n/], [['help', 'config', 'help'], /^Usage: pdi config \[options\] \[command\]\n/]] as const) {
		const help = await pdi([...args]);
		t.deepEqual([help.code, help.stderr], [0, ''], args.join(' '));
		t.regex(help.stdout, usage, args.join(' '));
	}
});

test('pdi run of a directory says "is a directory"', async t => {
	t.is(await oneLineFailure(t, ['run', '--', '/tmp']), 'pdi: /tmp: is a directory\n');
	t.is(await oneLineFailure(t, ['run', '--', aDirectory]), `pdi: ${aDirectory}: is a directory\n`);
});

test('every command that cannot use a path says `pdi: PATH: reason` in the same words', async t => {
	const missingDirectory = path.join(scratch, 'no-such-directory');
	const config = path.join(scratch, 'ok.yaml');
	writeFileSync(config, 'backends:\n  - {name: noop, library: noop}\n');
	const directoryCases = [
		['config', 'check', aDirectory],
		['config', 'compile', config, '-o', aDirectory],
		['run', '-c', aDirectory, '--', program],
		['run', '--', aDirectory],
		['inspect', '-o', aDirectory, '--', program],
		['trace', '-o', aDirectory, '--', program],
		['comux', 'show', aDirectory],
		['comux', 'build', '--json', aDirectory],
		['comux', 'build', '--chunk', '0:a', '-o', aDirectory],
		['comux', 'config', '-o', aDirectory],
		['comux', 'run', aDirectory, '--', program],
	];
	for (const args of directoryCases) {
		t.is(await oneLineFailure(t, args), `pdi: ${aDirectory}: is a directory\n`, args.join(' '));
	}

	const missingCases: Array<[string[], string]> = [
		[['config', 'check', path.join(missingDirectory, 'x.yaml')], path.join(missingDirectory, 'x.yaml')],
		[['config', 'compile', config, '-o', path.join(missingDirectory, 'x.cfg')], path.join(missingDirectory, 'x.cfg')],
		[['inspect', '-o', path.join(missingDirectory, 'x.txt'), '--', program], path.join(missingDirectory, 'x.txt')],
		[['comux', 'show', path.join(missingDirectory, 'x.comux')], path.join(missingDirectory, 'x.comux')],
		[['comux', 'build', '--chunk', '0:a', '-o', path.join(missingDirectory, 'x.comux')], path.join(missingDirectory, 'x.comux')],
		[['comux', 'config', '-o', path.join(missingDirectory, 'comux.cfg')], path.join(missingDirectory, 'comux.cfg')],
		[['comux', 'replay', missingDirectory, '--', program], missingDirectory],
	];
	for (const [args, file] of missingCases) {
		t.is(await oneLineFailure(t, args), `pdi: ${file}: no such file or directory\n`, args.join(' '));
	}
});

test('a file name with a trailing slash names a directory, as open() reads it: refused, and nothing written without the slash', async t => {
	const directory = path.join(scratch, 'trailing-slash');
	mkdirSync(directory);
	const config = path.join(directory, 'ok.yaml');
	writeFileSync(config, 'rules: []\n');
	// An existing file: its name with a slash is no path (ENOTDIR), not the file.
	for (const args of [['config', 'check', `${config}/`], ['config', 'compile', `${config}/`], ['run', '-c', `${config}/`, '--', program]]) {
		t.is(await oneLineFailure(t, args), `pdi: ${config}/: not a directory\n`, args.join(' '));
	}

	// A new file: `-o out/` makes no file `out` (the shell's `> out/` says "Is a directory").
	const outputs: Array<[string, string[]]> = [
		['trace.txt', ['trace', '-o', '%', '--', program]],
		['comux.cfg', ['comux', 'config', '--afl', '-o', '%']],
		['backend.log', ['comux', 'run', 'x.comux', '--log', '%', '--', program]],
		['inspect.txt', ['inspect', '-o', '%', '--', program]],
	];
	for (const [name, args] of outputs) {
		const file = path.join(directory, name);
		const withSlash = args.map(argument => argument === '%' ? `${file}/` : argument);
		// The backend's log is named as --log's, which it is, not as a comux FILE would be.
		t.is(await oneLineFailure(t, withSlash), `pdi: ${name === 'backend.log' ? '--log ' : ''}${file}/: is a directory\n`, withSlash.join(' '));
		t.false(existsSync(file), withSlash.join(' '));
	}

	t.is(await oneLineFailure(t, ['trace', '-o', `${config}/`, '--', program]), `pdi: ${config}/: not a directory\n`);
});

test('pdi run, inspect and trace of a missing program name the path and the reason', async t => {
	for (const command of ['run', 'inspect', 'trace']) {
		t.is(await oneLineFailure(t, [command, '--', '/no/such/program']), 'pdi: /no/such/program: no such file or directory\n');
		t.is(await oneLineFailure(t, [command, '--', 'no-such-program-pdi']), 'pdi: no-such-program-pdi: not found in PATH\n');
	}
});

test('pdi run of a file without execute permission says so', async t => {
	t.is(await oneLineFailure(t, ['run', '--', notExecutable]), `pdi: ${notExecutable}: permission denied (not executable)\n`);
	t.is(await oneLineFailure(t, ['inspect', '--', notExecutable]), `pdi: ${notExecutable}: permission denied (not executable)\n`);
});

test('a script whose interpreter is missing, or a program whose dynamic loader is missing, is one line naming the interpreter, not the program', async t => {
	const script = path.join(scratch, 'no interpreter.sh');
	writeFileSync(script, '#!/no/such/interpreter -x\nexit 0\n', {mode: 0o755});
	const notRunnable = path.join(scratch, 'interpreter not executable.sh');
	writeFileSync(notRunnable, '#!/etc/passwd\n', {mode: 0o755});
	// The same program with another PT_INTERP of the same length (a musl program on a glibc system, say).
	const noLoader = path.join(scratch, 'no loader');
	const loader = Buffer.from('/lib64/ld-linux-x86-64.so.2');
	const image = readFileSync(program);
	image.set(Buffer.from('/lib64/ld-nope--x86-64.so.2'), image.indexOf(loader));
	writeFileSync(noLoader, image, {mode: 0o755});
	const input = path.join(scratch, 'one.comux');
	writeFileSync(input, Buffer.from(execFileSync(process.execPath, [cliPath, 'comux', 'build', '--chunk', '0:a'])));
	for (const command of [['run'], ['inspect'], ['trace'], ['comux', 'run', input]]) {
		// Before, Node's spawn said ENOENT for a file that is there: 'pdi: SCRIPT: could not be started: no such file or directory'.
		t.is(await oneLineFailure(t, [...command, '--', script]), `pdi: ${script}: its interpreter /no/such/interpreter: no such file or directory\n`, command.join(' '));
		t.is(await oneLineFailure(t, [...command, '--', notRunnable]), `pdi: ${notRunnable}: its interpreter /etc/passwd: permission denied (not executable)\n`, command.join(' '));
		t.is(await oneLineFailure(t, [...command, '--', noLoader]), `pdi: ${noLoader}: its dynamic loader /lib64/ld-nope--x86-64.so.2: no such file or directory\n`, command.join(' '));
	}
});

test('a program that may be executed but not read (mode 0711) runs under pdi as it runs in a shell, with its interpositions', async t => {
	const directory = path.join(scratch, 'execute-only');
	mkdirSync(directory);
	chmodSync(scratch, 0o755);
	const executeOnly = path.join(directory, 'fixprog');
	writeFileSync(executeOnly, readFileSync(program), {mode: 0o711});
	const config = path.join(directory, 'fix.cfg');
	writeFileSync(config, `backend fix = ${textValue(fixBackend)}\nrelink $main fix_add fix wrap_fix_add\n`, {mode: 0o644});
	// Owned by another user: root without its read override, as any user, may execute it but not read it.
	chownSync(executeOnly, otherUser.uid, otherUser.gid);
	// The fixture finds libfix.so through $ORIGIN, which this copy is not next to.
	const env = {...process.env, LD_LIBRARY_PATH: path.dirname(program)};
	const asNobody = async (args: string[]) => pdiWithoutReadOverride(args, {env});
	const bare = await asNobody(['run', '--', executeOnly]);
	// Before, pdi read the file to check it and refused it: 'pdi: DIR/fixprog: permission denied'.
	t.is(bare.stderr, '');
	t.is(bare.code, 0);
	t.is(values(bare.stdout).get('fix_add'), '5');
	const relinked = await asNobody(['run', '-c', config, '--', executeOnly]);
	t.is(relinked.code, 0, relinked.stderr);
	t.is(values(relinked.stdout).get('fix_add'), '105');
});

test('a config in a directory whose name holds a newline compiles to a config that runs, and its errors are one line (the newline written \\x0a, as the core writes it)', async t => {
	const directory = path.join(scratch, 'new\nline');
	mkdirSync(directory);
	const config = path.join(directory, 'fix.yaml');
	writeFileSync(config, `backends: [{name: fix, library: ${fixBackend}}]\nrules:\n  - relink: {object: $main, function: fix_add, backend: fix, wrapper: wrap_fix_add}\n`);
	const compiled = path.join(directory, 'fix.cfg');
	const compile = await pdi(['config', 'compile', config, '-o', compiled]);
	t.is(compile.code, 0, compile.stderr);
	// Before, the name's newline ended each '#@origin' comment and the rest was read as a command: "unknown command 'line/fix.yaml:1:12'".
	const run = await pdi(['run', '-c', compiled, '--', program]);
	t.is(run.code, 0, run.stderr);
	t.is(values(run.stdout).get('fix_add'), '105');
	const byHand = await runPreloaded(program, [], compiled);
	t.is(byHand.code, 0, byHand.stderr);
	t.is(values(byHand.stdout).get('fix_add'), '105');
	const bad = path.join(directory, 'bad.yaml');
	const rule = '  - relink: {object: $main, function: fix_add, backend: nobody, wrapper: w}';
	writeFileSync(bad, `rules:\n${rule}\n`);
	const shown = bad.replace('\n', '\\x0a');
	t.is(await oneLineFailure(t, ['run', '-c', bad, '--', program]), `pdi: ${shown}:2:${rule.indexOf('nobody') + 1}: unknown backend 'nobody'\n`);
	t.is(await oneLineFailure(t, ['run', '--', path.join(directory, 'missing')]), `pdi: ${path.join(directory, 'missing').replace('\n', '\\x0a')}: no such file or directory\n`);
});

test('pdi started in a working directory that was removed says so in one line, not \'uv_cwd: no such file or directory\'', async t => {
	const removed = path.join(scratch, 'removed-working-directory');
	const input = path.join(scratch, 'removed-working-directory.comux');
	writeFileSync(input, Buffer.from(execFileSync(process.execPath, [cliPath, 'comux', 'build', '--chunk', '0:a'])));
	for (const args of [['run', '--', '/bin/true'], ['trace', '--', '/bin/true'], ['config', 'check', 'x.yaml'], ['comux', 'run', input, '--', '/bin/true']]) {
		const result = await new Promise<{code: number; stdout: string; stderr: string}>(resolve => {
			execFile('/bin/sh', ['-c', 'mkdir -p "$1" && cd "$1" && rmdir "$1" && shift && exec "$@"', 'sh', removed, process.execPath, cliPath, ...args], (error, stdout, stderr) => {
				resolve({code: error ? Number(error.code) : 0, stdout, stderr});
			});
		});
		t.is(result.stderr, 'pdi: the working directory: no such file or directory (it was removed: cd to a directory that exists)\n', args.join(' '));
		t.is(result.code, 2, args.join(' '));
	}
});

test('a program found in PATH without execute permission is refused as the shell refuses it, not as missing', async t => {
	const bin = path.join(scratch, 'path-bin');
	mkdirSync(bin);
	writeFileSync(path.join(bin, 'pdi-not-executable'), '#!/bin/sh\nexit 0\n', {mode: 0o644});
	const env = {PATH: `${bin}:${process.env['PATH'] ?? '/usr/bin:/bin'}`};
	// Before: 'pdi: pdi-not-executable: not found in PATH' (bash: 'Permission denied', status 126).
	for (const command of ['run', 'inspect', 'trace']) {
		t.is(await oneLineFailure(t, [command, '--', 'pdi-not-executable'], env), `pdi: pdi-not-executable: permission denied (${path.join(bin, 'pdi-not-executable')} is not executable)\n`, command);
	}
});

test('pdi run of a path through a regular file says "not a directory"', async t => {
	t.is(await oneLineFailure(t, ['run', '--', `${notExecutable}/x`]), `pdi: ${notExecutable}/x: not a directory\n`);
});

test('a program named with a trailing slash is "not a directory" from run, trace and inspect, as execve says, where pdi ran the program without it', async t => {
	for (const command of ['run', 'inspect', 'trace']) {
		t.is(await oneLineFailure(t, [command, '--', `${program}/`]), `pdi: ${program}/: not a directory\n`, command);
		t.is(await oneLineFailure(t, [command, '--', `${path.dirname(program)}/`]), `pdi: ${path.dirname(program)}/: is a directory\n`, command);
	}
});

test('pdi inspect -o into a missing directory names the path before running anything', async t => {
	t.is(await oneLineFailure(t, ['inspect', '-o', '/nonexistent/x', '--', program]), 'pdi: /nonexistent/x: no such file or directory\n');
	t.is(await oneLineFailure(t, ['inspect', '-o', aDirectory, '--', program]), `pdi: ${aDirectory}: is a directory\n`);
});

test('pdi trace -o into a missing directory names the path, not the trace backend', async t => {
	t.is(await oneLineFailure(t, ['trace', '-o', '/nonexistent/x', '--', program]), 'pdi: /nonexistent/x: no such file or directory\n');
	t.is(await oneLineFailure(t, ['trace', '-o', `${notExecutable}/x`, '--', program]), `pdi: ${notExecutable}/x: not a directory\n`);
});

test('a write that fails after the checks (inspect -o /dev/full) is still one line naming the path', async t => {
	t.is(await oneLineFailure(t, ['inspect', '-o', '/dev/full', '--', program]), 'pdi: /dev/full: no space left on device\n');
});

test('a standard output that cannot be written (>/dev/full) is one line naming it and status 2, never a stack trace', async t => {
	const config = path.join(scratch, 'full.yaml');
	writeFileSync(config, 'rules: []\n');
	const commands = [['--version'], ['--help'], ['paths'], ['config', 'schema'], ['config', 'check', config], ['inspect', '--', program], ['comux', 'build', '--chunk', '0:x']];
	for (const args of commands) {
		const run = await new Promise<{code: number; stderr: string}>(resolve => {
			execFile('/bin/sh', ['-c', '"$@" >/dev/full', 'sh', process.execPath, cliPath, ...args], (error, _stdout, stderr) => {
				resolve({code: error ? Number(error.code) : 0, stderr});
			});
		});
		t.is(run.code, 2, `pdi ${args.join(' ')}: ${run.stderr}`);
		t.is(run.stderr, 'pdi: standard output: no space left on device\n', `pdi ${args.join(' ')}`);
	}
});

test('pdi run -c with a missing config file is one line naming it', async t => {
	const missing = path.join(scratch, 'missing.yaml');
	t.regex(await oneLineFailure(t, ['run', '-c', missing, '--', program]), new RegExp(`^pdi: ${missing.replaceAll(/[.*+?^${}()|[\]\\]/g, '\\$&')}: .*no such file or directory\\n$`));
});

test('a config larger than 16 MiB (a big file, /dev/zero, a pipe that writes more) is one line, from pdi and from the core by hand', async t => {
	const big = path.join(scratch, 'big.cfg');
	execFileSync('truncate', ['-s', '17M', big]);
	for (const file of [big, '/dev/zero']) {
		t.is(await oneLineFailure(t, ['run', '-c', file, '--', program]), `pdi: ${file}: larger than 16 MiB, too large for a config\n`);
		t.is(await oneLineFailure(t, ['config', 'check', file]), `pdi: ${file}: larger than 16 MiB, too large for a config\n`);
	}

	const piped = execFileSync('sh', ['-c', `head -c 20000000 /dev/zero | ${shellWord(process.execPath)} ${shellWord(cliPath)} config check /dev/stdin; echo "status $?"`], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']});
	t.is(piped, 'status 2\n');
	const byHand = await runPreloaded(program, [], big);
	t.is(byHand.code, 2);
	t.regex(byHand.stderr, /^pdi: cannot read '.*big\.cfg': larger than 16 MiB, too large for a config$/m);
});

test('pdi run with a TMPDIR that does not exist names it in one line', async t => {
	const config = path.join(scratch, 'noop.yaml');
	writeFileSync(config, 'backends:\n  - {name: noop, library: noop}\n');
	t.is(await oneLineFailure(t, ['run', '-c', config, '--', program], {TMPDIR: '/nonexistent-pdi-tmp'}),
		'pdi: /nonexistent-pdi-tmp: cannot make a temporary directory there: no such file or directory (set TMPDIR to a writable directory)\n');
});

test('pdi trace to an output whose writes fail says so in one line naming the file and ends with status 2, in text, --json and -c', async t => {
	for (const mode of ['--json', '-c', undefined]) {
		const run = await pdi(['trace', ...(mode ? [mode] : []), '-o', '/dev/full', '--', '/bin/ls', '/']);
		t.is(run.code, 2, `${mode}: ${run.stderr}`);
		// pdi's words, as inspect -o /dev/full says them: not the C library's capitalised 'No space left on device'.
		t.regex(run.stderr, /^pdi: trace: writing \/dev\/full failed: no space left on device$/m, mode);
		t.is(run.stderr.split('\n').filter(line => line.startsWith('pdi: ')).length, 1, `${mode}: once, by pdi, not by each process`);
	}

	for (const mode of ['--json', '-c', undefined]) {
		// /proc/version opens for writing and fails every write with EIO.
		const run = await pdi(['trace', ...(mode ? [mode] : []), '-o', '/proc/version', '--', '/bin/ls', '/']);
		t.is(run.code, 2, `${mode}: ${run.stderr}`);
		t.regex(run.stderr, /^pdi: trace: writing \/proc\/version failed: input\/output error$/m, mode);
		t.notRegex(run.stderr, /writing the trace failed/, mode);
	}

	// Nothing lost: the program's own status, also when it is not 0.
	const fine = await pdi(['trace', '-o', path.join(scratch, 'fine.txt'), '--', '/bin/sh', '-c', 'ls / >/dev/null; exit 3']);
	t.is(fine.code, 3, fine.stderr);
});

test('control bytes of a config reach an error message escaped, never raw to the terminal (pdi and the core by hand)', async t => {
	const config = path.join(scratch, 'escapes.cfg');
	writeFileSync(config, '\u001B]0;title\u0007\u001B[2J\n');
	const expected = `${config}:1:1: unknown command '\\x1b]0;title\\x07\\x1b[2J'`;
	const run = await pdi(['run', '-c', config, '--', program]);
	t.is(run.code, 2);
	t.is(run.stderr, `pdi: ${expected}\n`);
	const byHand = await runPreloaded(program, [], config);
	t.is(byHand.code, 2);
	t.is(byHand.stderr, `pdi: ${expected}\n`);
});

test('a YAML or JSON config given to the core by hand (PDI_CONFIG) gets its error and a pointer to pdi config compile', async t => {
	for (const [name, text] of [['rules.yaml', 'backends:\n  - {name: c, library: count}\n'], ['rules.json', '{"rules": []}\n']] as const) {
		const config = path.join(scratch, name);
		writeFileSync(config, text);
		const byHand = await runPreloaded(program, [], config);
		t.is(byHand.code, 2);
		t.regex(byHand.stderr, new RegExp(`^pdi: ${config.replaceAll('.', '\\.')}:1:1: unknown command '[^']+' \\(the core reads the text dialect only: \`pdi run -c FILE\` reads JSON and YAML, and \`pdi config compile FILE -o FILE\\.cfg\` turns them into the text dialect\\)\\n$`));
	}
});
test('a config that is a FIFO without a writer does not hold pdi: SIGINT ends config check, run and run of merged files at once with status 130', async t => {
	const fifo = path.join(scratchDirectory('pdi-cli-fifo-'), 'ff.cfg');
	execFileSync('mkfifo', [fifo]);
	const yaml = path.join(scratch, 'backends.yaml');
	writeFileSync(yaml, `backends: [{name: fix, library: ${fixBackend}}]\n`);
	for (const args of [['config', 'check', fifo], ['run', '-c', fifo, '--', program], ['run', '-c', yaml, '-c', fifo, '--', program]]) {
		const started = startPdi(args);
		// At least a second, and until pdi waits for the FIFO's writer: a loaded machine starts Node slowly.
		for (const start = Date.now(); (Date.now() - start < 1000 || !waitsForWriter(started.child.pid!, fifo)) && Date.now() - start < 30_000;) {
			await new Promise(resolve => {
				setTimeout(resolve, 100);
			});
		}

		const sent = Date.now();
		started.child.kill('SIGINT');
		// A pdi held by the FIFO never ends by itself; one that ends may take seconds on a loaded machine (4.4 s once).
		const timer = setTimeout(() => started.child.kill('SIGKILL'), 20_000);
		const code = await started.exited;
		clearTimeout(timer);
		t.is(code, 130, args.join(' '));
		t.true(Date.now() - sent < 15_000, `${args.join(' ')}: ended ${Date.now() - sent} ms after SIGINT`);
		t.is(started.stderr(), '', args.join(' '));
	}
});

test('a YAML or JSON config whose name has no extension (pdi run -c <(gen-config), a file) is told by its first line; one with another extension stays the text dialect', async t => {
	const yaml = `# generated\nbackends: [{name: fix, library: ${fixBackend}}]\nrules:\n  - relink: {object: $main, function: fix_add, backend: fix, wrapper: wrap_fix_add}\n`;
	const json = JSON.stringify({backends: [{name: 'fix', library: fixBackend}], rules: [{relink: {object: '$main', function: 'fix_add', backend: 'fix', wrapper: 'wrap_fix_add'}}]});
	const shell = (command: string) => execFileSync('bash', ['-c', command], {encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'pipe']});
	// Before: 'pdi: /dev/fd/63:1:1: unknown command 'backends:'' (the text dialect read every name without .json, .yaml or .yml).
	for (const text of [yaml, `---\n${yaml}`, json]) {
		const substituted = shell(`${shellWord(process.execPath)} ${shellWord(cliPath)} run -c <(printf %s ${shellWord(text)}) -- ${shellWord(program)}`);
		t.is(values(substituted).get('fix_add'), '105', text);
		const file = path.join(scratch, 'rules');
		writeFileSync(file, text);
		const result = await pdi(['run', '-c', file, '--', program]);
		t.is(result.code, 0, result.stderr);
		t.is(values(result.stdout).get('fix_add'), '105', text);
	}

	const other = path.join(scratch, 'rules.conf');
	writeFileSync(other, yaml);
	t.is(await oneLineFailure(t, ['run', '-c', other, '--', program]), `pdi: ${other}:2:1: unknown command 'backends:' (its first line starts JSON or YAML, which pdi run -c and pdi config check read in a file named .json, .yaml or .yml, and the core never: \`pdi config compile FILE.yaml -o FILE.cfg\` turns it into the text dialect)\n`);
});

test('an -o that is a named pipe without a reader does not hold pdi: SIGINT ends inspect, config compile, comux build and comux config with 130; with a reader they write it whole', async t => {
	const fifo = path.join(scratchDirectory('pdi-cli-out-fifo-'), 'out');
	execFileSync('mkfifo', [fifo]);
	const config = path.join(scratch, 'fifo-out.cfg');
	writeFileSync(config, `backend fix = ${textValue(fixBackend)}\n`);
	const commands = [['inspect', '-o', fifo, '--', program], ['config', 'compile', config, '-o', fifo], ['comux', 'build', '--chunk', '0:a', '-o', fifo], ['comux', 'config', '-o', fifo]];
	for (const args of commands) {
		// Before, a blocking open() in the main thread waited for a reader for ever, deaf to SIGINT and SIGTERM.
		const started = startPdi(args);
		await new Promise(resolve => {
			setTimeout(resolve, 1500);
		});
		started.child.kill('SIGINT');
		// 130 from pdi's handler; on a loaded machine the signal may come while Node still starts, before pdi has a
		// handler, and Node's default ends it by the signal: either way nothing waits for a reader.
		const code = await started.exited;
		t.true(code === 130 || started.child.signalCode === 'SIGINT', `${args.join(' ')}: exit ${code} ${started.child.signalCode}: ${started.stderr()}`);
	}

	const compiled = await pdi(['config', 'compile', config]);
	t.is(compiled.code, 0, compiled.stderr);
	// The reader runs beside the test, not in it: a pdi that fails before it opens the FIFO leaves the reader
	// waiting for a writer, which is then ended, instead of the test waiting with it for ever.
	const reader = spawn('cat', [fifo], {stdio: ['ignore', 'pipe', 'ignore']});
	let read = '';
	reader.stdout.setEncoding('utf8').on('data', (chunk: string) => {
		read += chunk;
	});
	const readerClosed = once(reader, 'close');
	const written = await pdi(['config', 'compile', config, '-o', fifo]);
	const readerTimer = setTimeout(() => reader.kill(), written.code === 0 ? 30_000 : 0);
	await readerClosed;
	clearTimeout(readerTimer);
	t.is(written.code, 0, written.stderr);
	t.is(read, compiled.stdout);
});

test('Ctrl-C while pdi inspect --run -o FIFO waits for a reader ends pdi with 130 once the program, held before main, has ended, instead of leaving it waiting', async t => {
	const directory = scratchDirectory('pdi-cli-inspect-sigint-');
	const fifo = path.join(directory, 'out');
	const started = path.join(directory, 'started');
	execFileSync('mkfifo', [fifo]);
	const token = `pdi-inspect-sigint-${process.pid}`;
	const inspect = startPdi(['inspect', '--run', '-o', fifo, '--', '/bin/sh', '-c', `: > ${shellWord(started)}; exec sleep 30`, token]);
	try {
		// The report is shown before main runs: the program waits for the FIFO's reader with pdi.
		for (let tries = 0; processesMentioning(token).length < 2 && tries < 200; tries++) {
			await new Promise(resolve => {
				setTimeout(resolve, 50);
			});
		}

		await new Promise(resolve => {
			setTimeout(resolve, 500);
		});
		t.false(existsSync(started), 'main waits for the report');
		inspect.child.kill('SIGINT');
		const status = await Promise.race([inspect.exited, new Promise(resolve => {
			setTimeout(resolve, 20_000, 'still running');
		})]);
		t.is(status, 130, inspect.stderr());
		t.false(existsSync(started));
		t.deepEqual(processesMentioning(token), []);
	} finally {
		inspect.child.kill('SIGKILL');
	}
});

test('a config read from a FIFO or a pipe (pdi run -c <(gen-config)) is read when its writer writes, and works', async t => {
	const fifo = path.join(scratchDirectory('pdi-cli-fifo-'), 'rules.cfg');
	execFileSync('mkfifo', [fifo]);
	const run = pdi(['run', '-c', fifo, '--', program]);
	// The writer comes after pdi has started waiting, as a generator that takes its time would.
	await new Promise(resolve => {
		setTimeout(resolve, 500);
	});
	await writeFile(fifo, `backend fix = ${textValue(fixBackend)}\nrelink $main fix_add fix wrap_fix_add\n`);
	const result = await run;
	t.is(result.code, 0, result.stderr);
	t.is(values(result.stdout).get('fix_add'), '105');
	// Process substitution: a pipe named /dev/fd/63 whose writer may already have written and gone, or write nothing.
	const shell = (command: string) => execFileSync('bash', ['-c', command], {encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'pipe']});
	const rules = `backend fix = ${textValue(fixBackend)}\nrelink $main fix_add fix wrap_fix_add\n`;
	const substituted = shell(`${shellWord(process.execPath)} ${shellWord(cliPath)} run -c <(printf %s ${shellWord(rules)}) -- ${shellWord(program)}`);
	t.is(values(substituted).get('fix_add'), '105');
	t.regex(shell(`${shellWord(process.execPath)} ${shellWord(cliPath)} config check <(true)`), /"normalized": true/);
});

test('a text config whose NUL byte comes before a byte that is not UTF-8 is refused at the NUL by pdi config check, as by the core', async t => {
	// Before: pdi config check named the later byte (1:16), the core the NUL (1:4).
	const file = path.join(scratch, 'nul-first.cfg');
	writeFileSync(file, Buffer.from('max\0_threads = \xFF\n', 'latin1'));
	const expected = `pdi: ${file}:1:4: a NUL byte in a text config\n`;
	const checked = await pdi(['config', 'check', file]);
	t.deepEqual([checked.code, checked.stderr], [2, expected]);
	const core = await runPreloaded(program, [], file);
	t.deepEqual([core.code, core.stderr], [2, expected]);
});

test('a config that is not UTF-8 text is refused at its first bad byte, in every spelling, instead of read with U+FFFD in its place', async t => {
	// Before: 'expected a mapping, got "\u0000\u0001\u0002garbage��"', and a text-dialect path with a Latin-1 byte named another file.
	for (const [name, bytes, place, byte] of [
		['latin1.yaml', Buffer.from('backends: []\nrules: [\xFF\xFE]\n', 'latin1'), '2:9', 'ff'],
		['garbage.json', Buffer.from([0, 1, 2, 0x67, 0xFF, 0xFE]), '1:5', 'ff'],
		['latin1.cfg', Buffer.from('# caf\xE9\nmax_threads = 4\n', 'latin1'), '1:6', 'e9'],
		['cut.yaml', Buffer.from([0x72, 0x75, 0x6C, 0x65, 0x73, 0x3A, 0x20, 0x5B, 0x5D, 0x0A, 0xC3]), '2:1', 'c3'],
	] as const) {
		const file = path.join(scratch, name);
		writeFileSync(file, bytes);
		const result = await pdi(['config', 'check', file]);
		t.deepEqual([result.code, result.stderr], [2, `pdi: ${file}:${place}: not UTF-8 text (byte 0x${byte}): a config is UTF-8\n`], name);
	}
});
