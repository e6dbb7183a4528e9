import {execFileSync} from 'node:child_process';
import {mkdirSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {pdi} from './helpers/cli.js';
import {refusedAlike, writeIn} from './helpers/config-agree.js';
import {scratchDirectory} from './helpers/files.js';
import {runPreloaded} from './helpers/preload.js';

const scratch = scratchDirectory('pdi-config5-kind-');

const write = (name: string, text: string): string => writeIn(scratch, name, text);

test('a command file (config =, runtime =) that is a directory, a FIFO or a device is refused as an Include of it is, not reported as not found', async t => {
	mkdirSync(path.join(scratch, 'rules dir'));
	const directory = write('directory.cfg', 'config = "rules dir"\n');
	t.is(await refusedAlike(t, directory), `pdi: ${directory}:1:10: cannot read '${path.join(scratch, 'rules dir')}': is a directory\n`);
	const runtime = write('runtime.cfg', 'runtime = "rules dir"\n');
	t.is(await refusedAlike(t, runtime), `pdi: ${runtime}:1:11: cannot read '${path.join(scratch, 'rules dir')}': is a directory\n`);
	execFileSync('mkfifo', [path.join(scratch, 'fifo.cmd')]);
	const fifo = write('fifo.cfg', 'config = fifo.cmd\n');
	t.is(await refusedAlike(t, fifo), `pdi: ${fifo}:1:10: cannot read '${path.join(scratch, 'fifo.cmd')}': invalid argument\n`);
	const device = write('device.cfg', 'config = /dev/null\n');
	t.is(await refusedAlike(t, device), `pdi: ${device}:1:10: cannot read '/dev/null': invalid argument\n`);
	// The search goes on past a directory of that name, to a regular file on becfg_path; nothing at all is still 'not found'.
	mkdirSync(path.join(scratch, 'more', 'rules.cmd'), {recursive: true});
	mkdirSync(path.join(scratch, 'commands'));
	writeFileSync(path.join(scratch, 'commands', 'rules.cmd'), 'backend c = count\n');
	const searched = write('more/searched.cfg', 'becfg_path = ../commands\nconfig = rules.cmd\n');
	t.is((await pdi(['config', 'check', searched])).code, 0);
	t.is((await runPreloaded('/bin/true', [], searched)).code, 0);
	const missing = write('missing.cfg', 'config = nothing.cmd\n');
	t.is(await refusedAlike(t, missing), `pdi: ${missing}:1:10: command file 'nothing.cmd' not found (searched: ${path.join(scratch, 'nothing.cmd')})\n`);
});

test('a be_path entry holding a colon is one directory, and a backend not found says so', async t => {
	mkdirSync(path.join(scratch, 'first'));
	mkdirSync(path.join(scratch, 'second'));
	writeFileSync(path.join(scratch, 'second', 'fix-backend.so'), '');
	const joined = `${path.join(scratch, 'first')}:${path.join(scratch, 'second')}`;
	const config = write('joined.cfg', `be_path = ${joined}\nbackend fix = fix-backend.so\n`);
	t.regex(await refusedAlike(t, config), new RegExp(`^pdi: ${config}:2:15: backend 'fix': library 'fix-backend\\.so' not found \\(searched: .+; be_path \\(backendPath\\) entries are not split at ':', so '${joined}' is one directory: give each directory its own entry\\)\\n$`));
	const separate = write('separate.cfg', 'be_path = first\nbe_path = second\nbackend fix = fix-backend.so\n');
	t.is((await pdi(['config', 'check', separate])).stderr, `pdi: ${separate}:3:15: backend 'fix': cannot load ${path.join(scratch, 'second', 'fix-backend.so')}: file too short\n`, 'found on the second entry');
});
