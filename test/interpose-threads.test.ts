import {copyFileSync} from 'node:fs';
import {createRequire} from 'node:module';
import {constants} from 'node:os';
import path from 'node:path';
import test, {type ExecutionContext} from 'ava';
import {interpose} from '../src/ts/index.js';
import {scratchDirectory} from './helpers/files.js';
import {fixBackend, fixtures} from './helpers/preload.js';

type Counts = {original: number; wrapped: number; other: number};
type ThreadAddon = {start(threads: number): void; stop(): Counts; run(threads: number, calls: number): Counts};

const require = createRequire(import.meta.url);
const fixConfig = {
	backends: [{name: 'fix', library: fixBackend}],
	rules: [{redefine: {object: 'libfix.so', function: 'fix_add_quiet', backend: 'fix', wrapper: 'wrap_fix_add_quiet'}}],
};
process.env['FIX_BACKEND_QUIET'] = '1';

test.serial('16 threads calling f while a redefine is installed and removed 1000 times: every call lands in the old or the new definition', t => {
	const addon = require(path.join(fixtures, 'addon/threadaddon.node')) as ThreadAddon;
	const config = {
		backends: [{name: 'fix', library: fixBackend}],
		rules: [{redefine: {object: 'libfix.so', function: 'fix_add_quiet', backend: 'fix', wrapper: 'wrap_fix_add_quiet'}}],
	};
	addon.start(16);
	try {
		for (let round = 0; round < 1000; round++) {
			interpose(config).close();
		}
	} finally {
		const counts = addon.stop();
		t.is(counts.other, 0);
		t.true(counts.original > 0);
		t.true(counts.wrapped > 0, JSON.stringify(counts));
	}
});

test.serial('closing an in-process redefine restores the symbol table: later lookups find the original again', t => {
	const addon = require(path.join(fixtures, 'addon/threadaddon.node')) as ThreadAddon;
	const handle = interpose({
		backends: [{name: 'fix', library: fixBackend}],
		rules: [{redefine: {object: 'libfix.so', function: 'fix_add_quiet', backend: 'fix', wrapper: 'wrap_fix_add_quiet'}}],
	});
	const during = addon.run(2, 10_000);
	handle.close();
	const after = addon.run(2, 10_000);
	t.true(during.wrapped > 0 && during.original === 0, JSON.stringify(during));
	t.true(after.original > 0 && after.wrapped === 0, JSON.stringify(after));
});

/** A fresh copy of the thread addon (a new object with its own slots), loaded with `flag`. */
function freshAddon(name: string, flag: number): ThreadAddon {
	const copy = path.join(scratchDirectory('pdi-addon-'), `${name}.node`);
	copyFileSync(path.join(fixtures, 'addon/threadaddon.node'), copy);
	const module = {exports: {}};
	process.dlopen(module, copy, flag);
	return module.exports as ThreadAddon;
}

/** `during` went to the wrapper only, `after` (once the session is closed) to the original only. */
function wrappedThenOriginal(t: ExecutionContext, during: Counts, after: Counts): void {
	t.true(during.wrapped > 0 && during.original === 0, JSON.stringify(during));
	t.true(after.original > 0 && after.wrapped === 0, JSON.stringify(after));
}

test.serial('closing an in-process redefine puts back a lazy slot that its first call bound to the wrapper', t => {
	const addon = freshAddon('lazy-threadaddon', constants.dlopen.RTLD_LAZY);
	const handle = interpose(fixConfig);
	const during = addon.run(2, 10_000);
	handle.close();
	wrappedThenOriginal(t, during, addon.run(2, 10_000));
});

test.serial('closing an in-process redefine puts back the slots of an object loaded meanwhile, which the loader bound to the wrapper', t => {
	const handle = interpose(fixConfig);
	// RTLD_NOW binds the new object's slot through the redefined symbol table at load, to the wrapper.
	const addon = freshAddon('later-threadaddon', constants.dlopen.RTLD_NOW);
	const during = addon.run(2, 10_000);
	handle.close();
	wrappedThenOriginal(t, during, addon.run(2, 10_000));
});
