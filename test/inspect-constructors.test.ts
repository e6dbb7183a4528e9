import {execFileSync} from 'node:child_process';
import {writeFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {pdi} from './helpers/cli.js';
import {scratchDirectory} from './helpers/files.js';

const scratch = scratchDirectory('pdi-inspect-constructors-');

test('pdi inspect reports after the libraries\' constructors and before the program\'s own, as docs/inspect.md says', async t => {
	const librarySource = path.join(scratch, 'lib.c');
	writeFileSync(librarySource, '#include <unistd.h>\n__attribute__((constructor)) static void c(void) { write(2, "library constructor\\n", 20); }\nint lib_value(void) { return 0; }\n');
	const library = path.join(scratch, 'libctor.so');
	execFileSync('gcc', ['-shared', '-fPIC', '-o', library, librarySource]);
	const source = path.join(scratch, 'main.c');
	writeFileSync(source, '#include <unistd.h>\nint lib_value(void);\n__attribute__((constructor)) static void c(void) { write(2, "program constructor\\n", 20); }\nint main(void) { return lib_value(); }\n');
	const program = path.join(scratch, 'ctor');
	execFileSync('gcc', ['-o', program, source, library, `-Wl,-rpath,${scratch}`]);
	const result = await pdi(['inspect', '--imports', '$main', '--', program]);
	t.is(result.code, 0, result.stderr);
	t.is(result.stderr, 'library constructor\n');
	const run = await pdi(['inspect', '--run', '--imports', '$main', '--', program]);
	t.is(run.stderr, 'library constructor\nprogram constructor\n');
});
