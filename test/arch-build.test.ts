import {execFile} from 'node:child_process';
import {chmodSync, symlinkSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {root} from './helpers/cli.js';
import {writeFiles} from './helpers/files.js';

type Result = {code: number; stdout: string; stderr: string};

/** Runs scripts/build-arch.mjs with `PATH` alone as its environment's search path. */
async function buildArch(arch: string, searchPath: string): Promise<Result> {
	return new Promise(resolve => {
		execFile(process.execPath, [path.join(root, 'scripts/build-arch.mjs'), arch], {cwd: root, env: {...process.env, PATH: searchPath}, timeout: 120_000}, (error, stdout, stderr) => {
			resolve({code: error ? (typeof error.code === 'number' ? error.code : 128) : 0, stdout, stderr});
		});
	});
}

test('node scripts/build-arch.mjs without the cross compiler in PATH says which one and its package in one line, not a stack trace', async t => {
	const bin = writeFiles({}, 'pdi-arch-build-');
	symlinkSync(process.execPath, path.join(bin, 'node'));
	for (const [arch, compiler, packages] of [['aarch64', 'aarch64-linux-gnu-gcc', 'gcc-aarch64-linux-gnu libc6-dev-arm64-cross'], ['i386', 'i686-linux-gnu-gcc', 'gcc-i686-linux-gnu libc6-dev-i386-cross']] as const) {
		const result = await buildArch(arch, bin);
		t.is(result.code, 1, arch);
		t.is(result.stderr, `build-arch: ${compiler}: not found in PATH (Debian: apt-get install ${packages})\n`);
		t.is(result.stdout, '');
	}
});

test('a cross compiler that fails is one line naming the file it could not build after its own messages, not a stack trace', async t => {
	const bin = writeFiles({'i686-linux-gnu-gcc': '#!/bin/sh\necho "cc: fatal error: out of cheese" >&2\nexit 1\n'}, 'pdi-arch-build-');
	symlinkSync(process.execPath, path.join(bin, 'node'));
	chmodSync(path.join(bin, 'i686-linux-gnu-gcc'), 0o755);
	const result = await buildArch('i386', bin);
	t.is(result.code, 1);
	const lines = result.stderr.trimEnd().split('\n');
	t.deepEqual(lines, ['cc: fatal error: out of cheese', 'build-arch: i686-linux-gnu-gcc could not build build/arch/i386/pdi-preload.so (its messages are above)']);
});
