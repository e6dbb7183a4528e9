import {copyFileSync} from 'node:fs';
import {createRequire} from 'node:module';
import path from 'node:path';
import test from 'ava';
import {ConfigError, imports, interpose} from '../src/ts/index.js';
import {scratchDirectory} from './helpers/files.js';
import {fixBackend, fixtures} from './helpers/preload.js';

type FixAddon = {getpid(): number; strlen(text: string): number};

const require = createRequire(import.meta.url);
const addonPath = path.join(fixtures, 'addon/fixaddon.node');

function rule(object: string) {
	return {
		backends: [{name: 'fix', library: fixBackend}],
		rules: [{relink: {object, function: 'getpid', backend: 'fix', wrapper: 'wrap_getpid_4242'}}],
	};
}

test.serial('interpose() relinks a native addon\'s libc import in this process, and close() restores it', t => {
	const addon = require(addonPath) as FixAddon;
	t.is(addon.getpid(), process.pid);
	const handle = interpose(rule('fixaddon.node'));
	try {
		t.is(addon.getpid(), 4242);
		const slot = imports('fixaddon.node').find(entry => entry.symbol === 'getpid');
		t.is(slot?.target?.symbol, 'wrap_getpid_4242');
		t.is(addon.strlen('hello'), 5);
	} finally {
		handle.close();
	}

	t.true(handle.closed);
	t.is(addon.getpid(), process.pid);
	t.is(imports('fixaddon.node').find(entry => entry.symbol === 'getpid')?.target?.symbol, 'getpid');
	handle.close();
});

test.serial('interpose() reaches an addon that is loaded after it', t => {
	const directory = scratchDirectory('pdi-addon-');
	const later = path.join(directory, 'later-addon.node');
	copyFileSync(addonPath, later);
	const handle = interpose(rule('later-addon.node'));
	try {
		const addon = require(later) as FixAddon;
		t.is(addon.getpid(), 4242);
	} finally {
		handle.close();
	}
});

test.serial('interpose() with a wrapper the backend lacks throws a ConfigError and installs nothing', t => {
	const addon = require(addonPath) as FixAddon;
	const config = rule('fixaddon.node');
	config.rules[0]!.relink.wrapper = 'no_such_wrapper';
	t.throws(() => interpose(config), {instanceOf: ConfigError, message: /no_such_wrapper/});
	t.is(addon.getpid(), process.pid);
});
