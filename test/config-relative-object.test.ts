import {writeFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {loadConfig} from '../src/ts/config/index.js';
import {pdi} from './helpers/cli.js';
import {compileC, scratchDirectory} from './helpers/files.js';

// A relative path as an object pattern was matched against the program's current directory: the rule met nothing
// when pdi ran from elsewhere, where every other relative path of a config starts at the config's directory.
const scratch = scratchDirectory('pdi config relative object ');
const program = compileC(scratch, 'prog', `#include <stdio.h>
#include <unistd.h>
int main(void) { printf("%d\\n", getpid() > 0); return 0; }
`);

test('a relative object path in a config starts at the config\'s directory, in the text dialect (an alias too) and in YAML, from any current directory', async t => {
	writeFileSync(path.join(scratch, 'rel.cfg'), 'backend c = count\nrelink ./prog getpid c count_getpid\n');
	writeFileSync(path.join(scratch, 'alias.cfg'), 'backend c = count\nobject here = ./prog\nrelink here getpid c count_getpid\n');
	writeFileSync(path.join(scratch, 'rel.yaml'), 'backends: [{name: c, library: count}]\nrules: [{relink: {object: ./prog, function: getpid, backend: c, wrapper: count_getpid}}]\n');
	for (const file of ['rel.cfg', 'alias.cfg', 'rel.yaml']) {
		const config = path.join(scratch, file);
		t.deepEqual((await loadConfig(config)).rules.map(rule => rule.object), [program], file);
		for (const cwd of [scratch, '/']) {
			const run = await pdi(['run', '-c', config, '--', program], {cwd});
			t.is(run.code, 0, run.stderr);
			t.is(run.stdout, '1\n');
			t.regex(run.stderr, /^pdi-count: getpid 1$/m, `${file} from ${cwd}`);
			t.notRegex(run.stderr, /warning/);
		}
	}
});

test('a glob of a name in any directory, a soname and $main are no relative paths', async t => {
	writeFileSync(path.join(scratch, 'globs.yaml'), 'backends: [{name: c, library: count}]\nrules:\n  - {relink: {object: "*/prog", function: getpid, backend: c, wrapper: count_getpid}}\n  - {relink: {object: libc.so.6, function: getpid, backend: c, wrapper: count_getpid}}\n  - {relink: {object: $main, function: getpid, backend: c, wrapper: count_getpid}}\n');
	t.deepEqual((await loadConfig(path.join(scratch, 'globs.yaml'))).rules.map(rule => rule.object), ['*/prog', 'libc.so.6', '$main']);
});
