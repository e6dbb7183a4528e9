import {copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {pdi, root} from './helpers/cli.js';
import {writeFiles} from './helpers/files.js';
import {fixBackend, fixtures, runPreloaded, values} from './helpers/preload.js';

const program = path.join(fixtures, 'now-pie/fixprog');
/** A directory name with a blank and shell-special characters. */
const odd = 'my backends #1 \'q\' $HOME';

const directories: string[] = [];

test.after.always(() => {
	for (const directory of directories) {
		rmSync(directory, {recursive: true, force: true});
	}
});

/** Writes `files` into a fresh directory with a copy of the fix backend at `${odd}/fix.so`. */
function scratch(files: Record<string, string>): string {
	const directory = writeFiles(files, 'pdi-config-accept-');
	directories.push(directory);
	mkdirSync(path.join(directory, odd));
	copyFileSync(fixBackend, path.join(directory, odd, 'fix.so'));
	return directory;
}

const relink = 'relink: {object: $main, function: fix_add, backend: fix, wrapper: wrap_fix_add}';

type Case = {what: string; files: Record<string, string>; entry: string; accepted: boolean};

const cases: Case[] = [
	{what: 'an object alias with a trailing comment', entry: 'c.cfg', accepted: true, files: {'c.cfg': `object app = $main   # comment\nbackend fix = "${odd}/fix.so"   # quoted\nrelink app fix_add fix wrap_fix_add # redirect\n`}},
	{what: 'an unquoted value holding blanks', entry: 'c.cfg', accepted: false, files: {'c.cfg': `backend fix = ${odd}/fix.so\n`}},
	{what: 'an unterminated quote', entry: 'c.cfg', accepted: false, files: {'c.cfg': 'log_file = "pdi.log\n'}},
	{what: 'an unknown key', entry: 'c.cfg', accepted: false, files: {'c.cfg': 'max_thread = 3 # typo\n'}},
	{what: 'a backend file that does not exist', entry: 'c.cfg', accepted: false, files: {'c.cfg': 'backend fix = "./no such.so"\n'}},
	{what: 'a backend file that does not exist under on_error = warn', entry: 'c.cfg', accepted: true, files: {'c.cfg': 'on_error = warn\nbackend fix = "./no such.so"\nrelink $main fix_add fix wrap_fix_add\n'}},
	{what: 'a wrapper the backend does not define', entry: 'c.cfg', accepted: false, files: {'c.cfg': `backend fix = "${odd}/fix.so"\nrelink $main fix_add fix no_such_wrapper\n`}},
	{what: 'an integer past its bound', entry: 'c.cfg', accepted: false, files: {'c.cfg': 'max_threads = 2147483648\n'}},
	{what: 'num_threads above max_threads', entry: 'c.cfg', accepted: false, files: {'c.cfg': 'max_threads = 2\nnum_threads = 3\n'}},
	{what: 'an Include and a command file in directories with blanks and #', entry: 'c.cfg', accepted: true, files: {
		'c.cfg': 'Include "conf #1/common.cfg:defaults"  # defaults\nconfig = "rules dir/r.cmd"\n',
		'conf #1/common.cfg': '[defaults]\nmax_objects = 64\n',
		'rules dir/r.cmd': `backend fix = "../${odd}/fix.so"\nrelink $main fix_add fix wrap_fix_add\n`,
	}},
	{what: 'a callback whose backend has no hooks', entry: 'c.cfg', accepted: false, files: {'c.cfg': 'backend n = noop\ncallback libfix.so * n\n'}},
	{what: 'a relative log_file', entry: 'c.cfg', accepted: true, files: {'c.cfg': 'log_file = "logs #1.txt"\nlog_level = info\n'}},
	{what: 'an object pattern with a blank', entry: 'c.yaml', accepted: true, files: {'c.yaml': 'backends:\n  - {name: n, library: noop}\nrules:\n  - relink: {object: "my app", function: getpid, backend: n, wrapper: pdi_be_init}\n'}},
	{what: 'a backend path with a blank, #, a quote and $', entry: 'c.yaml', accepted: true, files: {'c.yaml': `backends:\n  - {name: fix, library: "./${odd}/fix.so"}\nrules:\n  - ${relink}\n`}},
	{what: 'onError: warn with a missing backend', entry: 'c.yaml', accepted: true, files: {'c.yaml': `options: {onError: warn}\nbackends:\n  - {name: fix, library: /no/such.so}\nrules:\n  - ${relink}\n`}},
	{what: 'maxThreads past its bound', entry: 'c.yaml', accepted: false, files: {'c.yaml': 'options: {maxThreads: 2147483648}\n'}},
	{what: 'a handler without cbAllowHandler', entry: 'c.yaml', accepted: false, files: {'c.yaml': 'backends:\n  - {name: t, library: trace}\nrules:\n  - callback: {object: libfix.so, backend: t, handler: pdi_be_pre_cb}\n'}},
	{what: 'a truncated file', entry: 'c.json', accepted: false, files: {'c.json': '{"options": {"maxThreads": 3'}},
	{what: 'a rule whose backend is not declared', entry: 'c.json', accepted: false, files: {'c.json': '{"rules": [{"redefine": {"function": "getpid", "backend": "x", "wrapper": "w"}}]}'}},
	{what: 'an object pattern with # and blanks', entry: 'c.json', accepted: true, files: {'c.json': '{"backends": [{"name": "t", "library": "trace"}], "rules": [{"callback": {"object": "/opt/#1 lib/libx.so", "backend": "t"}}]}'}},
	{what: 'a callback handler its backend does not define', entry: 'c.json', accepted: false, files: {'c.json': '{"options": {"cbAllowHandler": true}, "backends": [{"name": "t", "library": "trace"}], "rules": [{"callback": {"object": "libfix.so", "backend": "t", "handler": "no_such_handler"}}]}'}},
];

for (const {what, files, entry, accepted} of cases) {
	test(`config check ${accepted ? 'accepts' : 'rejects'} ${what} (${path.extname(entry)}), and pdi run gets past the config if and only if check succeeds`, async t => {
		const directory = scratch(files);
		const file = path.join(directory, entry);
		const check = await pdi(['config', 'check', file]);
		const run = await pdi(['run', '-c', file, '--', '/bin/true']);
		t.is(check.code, accepted ? 0 : 2, check.stderr);
		t.is(run.code, check.code, run.stderr);
		t.false(run.stderr.includes('pdi-run-'), 'no message names the temporary compiled config');
		if (accepted) {
			const warnings = (stderr: string) => stderr.split('\n').filter(line => line.startsWith('pdi: warning: '));
			// Only the run knows, at its exit, which rule's object never loaded or function was never imported (these
			// configs name objects that do not exist, and functions /bin/true does not import).
			const atExit = (line: string) => / no object matching '.+' (?:was loaded|imported it while the program ran: the rule (?:saw no call|changed nothing))$/.test(line);
			t.deepEqual(warnings(run.stderr).filter(line => !atExit(line)), warnings(check.stderr), 'the same warnings, once');
			t.true(warnings(run.stderr).filter(line => atExit(line)).every(line => line.startsWith(`pdi: warning: ${path.dirname(file)}/`)), run.stderr);
			t.is(check.stderr, warnings(check.stderr).map(line => `${line}\n`).join(''));
		} else {
			t.is(check.stdout, '');
			t.regex(check.stderr, new RegExp(`^pdi: ${directory.replaceAll(/[.*+?^${}()|[\]\\]/g, '\\$&')}/[^\\n]+\\n$`));
			t.is(run.stderr, check.stderr);
		}

		if (path.extname(entry) === '.cfg') {
			const byHand = await runPreloaded('/bin/true', [], file);
			t.is(byHand.code, check.code, byHand.stderr);
			if (!accepted) {
				t.true(byHand.stderr.startsWith(`pdi: ${directory}/`), byHand.stderr);
			}
		}
	});
}

test('a backend in a directory whose name has a blank, #, \' and $ works in every spelling, with pdi run and by hand', async t => {
	const directory = scratch({
		'c.cfg': `backend fix = "${odd}/fix.so"\nrelink $main fix_add fix wrap_fix_add\n`,
		'c.yaml': `backends:\n  - {name: fix, library: "${odd}/fix.so"}\nrules:\n  - ${relink}\n`,
		'c.json': JSON.stringify({backends: [{name: 'fix', library: `./${odd}/fix.so`}], rules: [{relink: {object: '$main', function: 'fix_add', backend: 'fix', wrapper: 'wrap_fix_add'}}]}),
	});
	for (const entry of ['c.cfg', 'c.yaml', 'c.json']) {
		const file = path.join(directory, entry);
		const run = await pdi(['run', '-c', file, '--', program]);
		t.is(run.code, 0, run.stderr);
		t.is(values(run.stdout).get('fix_add'), '105', entry);
		const compiled = path.join(directory, `${odd}/${entry} compiled.cfg`);
		const compile = await pdi(['config', 'compile', file, '-o', compiled]);
		t.is(compile.code, 0, compile.stderr);
		const byHand = await runPreloaded(program, [], compiled);
		t.is(byHand.code, 0, byHand.stderr);
		t.is(values(byHand.stdout).get('fix_add'), '105', `${entry} compiled, by hand`);
	}

	const byHand = await runPreloaded(program, [], path.join(directory, 'c.cfg'));
	t.is(values(byHand.stdout).get('fix_add'), '105', 'the text config by hand');
	const inner = path.join(directory, odd, 'inner.cfg');
	writeFileSync(inner, 'backend fix = ./fix.so\nrelink $main fix_add fix wrap_fix_add\n');
	const innerRun = await pdi(['run', '-c', inner, '--', program]);
	t.is(values(innerRun.stdout).get('fix_add'), '105', 'a config file in that directory, with pdi run');
	t.is(values((await runPreloaded(program, [], inner)).stdout).get('fix_add'), '105', 'and by hand');
});

test('with onError: warn, pdi run and the compiled config run by hand both skip a missing backend and keep the other rules', async t => {
	const directory = scratch({'c.yaml': [
		'options: {onError: warn}',
		'backends:',
		'  - {name: gone, library: ./gone.so}',
		`  - {name: fix, library: "./${odd}/fix.so"}`,
		'rules:',
		'  - relink: {object: $main, function: fix_add_twice, backend: gone, wrapper: w}',
		`  - ${relink}`,
		'',
	].join('\n')});
	const file = path.join(directory, 'c.yaml');
	const run = await pdi(['run', '-c', file, '--', program]);
	t.is(run.code, 0, run.stderr);
	t.is(values(run.stdout).get('fix_add'), '105');
	t.is(values(run.stdout).get('fix_add_twice'), '2');
	const backendWarning = `pdi: warning: ${file}:3:27: backend 'gone': library '${directory}/gone.so' not found`;
	t.is(run.stderr.split('\n').filter(line => line.startsWith(backendWarning)).length, 1, run.stderr);
	const compiled = path.join(directory, 'c.cfg');
	t.is((await pdi(['config', 'compile', file, '-o', compiled])).code, 0);
	const byHand = await runPreloaded(program, [], compiled);
	t.is(byHand.code, 0, byHand.stderr);
	t.is(values(byHand.stdout).get('fix_add'), '105');
	t.is(byHand.stderr, run.stderr);
	const check = await pdi(['config', 'check', file]);
	t.is(check.code, 0);
	t.true(check.stderr.startsWith(`${backendWarning} (searched: ${directory}/gone.so) (backend skipped)\n`), check.stderr);
});

test('a relative log file is resolved against the config file\'s directory in every spelling', async t => {
	const directory = scratch({
		'conf/c.cfg': `log_level = info\nlog_file = "logs #1/cfg.log"\nbackend fix = "../${odd}/fix.so"\nrelink $main fix_add fix wrap_fix_add\n`,
		'conf/c.yaml': `options: {log: {level: info, file: "logs #1/yaml.log"}}\nbackends:\n  - {name: fix, library: "../${odd}/fix.so"}\nrules:\n  - ${relink}\n`,
		'conf/c.json': JSON.stringify({options: {log: {level: 'info', file: 'logs #1/json.log'}}}),
	});
	mkdirSync(path.join(directory, 'conf/logs #1'));
	for (const [entry, log] of [['c.cfg', 'cfg.log'], ['c.yaml', 'yaml.log'], ['c.json', 'json.log']] as const) {
		const run = await pdi(['run', '-c', path.join(directory, 'conf', entry), '--', program]);
		t.is(run.code, 0, run.stderr);
		const logFile = path.join(directory, 'conf/logs #1', log);
		t.true(existsSync(logFile), `${entry}: ${logFile}`);
		if (entry !== 'c.json') {
			t.regex(readFileSync(logFile, 'utf8'), /relink fix_add in \$main: 1 slot\(s\) -> wrap_fix_add/);
		}
	}

	t.false(existsSync(path.join(root, 'logs #1')), 'nothing is written relative to the current directory');
});
