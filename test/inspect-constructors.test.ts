import test from 'ava';
import {pdi} from './helpers/cli.js';
import {compileC, scratchDirectory} from './helpers/files.js';

const scratch = scratchDirectory('pdi-inspect-constructors-');

test('pdi inspect reports after the libraries\' constructors and before the program\'s own, as docs/inspect.md says', async t => {
	const library = compileC(scratch, 'libctor.so', '#include <unistd.h>\n__attribute__((constructor)) static void c(void) { write(2, "library constructor\\n", 20); }\nint lib_value(void) { return 0; }\n', ['-shared', '-fPIC']);
	const program = compileC(scratch, 'ctor', '#include <unistd.h>\nint lib_value(void);\n__attribute__((constructor)) static void c(void) { write(2, "program constructor\\n", 20); }\nint main(void) { return lib_value(); }\n', [library, `-Wl,-rpath,${scratch}`]);
	const result = await pdi(['inspect', '--imports', '$main', '--', program]);
	t.is(result.code, 0, result.stderr);
	t.is(result.stderr, 'library constructor\n');
	const run = await pdi(['inspect', '--run', '--imports', '$main', '--', program]);
	t.is(run.stderr, 'library constructor\nprogram constructor\n');
});
