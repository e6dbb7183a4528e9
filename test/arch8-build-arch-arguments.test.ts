import {execFile} from 'node:child_process';
import {chmodSync, existsSync, readFileSync, symlinkSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {root} from './helpers/cli.js';
import {writeFiles} from './helpers/files.js';

type Result = {code: number; stdout: string; stderr: string};

/**
 * A copy of pdi's root holding scripts/build-arch.mjs and binding.gyp, and a
 * bin directory whose cross "compilers" write their target's name into the
 * file after `-o`: the script runs as it does, and the real build/arch/ of the
 * checkout is left alone.
 */
function scratchRoot(): {copy: string; bin: string} {
	const copy = writeFiles({
		'binding.gyp': readFileSync(path.join(root, 'binding.gyp'), 'utf8'),
		'scripts/build-arch.mjs': readFileSync(path.join(root, 'scripts/build-arch.mjs'), 'utf8'),
	}, 'pdi-arch8-root-');
	const compiler = '#!/bin/sh\nwhile [ $# -gt 0 ]; do if [ "$1" = -o ]; then echo "${0##*/}" > "$2"; fi; shift; done\n';
	const bin = writeFiles({'aarch64-linux-gnu-gcc': compiler, 'i686-linux-gnu-gcc': compiler}, 'pdi-arch8-bin-');
	chmodSync(path.join(bin, 'aarch64-linux-gnu-gcc'), 0o755);
	chmodSync(path.join(bin, 'i686-linux-gnu-gcc'), 0o755);
	symlinkSync(process.execPath, path.join(bin, 'node'));
	return {copy, bin};
}

async function buildArch(copy: string, bin: string, arches: string[]): Promise<Result> {
	return new Promise(resolve => {
		execFile(process.execPath, [path.join(copy, 'scripts/build-arch.mjs'), ...arches], {cwd: copy, env: {...process.env, PATH: bin}, timeout: 60_000}, (error, stdout, stderr) => {
			resolve({code: error ? (typeof error.code === 'number' ? error.code : 128) : 0, stdout, stderr});
		});
	});
}

test('node scripts/build-arch.mjs aarch64 i386 builds both architectures (the second was ignored)', async t => {
	const {copy, bin} = scratchRoot();
	const result = await buildArch(copy, bin, ['aarch64', 'i386']);
	t.is(result.code, 0, result.stderr);
	t.is(readFileSync(path.join(copy, 'build/arch/aarch64/pdi-preload.so'), 'utf8'), 'aarch64-linux-gnu-gcc\n');
	t.is(readFileSync(path.join(copy, 'build/arch/i386/pdi-preload.so'), 'utf8'), 'i686-linux-gnu-gcc\n');
	t.true(result.stdout.includes('build/arch/aarch64/pdi-preload.so\n'));
	t.true(result.stdout.includes('build/arch/i386/pdi-preload.so\n'));
});

test('an architecture build-arch.mjs does not build, after one it does, is refused before anything is built', async t => {
	const {copy, bin} = scratchRoot();
	for (const arches of [['aarch64', 'arm'], ['i686'], ['toString']]) {
		const result = await buildArch(copy, bin, arches);
		t.is(result.code, 2, arches.join(' '));
		t.is(result.stderr, `build-arch: '${arches.at(-1)}': not an architecture it builds; usage: node scripts/build-arch.mjs aarch64|i386 [...]\n`);
		t.is(result.stdout, '');
		t.false(existsSync(path.join(copy, 'build')));
	}
});
