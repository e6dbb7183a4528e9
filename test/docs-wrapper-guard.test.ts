import {readFileSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {pdi, root} from './helpers/cli.js';
import {compileC, scratchDirectory} from './helpers/files.js';
import {textValue} from './helpers/quote.js';

// docs/backends.md, "Calling functions from a wrapper": its malloc wrapper, as printed there.
const documented = readFileSync(path.join(root, 'docs', 'backends.md'), 'utf8');
const start = documented.indexOf('static __thread __attribute__((tls_model("initial-exec"))) int inside;');
const source = `#define _GNU_SOURCE\n#include <pdi/backend.h>\n#include <stdio.h>\n#include <stdlib.h>\n${documented.slice(start, documented.indexOf('```', start))}`;

test('the guarded malloc wrapper of docs/backends.md runs under relink * malloc, which reaches libc\'s own calls; without its guard it recurses until SIGSEGV, as the page says', async t => {
	t.not(start, -1);
	const directory = scratchDirectory('pdi-docs-guard-');
	const run = async (code: string) => {
		const backend = compileC(directory, 'guard.so', code, ['-O2', '-Wall', '-Wextra', '-Werror', '-shared', '-fPIC', '-I', path.join(root, 'include')]);
		writeFileSync(path.join(directory, 'guard.cmd'), `backend b = ${textValue(backend)}\nrelink * malloc b logging_malloc\n`);
		return pdi(['run', '-c', path.join(directory, 'guard.cmd'), '--', '/bin/ls', '/']);
	};

	const guarded = await run(source);
	t.is(guarded.code, 0, guarded.stderr.slice(-500));
	t.regex(guarded.stdout, /^usr$/m);
	t.regex(guarded.stderr, /^malloc\(\d+\)$/m);
	const unguarded = await run(source.replace('  if (inside)\n    return original(size);\n', ''));
	t.is(unguarded.code, 128 + 11);
	t.regex(unguarded.stderr, /^pdi: \/bin\/ls was killed by SIGSEGV$/m);
});
