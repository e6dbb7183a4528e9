import {existsSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {pdi} from './helpers/cli.js';
import {scratchDirectory} from './helpers/files.js';

const scratch = scratchDirectory('pdi-repeated-options-');
const first = path.join(scratch, 'first.out');
const second = path.join(scratch, 'second.out');
const rules = path.join(scratch, 'rules.cfg');
writeFileSync(rules, 'backend c = count\nrelink $main getpid c count_getpid\n');

// Each single-valued option of each command, given twice: one line naming it, status 2, and nothing done.
const twice: Array<[string, string[]]> = [
	['--imports', ['inspect', '--imports', 'libc.so.6', '--imports', '$main', '--', '/bin/true']],
	['--output', ['inspect', '-o', first, '-o', second, '--', '/bin/true']],
	['--output', ['trace', '-o', first, '--output=' + second, '--', '/bin/true']],
	['--string-size', ['trace', '-s', '10', '-s', '20', '--', '/bin/true']],
	['--detach-after', ['attach', '--detach-after', '1', '--detach-after', '2', '-c', rules, String(process.pid)]],
	['--output', ['config', 'compile', '-o', first, '-o', second, rules]],
	['--timeout', ['comux', 'replay', scratch, '--timeout', '5', '--timeout', '6', '--', '/bin/true']],
	['--log', ['comux', 'run', '-', '--log', first, '--log', second, '--', '/bin/true']],
	['--num-conns', ['comux', 'build', '--chunk', '0:a', '--num-conns', '1', '--num-conns', '2']],
];

test('a single-valued option given twice is refused by every command, naming the option, before anything runs', async t => {
	for (const [option, args] of twice) {
		const run = await pdi(args);
		t.is(run.stderr, `pdi: option ${option} given twice\n`, args.join(' '));
		t.is(run.code, 2, args.join(' '));
		t.is(run.stdout, '', args.join(' '));
	}

	t.false(existsSync(first));
	t.false(existsSync(second));
});

test('the repeatable options and flags still take several occurrences', async t => {
	const configs = await pdi(['inspect', '-c', rules, '--config', rules, '--imports', '$main', '--', '/bin/true']);
	t.is(configs.code, 0, configs.stderr);
	const objects = await pdi(['trace', '--object', '$main', '--object', 'libc.so.6', '-e', 'getpid', '--', '/bin/true']);
	t.is(objects.code, 0, objects.stderr);
	// -e lists add up, as one comma-separated list: both functions are traced.
	const functions = await pdi(['trace', '-e', 'getpid', '-e', 'open*,close', '--', 'cat', '/dev/null']);
	t.is(functions.code, 0, functions.stderr);
	t.regex(functions.stderr, /cat!open[\w]*\("\/dev\/null", O_RDONLY\) = 3\n/);
	t.regex(functions.stderr, /cat!close\(3\) = 0\n/);
	t.regex(functions.stderr, /getpid: process \d+ has no call site of it/);
	const verbose = await pdi(['run', '-v', '-v', '-c', rules, '--', '/bin/true']);
	t.is(verbose.code, 0, verbose.stderr);
	const built = path.join(scratch, 'built.comux');
	const chunks = await pdi(['comux', 'build', '--chunk', '0:a', '--chunk', '1:b', '-o', built]);
	t.is(chunks.code, 0, chunks.stderr);
	t.true(existsSync(built));
	const flags = await pdi(['inspect', '--json', '--json', '--imports', '$main', '--', '/bin/true']);
	t.is(flags.code, 0, flags.stderr);
	t.notThrows(() => JSON.parse(flags.stdout) as unknown);
});
