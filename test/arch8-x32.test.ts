import {execFileSync} from 'node:child_process';
import path from 'node:path';
import test from 'ava';
import {pdi} from './helpers/cli.js';
import {writeFiles} from './helpers/files.js';

/**
 * An x32 program (ELFCLASS32 with EM_X86_64) that is dynamically linked, with the host's x86-64 loader as its
 * interpreter: the same machine as pdi's, another class. It needs no x32 C library, so gcc -mx32 builds it here.
 */
function x32Program(): string {
	const directory = writeFiles({'x32.c': 'void _start(void) { for (;;) ; }\n'}, 'pdi-arch8-x32-');
	const program = path.join(directory, 'x32prog');
	execFileSync('gcc', ['-mx32', '-nostdlib', '-pie', '-fPIE', '-o', program, path.join(directory, 'x32.c'), '-Wl,-dynamic-linker,/lib64/ld-linux-x86-64.so.2']);
	return program;
}

test('pdi run, trace and inspect refuse an x32 program (x86-64 machine, 32-bit class), which the 64-bit core cannot be preloaded into', async t => {
	const program = x32Program();
	for (const command of ['run', 'trace', 'inspect']) {
		const result = await pdi([command, '--', program], {timeout: 10_000});
		t.is(result.code, 2, command);
		t.is(result.stderr, `pdi: ${program}: built for x32 (32-bit), but this pdi build is for x86_64: pdi supports x86_64, aarch64 and i386 programs only\n`, command);
	}
});
