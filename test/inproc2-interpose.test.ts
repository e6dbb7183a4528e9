import {spawnSync} from 'node:child_process';
import {copyFileSync, writeFileSync} from 'node:fs';
import {createRequire} from 'node:module';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import test from 'ava';
import {ConfigError, interpose, PdiError} from '../src/ts/index.js';
import {scratchDirectory} from './helpers/files.js';
import {fixBackend, fixtures} from './helpers/preload.js';

const require = createRequire(import.meta.url);
const thisFile = fileURLToPath(import.meta.url);

function escapeRegExp(text: string): string {
	return text.replaceAll(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The line of the call of this function, in this file. */
function callerLine(): number {
	const frame = new Error().stack?.split('\n')[2] ?? '';
	return Number(/:(\d+):\d+\)?$/.exec(frame)?.[1]);
}

test.serial('interpose(null) and interpose(undefined) throw a ConfigError naming the argument instead of installing an empty config', t => {
	for (const config of [null, undefined]) {
		const error = t.throws(() => interpose(config as never), {instanceOf: ConfigError, message: `config: expected a config object, got ${String(config)}`});
		t.true(error instanceof PdiError);
	}

	// An empty object is still an empty config, as an empty file is.
	const handle = interpose({});
	t.deepEqual(handle.close(), []);
});

const fixAddon = path.join(fixtures, 'addon/fixaddon.node');

function relinkGetpid(object: string, wrapper: string) {
	return {
		backends: [{name: 'fix', library: fixBackend}],
		rules: [{relink: {object, function: 'getpid', backend: 'fix', wrapper}}],
	};
}

test.serial('a conflict with the rule of an earlier interpose() says the rule is that interpose()\'s, with its number and call site, and installs nothing', t => {
	const addon = require(fixAddon) as {getpid(): number};
	const first = interpose(relinkGetpid('fixaddon.node', 'wrap_getpid_4242'));
	const firstLine = callerLine() - 1;
	try {
		const error = t.throws(() => interpose(relinkGetpid('fixaddon.node', 'wrap_foo_99')), {instanceOf: PdiError});
		// Before the fix: "... conflicts with the relink at rules[0], which ...", as if it were this config's rules[0].
		t.regex(error.message, new RegExp(`^rules\\[0\\]: relink getpid: conflicts with the relink at rules\\[0\\] \\(of an earlier interpose\\(\\) #\\d+ called at ${escapeRegExp(thisFile)}:${firstLine}:\\d+\\), which already redirects fixaddon\\.node's slot for getpid$`));
		t.is(addon.getpid(), 4242);
	} finally {
		first.close();
	}

	t.is(addon.getpid(), process.pid);
});

test('a conflict found on an object loaded later is logged on stderr when it loads: the earlier interpose() keeps the slot, as at install, and the later one\'s rule is named as skipped', t => {
	const directory = scratchDirectory('pdi-inproc2-later-');
	const later = path.join(directory, 'fixlater.node');
	copyFileSync(fixAddon, later);
	const script = [
		`import {interpose} from ${JSON.stringify(path.resolve('dist/ts/index.js'))};`,
		'import {createRequire} from \'node:module\';',
		`const config = wrapper => ({backends: [{name: 'fix', library: ${JSON.stringify(fixBackend)}}], rules: [{relink: {object: 'fixlater.node', function: 'getpid', backend: 'fix', wrapper}}]});`,
		'const a = interpose(config(\'wrap_getpid_4242\'));',
		'const b = interpose(config(\'wrap_foo_99\'));',
		'process.stderr.write(\'both open\\n\');',
		`const addon = createRequire(import.meta.url)(${JSON.stringify(later)});`,
		'process.stderr.write(\'loaded\\n\');',
		'console.log(addon.getpid());',
		'b.close();',
		'a.close();',
	].join('\n');
	const file = path.join(directory, 'two-sessions.mjs');
	writeFileSync(file, script);
	const {status, stdout, stderr} = spawnSync(process.execPath, [file], {encoding: 'utf8'});
	t.is(status, 0, stderr);
	const lines = stderr.split('\n');
	const conflict = lines.findIndex(line => line.includes('conflicts with'));
	// Reported when the object loads, not later: between the two markers.
	t.true(lines.indexOf('both open') < conflict && conflict < lines.indexOf('loaded'), stderr);
	t.is(stdout.trim(), '4242', 'the earlier interpose()\'s wrapper');
	const winner = 1;
	const loser = 2;
	t.regex(lines[conflict]!, new RegExp(`^pdi: rules\\[0\\] \\(interpose\\(\\) #${loser} called at ${escapeRegExp(file)}:${3 + loser}:\\d+\\): relink getpid: conflicts with the relink at rules\\[0\\] \\(interpose\\(\\) #${winner} called at ${escapeRegExp(file)}:${3 + winner}:\\d+\\), which already redirects fixlater\\.node's slot for getpid \\(rule skipped\\)$`));
});
