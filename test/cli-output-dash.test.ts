import {existsSync, readdirSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {pdi} from './helpers/cli.js';
import {scratchDirectory} from './helpers/files.js';
import {fixtures} from './helpers/preload.js';

const program = path.join(fixtures, 'now-pie/fixprog');
const scratch = scratchDirectory('pdi-output-dash-');
const config = path.join(scratch, 'empty.yaml');
writeFileSync(config, 'rules: []\n');

test('-o - writes to standard output, as - reads standard input, and makes no file named -', async t => {
	const trace = await pdi(['trace', '-o', '-', '-e', 'fix_add', '--', program], {cwd: scratch});
	t.is(trace.code, 0, trace.stderr);
	t.regex(trace.stdout, /fixprog!fix_add\(/);
	t.notRegex(trace.stderr, /fixprog!fix_add\(/);

	const summary = await pdi(['trace', '-c', '-o', '-', '--', program], {cwd: scratch});
	t.is(summary.code, 0, summary.stderr);
	t.regex(summary.stdout, /^total +\d+/m);

	const inspect = await pdi(['inspect', '-o', '-', '--', program], {cwd: scratch});
	t.is(inspect.code, 0, inspect.stderr);
	t.regex(inspect.stdout, /^process \d+ /);

	const compiled = await pdi(['config', 'compile', config, '-o', '-'], {cwd: scratch});
	t.is(compiled.code, 0, compiled.stderr);
	t.regex(compiled.stdout, /^#/);

	const built = await pdi(['comux', 'build', '--chunk', '0:a', '-o', '-'], {cwd: scratch});
	t.is(built.code, 0, built.stderr);
	t.true(built.stdout.startsWith('comux!!!'));

	const comuxConfig = await pdi(['comux', 'config', '-o', '-'], {cwd: scratch});
	t.is(comuxConfig.code, 0, comuxConfig.stderr);
	t.regex(comuxConfig.stdout, /comux_accept/);

	t.false(existsSync(path.join(scratch, '-')));
});

test('comux config --afl -o - is refused: PDI_CONFIG must name a file', async t => {
	const afl = await pdi(['comux', 'config', '--afl', '-o', '-'], {cwd: scratch});
	t.is(afl.code, 2);
	t.is(afl.stdout, '');
	t.is(afl.stderr, 'pdi: -o -: with --afl the config goes to a file that PDI_CONFIG names, not to stdout (leave out --afl to print it)\n');
	t.deepEqual(readdirSync(scratch).filter(name => name === '-'), []);
});
