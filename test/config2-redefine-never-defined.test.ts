import {writeFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {pdi} from './helpers/cli.js';
import {scratchDirectory} from './helpers/files.js';
import {fixtures} from './helpers/preload.js';

// A redefine rule whose function no object it matched defined while the program ran is reported at exit, as a
// relink or act rule that saw no import (docs/config.md, "Objects that never load").
const procprog = path.join(fixtures, 'processes/procprog');
const library = path.join(fixtures, 'lazy-pie/libfix.so');
const scratch = scratchDirectory('pdi-redefine-never-defined-');

function config(name: string, lines: readonly string[]): string {
	const file = path.join(scratch, name);
	writeFileSync(file, lines.join('\n') + '\n');
	return file;
}

const warnings = (stderr: string) => stderr.split('\n').filter(line => line.startsWith('pdi: warning: '));

test('a redefine of a function that no matching object defines is reported once at exit; PDI_WARN_UNLOADED=0 silences it', async t => {
	const file = config('undefined.cfg', [
		'backend c = count',
		'redefine * no_such_function c count_open',
		'redefine libc.so.6 fix_add_quiet c count_close',
		'redefine libc.so.6 getpid c count_getpid',
		'redefine lib*fix.so* fix_add_quiet c count_realloc',
	]);
	const run = await pdi(['run', '-c', file, '--', procprog, 'dlopen', library]);
	t.is(run.code, 0, run.stderr);
	t.deepEqual(warnings(run.stderr), [
		`pdi: warning: ${file}:2: redefine no_such_function: no object matching '*' defined it while the program ran: the rule changed nothing`,
		`pdi: warning: ${file}:3: redefine fix_add_quiet: no object matching 'libc.so.6' defined it while the program ran: the rule changed nothing`,
	]);
	const quiet = await pdi(['run', '-c', file, '--', procprog, 'dlopen', library], {env: {...process.env, PDI_WARN_UNLOADED: '0'}});
	t.is(quiet.code, 0, quiet.stderr);
	t.is(quiet.stderr, '');
	// Without the dlopen, libfix.so never loads: that rule is reported as such, not twice.
	const unloaded = await pdi(['run', '-c', file, '--', '/bin/true']);
	t.is(unloaded.code, 0, unloaded.stderr);
	t.deepEqual(warnings(unloaded.stderr).slice(2), [`pdi: warning: ${file}:5: redefine fix_add_quiet: no object matching 'lib*fix.so*' was loaded`]);
});
