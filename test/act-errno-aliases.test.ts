import {execFileSync} from 'node:child_process';
import {writeFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {normalizeConfig, parseTextDialect} from '../src/ts/config/index.js';
import {runProgram} from '../src/ts/index.js';
import {pdi} from './helpers/cli.js';
import {compileC, scratchDirectory} from './helpers/files.js';

const scratch = scratchDirectory('pdi-act-aliases-');

// `errno`: getppid's result and errno, exit status the errno; `signal`: the signal getpid's call brought, exit status its number.
const program = compileC(scratch, 'aliases', `
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t got;

static void on_signal(int number) { got = number; }

int main(int argc, char **argv) {
	if (argc > 1 && strcmp(argv[1], "signal") == 0) {
		signal(SIGCHLD, on_signal);
		getpid();
		printf("signal %d\\n", (int)got);
		return got;
	}
	errno = 0;
	long result = getppid();
	printf("%ld %d %s\\n", result, errno, strerrorname_np(errno) ? strerrorname_np(errno) : "-");
	return result == -1 ? errno : 0;
}
`);

function write(name: string, text: string): string {
	const file = path.join(scratch, name);
	writeFileSync(file, text);
	return file;
}

test('an act rule with errno EDEADLOCK makes a real program\'s call fail with EDEADLK (35), from the text dialect, YAML and TypeScript', async t => {
	const configs = [
		write('errno.cfg', 'act $main getppid return=-1 errno=EDEADLOCK\n'),
		write('errno.yaml', 'rules:\n  - act: {object: $main, function: getppid, do: {return: -1, errno: EDEADLOCK}}\n'),
	];
	for (const config of configs) {
		const run = await pdi(['run', '-c', config, '--', program]);
		// Before: 'errno=EDEADLOCK: not an errno name' (YAML: 'do.errno: not an errno name'), status 2.
		t.is(run.stderr, '', config);
		t.is(run.stdout, '-1 35 EDEADLK\n', config);
		t.is(run.code, 35, config);
	}

	const {status} = await runProgram(program, [], {stdio: 'ignore', config: {rules: [{act: {object: '$main', function: 'getppid', do: {return: -1, errno: 'EDEADLOCK'}}}]}});
	t.is(status, 35);
});

test('an act rule with signal SIGCLD or CLD raises SIGCHLD (17) in a real program, from the text dialect, YAML and TypeScript', async t => {
	for (const name of ['SIGCLD', 'CLD'] as const) {
		const configs = [
			write(`signal-${name}.cfg`, `act $main getpid signal=${name}\n`),
			write(`signal-${name}.yaml`, `rules:\n  - act: {object: $main, function: getpid, do: {signal: ${name}}}\n`),
		];
		for (const config of configs) {
			const run = await pdi(['run', '-c', config, '--', program, 'signal']);
			t.is(run.stderr, '', config);
			t.is(run.stdout, 'signal 17\n', config);
		}

		const {status} = await runProgram(program, ['signal'], {stdio: 'ignore', config: {rules: [{act: {object: '$main', function: 'getpid', do: {signal: name}}}]}});
		t.is(status, 17, name);
	}
});

test('every other name glibc\'s errno.h and signal.h give a number on Linux is accepted in both spellings, as the name of that number', t => {
	// The headers themselves, not a list of ours: a synonym glibc adds fails here until both alias tables have it.
	const macros = execFileSync('gcc', ['-E', '-dM', '-'], {input: '#include <errno.h>\n#include <signal.h>\n', encoding: 'utf8'});
	const synonyms = [...macros.matchAll(/^#define ((?:E|SIG)[A-Z\d]+) ((?:E|SIG)[A-Z\d]+)$/gm)].map(([, name, other]) => [name!, other!] as const);
	t.true(synonyms.some(([name]) => name === 'EDEADLOCK') && synonyms.some(([name]) => name === 'SIGCLD'), macros);
	for (const [name, other] of synonyms) {
		const token = name.startsWith('SIG') ? 'signal' : 'errno';
		const parts = token === 'errno' ? 'return=-1 errno=' : 'signal=';
		const spellings = token === 'signal' ? [name, name.slice(3)] : [name];
		const [canonical] = parseTextDialect(`act * f ${parts}${other}\n`).rules;
		for (const spelling of spellings) {
			const [text] = parseTextDialect(`act * f ${parts}${spelling}\n`).rules;
			const [json] = normalizeConfig({rules: [{act: {function: 'f', do: token === 'errno' ? {return: -1, errno: spelling as 'EAGAIN'} : {signal: spelling as 'SIGHUP'}}}]}).rules;
			t.deepEqual(text, canonical, spelling);
			t.deepEqual({...text, origin: undefined}, json, spelling);
		}
	}
});
