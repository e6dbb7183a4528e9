import {spawnSync} from 'node:child_process';
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

test('two interpose() sessions with act rules, closed in either order, each return their own rules\' counts, and the process survives', t => {
	const module = path.resolve('dist/ts/index.js');
	const script = (order: string) => [
		`import {interpose} from ${JSON.stringify(module)};`,
		'import {closeSync, openSync, readFileSync, readSync} from \'node:fs\';',
		'const a = interpose({rules: [{act: {object: \'$main\', function: \'open64\', when: {arg: 0, matches: \'/etc/hostname\'}, do: {return: -1, errno: \'EACCES\'}}}]});',
		'const b = interpose({rules: [{act: {object: \'$main\', function: \'read\', do: {count: true}}}]});',
		'let failed = \'\';',
		'try { readFileSync(\'/etc/hostname\'); } catch (error) { failed = error.code; }',
		'const fd = openSync(\'/etc/passwd\', \'r\');',
		'readSync(fd, Buffer.alloc(16));',
		'closeSync(fd);',
		'const counts = {};',
		`for (const name of ${JSON.stringify(order)}) counts[name] = (name === 'a' ? a : b).close().map(({rule, function: f, fired}) => ({rule, function: f, fired: fired > 0}));`,
		'console.log(JSON.stringify({failed, counts}));',
	].join('\n');
	for (const order of [['a', 'b'], ['b', 'a']]) {
		const {status, stdout, stderr} = spawnSync(process.execPath, ['--input-type=module', '-e', script(order.join(''))], {encoding: 'utf8'});
		t.is(status, 0, `closing ${order.join(' then ')}: ${stderr}`);
		t.deepEqual(JSON.parse(stdout || '{}'), {failed: 'EACCES', counts: {
			a: [{rule: 'rules[0]', function: 'open64', fired: true}],
			b: [{rule: 'rules[0]', function: 'read', fired: true}],
		}}, `closing ${order.join(' then ')}`);
	}
});
