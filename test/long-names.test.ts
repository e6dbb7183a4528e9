import {writeFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {pdi} from './helpers/cli.js';
import {compileC, scratchDirectory} from './helpers/files.js';

// C++ and Rust symbols run to hundreds or thousands of bytes (this Debian's libLLVM-15.so has names of 375): a rule
// names them as written. Before: any name over 255 bytes was 'expected a function name', in every dialect.
const directory = scratchDirectory('pdi-long-names-');
const longName = `answer_${'x'.repeat(2000)}`;
compileC(directory, 'liblong.so', `int ${longName}(void) { return 41; }\n`, ['-shared', '-fPIC']);
const program = compileC(directory, 'longprog', `#include <stdio.h>\nint ${longName}(void);\nint main(void) { printf("%d\\n", ${longName}()); return 0; }\n`, [`-L${directory}`, '-llong', `-Wl,-rpath,${directory}`]);

test('an act rule on a function whose name has 2007 bytes changes its result, from the text dialect and from YAML', async t => {
	const text = path.join(directory, 'long.cfg');
	writeFileSync(text, `act $main ${longName} return=7\n`);
	const yaml = path.join(directory, 'long.yaml');
	writeFileSync(yaml, `rules:\n  - act: {object: $main, function: ${longName}, do: {return: 7}}\n`);
	for (const config of [text, yaml]) {
		const check = await pdi(['config', 'check', config]);
		t.is(check.code, 0, check.stderr);
		const run = await pdi(['run', '-c', config, '--', program]);
		t.is(run.code, 0, run.stderr);
		t.is(run.stdout, '7\n');
	}
});

test('a name longer than pdi takes is refused at its place with its length and the limit, not as a malformed name', async t => {
	const config = path.join(directory, 'too-long.cfg');
	writeFileSync(config, `act $main f${'y'.repeat(9000)} count\n`);
	const check = await pdi(['config', 'check', config]);
	t.is(check.code, 2);
	t.is(check.stderr, `pdi: ${config}:1:11: function: a name of 9001 bytes; pdi takes names of up to 8191\n`);
});
