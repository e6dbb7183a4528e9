import {symlinkSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {pdi} from './helpers/cli.js';
import {scratchDirectory} from './helpers/files.js';
import {runPreloaded} from './helpers/preload.js';

const scratch = scratchDirectory('pdi-cli-escapes-');

/** Every byte of `text` below 0x20 (but the newline ending a line) or 0x7f: what must never reach a terminal raw. */
function controls(text: string): string[] {
	return [...text.replaceAll(/\n(?=.)|\n$/gs, '')].filter(character => character.codePointAt(0)! < 0x20 || character === '\u007F');
}

test('pdi trace writes the control characters of a function name it warns about as \\xHH, on one line, from the backend and from -c', async t => {
	for (const mode of [[], ['-c']]) {
		// No [ in the name: a glob is not a name that pdi reports.
		const run = await pdi(['trace', ...mode, '-e', 'no\u001Bsuch\nfunction', '--', '/bin/ls', '/']);
		t.is(run.code, 0, run.stderr);
		const lines = run.stderr.split('\n').filter(line => line.startsWith('pdi: trace: no'));
		t.is(lines.length, 1, run.stderr);
		t.true(lines[0]!.startsWith('pdi: trace: no\\x1bsuch\\x0afunction: '), lines[0]);
		t.deepEqual(controls(lines.join('\n')), []);
	}
});

test('pdi trace names an output file whose writes fail with its control characters as \\xHH, in text mode and with --json', async t => {
	// A link to /proc/version: it opens for writing and fails every write with EIO.
	const output = path.join(scratch, 'out\nput\u001B]0;title\u0007');
	symlinkSync('/proc/version', output);
	const shown = path.join(scratch, 'out\\x0aput\\x1b]0;title\\x07');
	for (const mode of [[], ['--json']]) {
		const run = await pdi(['trace', ...mode, '-o', output, '--', '/bin/ls', '/']);
		t.is(run.code, 2, run.stderr);
		t.true(run.stderr.startsWith(`pdi: trace: writing ${shown} failed: input/output error`), run.stderr);
		t.deepEqual(controls(run.stderr), [], run.stderr);
	}
});

test('pdi trace\'s warning about an --object that never loaded, and an unknown option, show control characters as \\xHH', async t => {
	// A terminal's title sequence: no '[', which an object pattern would need closed.
	const object = await pdi(['trace', '--object', 'libnosuch\u001B]0;t\u0007.so', '--', '/bin/true']);
	t.is(object.stderr, 'pdi: warning: no object matching --object \'libnosuch\\x1b]0;t\\x07.so\' was loaded, at start or later, so nothing of it was traced\n');
	const option = await pdi(['trace', '--bad\u001B[2Jopt', '--', '/bin/true']);
	t.is(option.code, 2);
	t.is(option.stderr, 'pdi: unknown option \'--bad\\x1b[2Jopt\'\n');
});

test('a config warning names its file with control characters as \\xHH', async t => {
	const file = path.join(scratch, 'con\u001B[1mfig.yaml');
	// A former option name is a warning, not an error.
	writeFileSync(file, 'options:\n  donttouchBackends: true\nbackends: [{name: count, library: count}]\nrules:\n  - relink: {object: $main, function: malloc, backend: count, wrapper: count_malloc}\n');
	const run = await pdi(['config', 'check', file]);
	t.is(run.code, 0, run.stderr);
	t.is(run.stderr, `pdi: warning: ${path.join(scratch, 'con\\x1b[1mfig.yaml')}:2:3: 'donttouchBackends' is deprecated, use 'protectBackends'\n`);
});

test('the core writes a byte of a text config that is not UTF-8 as \\xHH in its message, and well-formed UTF-8 as it is', async t => {
	const stray = path.join(scratch, 'stray.cfg');
	writeFileSync(stray, Buffer.concat([Buffer.from('backend x = noop\n'), Buffer.from([0xFF, 0xFE, 0xC3, 0x28]), Buffer.from(' foo\n')]));
	const strayRun = await runPreloaded('/bin/true', [], stray);
	t.is(strayRun.code, 2);
	t.is(strayRun.stderr, `pdi: ${stray}:2:1: unknown command '\\xff\\xfe\\xc3('\n`);
	const accented = path.join(scratch, 'accented.cfg');
	writeFileSync(accented, 'backend x = noop\nété foo\n');
	const accentedRun = await runPreloaded('/bin/true', [], accented);
	t.is(accentedRun.stderr, `pdi: ${accented}:2:1: unknown command 'été'\n`);
});

test('the core writes the control bytes of its warnings and log lines as \\xHH: a Warning line of the config, a rule\'s function name under -v', async t => {
	// Was a bug: the core's warnings and logs printed them raw (an escape sequence reached the terminal), where its
	// errors and pdi's own messages showed them as \xHH.
	const warning = path.join(scratch, 'warning.cfg');
	writeFileSync(warning, 'Warning hi\u001B[7mREVERSED\n');
	for (const run of [await pdi(['run', '-c', warning, '--', '/bin/true']), await runPreloaded('/bin/true', [], warning)]) {
		t.is(run.code, 0, run.stderr);
		t.is(run.stderr, `pdi: warning: ${warning}:1:1: hi\\x1b[7mREVERSED\n`);
	}

	const rule = path.join(scratch, 'rule.cmd');
	writeFileSync(rule, 'act $main a\u001Bb return=1\n');
	const verbose = await pdi(['run', '-v', '-c', rule, '--', '/bin/true']);
	t.is(verbose.code, 0, verbose.stderr);
	t.regex(verbose.stderr, /act \$main a\\x1bb: 0 call\(s\) seen, 0 fired$/m);
	t.deepEqual(controls(verbose.stderr), [], verbose.stderr);

	// A line too long for the log is still marked as cut.
	const long = path.join(scratch, 'long.cfg');
	writeFileSync(long, `Warning ${'a'.repeat(1100)}\n`);
	const cut = await runPreloaded('/bin/true', [], long);
	t.regex(cut.stderr, /^pdi: warning: \S+long\.cfg:1:1: a+\.\.\.\n$/);
});
