import {chmodSync} from 'node:fs';
import path from 'node:path';
import {pathToFileURL} from 'node:url';
import test from 'ava';
import {pdiPaths} from '../src/ts/index.js';
import type * as PdiIndex from '../src/ts/index.js';
import {root} from './helpers/cli.js';
import {scratchDirectory, temporaryEntries} from './helpers/files.js';
import {copyBuiltPackage} from './helpers/package-copy.js';

// Changing the user takes root; without it Node's spawn() refuses uid itself. The program, run as uid 65534, must
// reach pdi's core: the package is copied under a path every user can pass through (a checkout may be under a
// mode 0700 directory, as CI's clone is).
const copies = new Map<number, Promise<typeof PdiIndex>>();

/** A copy of the built package in a fresh directory of `mode`; its index module. One per mode: each copy's addon takes room in the static TLS block, which has little. */
async function copiedPackage(mode: number): Promise<typeof PdiIndex> {
	let copy = copies.get(mode);
	if (copy === undefined) {
		copy = copyPackage(mode);
		copies.set(mode, copy);
	}

	return copy;
}

async function copyPackage(mode: number): Promise<typeof PdiIndex> {
	const directory = copyBuiltPackage('pdi-spawn-uid-package-', mode, 'link');
	return await import(pathToFileURL(path.join(directory, 'dist/ts/index.js')).href) as typeof PdiIndex;
}

/** Runs `body` with TMPDIR set to `directory`, then puts it back as it was. */
async function withTmpdir(directory: string, body: () => Promise<void> | void): Promise<void> {
	const previous = process.env['TMPDIR'];
	process.env['TMPDIR'] = directory;
	try {
		await body();
	} finally {
		if (previous === undefined) {
			delete process.env['TMPDIR'];
		} else {
			process.env['TMPDIR'] = previous;
		}
	}
}

(process.getuid?.() === 0 ? test.serial : test.skip)('spawn() with uid and gid runs the program as that user with the rules, and its counts come back', async t => {
	// Before: the compiled config was readable by root only, so the core stopped the program before main with
	// 'PDI_CONFIG: cannot read ... permission denied', blaming a wrapper such as setpriv.
	// TMPDIR itself must let that user through, as /tmp does.
	const copied = await copiedPackage(0o755);
	const temporary = scratchDirectory('pdi-spawn-uid-');
	chmodSync(temporary, 0o755);
	await withTmpdir(temporary, async () => {
		const child = copied.spawn({rules: [{act: {function: 'geteuid', do: {count: true}}}, {act: {function: 'getuid', do: {count: true}}}]}, 'id', ['-u'], {uid: 65_534, gid: 65_534, stdio: ['ignore', 'pipe', 'pipe']});
		let stdout = '';
		let stderr = '';
		child.stdout.on('data', (chunk: Buffer) => {
			stdout += chunk.toString();
		});
		child.stderr.on('data', (chunk: Buffer) => {
			stderr += chunk.toString();
		});
		const code = await new Promise(resolve => child.once('close', resolve));
		t.is(code, 0, stderr);
		t.is(stdout, '65534\n');
		t.is(stderr, '');
		const counts = await child.act;
		t.true(counts.reduce((sum, count) => sum + count.seen, 0) >= 1, JSON.stringify(counts));
		t.deepEqual(temporaryEntries(temporary), []);
	});
});

(process.getuid?.() === 0 ? test.serial : test.skip)('spawn() with uid of a pdi that user cannot reach throws a PdiError naming the directory, before anything runs', async t => {
	// Before: the loader's 'cannot be preloaded', and the program ran without its rules.
	const copied = await copiedPackage(0o700);
	// The copy's own directory: as many levels above its native directory as this checkout's is below its root.
	const directory = path.resolve(copied.pdiPaths().nativeDirectory, ...path.relative(root, pdiPaths().nativeDirectory).split('/').map(() => '..'));
	t.throws(() => copied.spawn({rules: [{act: {function: 'getuid', do: {count: true}}}]}, 'id', ['-u'], {uid: 65_534, stdio: 'ignore'}), {
		message: `${directory}: the program would run as uid 65534, which cannot pass through this directory to pdi's core (mode 700): install pdi where that user can read it (docs/launching.md)`,
	});
});

(process.getuid?.() === 0 ? test.serial : test.skip)('spawn() with uid and a TMPDIR that user cannot pass through throws a PdiError naming the directory, before anything runs', async t => {
	// Before: the loader's 'cannot be preloaded' (or the core's 'cannot read'), and the program ran without its rules.
	const copied = await copiedPackage(0o755);
	const temporary = scratchDirectory('pdi-spawn-uid-closed-');
	chmodSync(temporary, 0o700);
	await withTmpdir(temporary, () => {
		t.throws(() => copied.spawn({rules: [{act: {function: 'getuid', do: {count: true}}}]}, 'id', ['-u'], {uid: 65_534, gid: 65_534, stdio: 'ignore'}), {
			instanceOf: copied.PdiError,
			message: `${temporary}: the program would run as uid 65534, which cannot pass through this directory to its config (mode 700): set TMPDIR to one it can pass through, such as /tmp`,
		});
		t.deepEqual(temporaryEntries(temporary), []);
	});
});
