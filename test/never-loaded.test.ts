import {execFileSync, spawnSync} from 'node:child_process';
import {closeSync, openSync, readFileSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {loadConfig} from '../src/ts/config/index.js';
import {trace} from '../src/ts/trace/trace.js';
import {cliPath, pdi, root} from './helpers/cli.js';
import {scratchDirectory} from './helpers/files.js';
import {fixtures, runPreloaded} from './helpers/preload.js';
import {textValue} from './helpers/quote.js';

// A rule whose object pattern matched no object during the whole life of the
// process is reported once, at its exit, by the process that opened the session
// (docs/config.md, "Objects that never load"). Fixtures: test/fixtures/processes/README.md.
const procprog = path.join(fixtures, 'processes/procprog');
const library = path.join(fixtures, 'lazy-pie/libfix.so');
const scratch = scratchDirectory('pdi-never-loaded-');

/** A text config of `lines` in the scratch directory; its path. */
function config(name: string, lines: readonly string[]): string {
	const file = path.join(scratch, name);
	writeFileSync(file, lines.join('\n') + '\n');
	return file;
}

const missing = config('missing.cfg', ['object lib = libnotthere.so.9', 'backend c = count', '', 'relink lib malloc c count_malloc']);
const missingLine = `pdi: warning: ${missing}:4: relink malloc: no object matching 'libnotthere.so.9' was loaded`;

/** The lines of `stderr` that report a rule whose object never loaded. */
const reports = (stderr: string) => stderr.split('\n').filter(line => line.endsWith(' was loaded'));

test('a rule whose object never loads is reported once at exit under pdi run, and the exit status is the program\'s', async t => {
	for (const [program, args, status] of [['/bin/true', [], 0], ['/bin/false', [], 1], [procprog, ['calls'], 0]] as const) {
		const run = await pdi(['run', '-c', missing, '--', program, ...args]);
		t.is(run.code, status, run.stderr);
		t.is(run.stderr, `${missingLine}\n`, program);
	}

	const verbose = await pdi(['run', '-v', '-c', missing, '--', '/bin/true']);
	t.is(verbose.code, 0, verbose.stderr);
	t.deepEqual(reports(verbose.stderr), [missingLine]);
	t.regex(verbose.stderr, /: relink malloc: no loaded object matching 'libnotthere\.so\.9' imports it yet$/m, 'the open still says where it stands');
});

test('the core started by hand reports the same line', async t => {
	const run = await runPreloaded('/bin/true', [], missing);
	t.is(run.code, 0, run.stderr);
	t.is(run.stderr, `${missingLine}\n`);
});

test('an object that the program dlopens later, even one it dlcloses again, is not reported', async t => {
	const file = config('later.cfg', ['backend c = count', 'relink libfix.so malloc c count_malloc', `act ${textValue(library)} fix_add count`, 'redefine lib*fix.so* fix_add_quiet c count_realloc']);
	for (const mode of ['dlopen', 'dlclose']) {
		const run = await pdi(['run', '-c', file, '--', procprog, mode, library]);
		t.is(run.code, 0, run.stderr);
		t.is(run.stdout, `libfix.so=${mode === 'dlopen' ? 'loaded' : 'closed'}\npw_add=5\npw_twice=8\npw_work=12\n`);
		// libfix.so does not import malloc: that rule is reported for it (the next test), not for its object.
		t.deepEqual(run.stderr.split('\n').filter(line => line !== ''), [`pdi: warning: ${file}:2: relink malloc: no object matching 'libfix.so' imported it while the program ran: the rule changed nothing`], mode);
	}

	const run = await pdi(['run', '-c', file, '--', procprog, 'calls']);
	t.is(run.code, 0, run.stderr);
	t.deepEqual(reports(run.stderr), [
		`pdi: warning: ${file}:2: relink malloc: no object matching 'libfix.so' was loaded`,
		`pdi: warning: ${file}:3: act fix_add: no object matching '${library}' was loaded`,
		`pdi: warning: ${file}:4: redefine fix_add_quiet: no object matching 'lib*fix.so*' was loaded`,
	]);
});

test('a forked child that exits does not repeat the report; a program a child execs shares it: one line for both', async t => {
	const forked = await pdi(['run', '-c', missing, '--', procprog, 'fork']);
	t.is(forked.code, 0, forked.stderr);
	t.true(forked.stdout.includes('child status=0\n'), forked.stdout);
	t.is(forked.stderr, `${missingLine}\n`);

	const spawned = await pdi(['run', '-c', missing, '--', procprog, 'spawn', 'fork-exec', '/bin/true']);
	t.is(spawned.code, 0, spawned.stderr);
	// Before December 2026 each said it (the exec'd /bin/true, then procprog); see test/rule-verdicts.test.ts.
	t.deepEqual(reports(spawned.stderr), [missingLine]);
});

test('$main, * and rules skipped for an error of their own are never reported as unloaded', async t => {
	const file = config('always.cfg', [
		'on_error = warn',
		'backend c = count',
		'relink $main malloc c count_malloc',
		'relink * free c count_free',
		'redefine * strlen c count_strlen',
		'act * open count',
		'relink libnotthere.so.9 malloc c no_such_wrapper',
	]);
	const run = await pdi(['run', '-c', file, '--', '/bin/true']);
	t.is(run.code, 0, run.stderr);
	t.deepEqual(reports(run.stderr), []);
	t.is(run.stderr.split('\n').filter(line => line.startsWith(`pdi: warning: ${file}:7:`)).length, 1, 'the skipped rule once');
	t.regex(run.stderr, /no_such_wrapper.*\(rule skipped\)$/m);
});

test('PDI_WARN_UNLOADED=0 silences the report; pdi trace quietens its own rules (except:trace) and warns about --object itself', async t => {
	const quiet = await runPreloaded('/bin/true', [], missing, {PDI_WARN_UNLOADED: '0'});
	t.is(quiet.code, 0, quiet.stderr);
	t.is(quiet.stderr, '');

	const traced = await pdi(['trace', '--object', 'libnotthere.so.9', '-o', path.join(scratch, 'trace.txt'), '--', procprog, 'fork']);
	t.is(traced.code, 0, traced.stderr);
	t.is(traced.stderr, 'pdi: warning: no object matching --object \'libnotthere.so.9\' was loaded, at start or later, so nothing of it was traced\n');
});

// Was silent: pdi trace's PDI_WARN_UNLOADED=0 quietened the rules of a --config too, so a misspelt act rule did nothing
// without a word under pdi trace, trace -p and trace(), where pdi run warned.
test('pdi trace --config and trace() report a config rule that met nothing as pdi run does, and not the trace\'s own rules', async t => {
	const config = path.join(scratch, 'misspelt.yaml');
	writeFileSync(config, 'rules:\n  - act: {object: $main, function: opne, do: {count: true}}\n');
	const warning = `pdi: warning: ${config}:2: act opne: no object matching '$main' imported it while the program ran: the rule saw no call`;
	const traced = await pdi(['trace', '--config', config, '-o', path.join(scratch, 'config.txt'), '--', '/bin/true']);
	t.is(traced.code, 0, traced.stderr);
	t.is(traced.stderr, `${warning}\n`);
	const {calls, done} = trace('/bin/true', [], {config: await loadConfig(config), stdio: 'ignore'});
	for await (const call of calls) {
		t.is(typeof call.function, 'string');
	}

	t.deepEqual((await done).warnings, [warning]);
});

test('pdi trace warns of each --object pattern that matched nothing when --object is given more than once, and of none that matched (it said nothing of a second pattern)', async t => {
	const output = path.join(scratch, 'several.txt');
	const both = await pdi(['trace', '--object', 'libnotthere.so.9', '--object', '$main', '--object', 'libnot*here.so', '--object', 'libc.so.6', '-o', output, '--', procprog, 'fork']);
	t.is(both.code, 0, both.stderr);
	t.is(both.stderr, [
		'pdi: warning: no object matching --object \'libnotthere.so.9\' was loaded, at start or later, so nothing of it was traced',
		'pdi: warning: no object matching --object \'libnot*here.so\' was loaded, at start or later, so nothing of it was traced',
		'',
	].join('\n'));
	const directory = path.join(fixtures, 'lazy-pie');
	const later = await pdi(['trace', '--object', 'libctor.so', '--object', 'libc.so.6', '-o', output, '--', path.join(directory, 'dlprog'), path.join(directory, 'libctor.so')]);
	t.is(later.code, 0, later.stderr);
	t.is(later.stderr, '', 'libctor.so matched when dlopen loaded it');
});

test('pdi trace --object of a library the program dlopens later traces its calls, constructor included, and warns of nothing', async t => {
	const directory = path.join(fixtures, 'lazy-pie');
	const file = path.join(scratch, 'later.txt');
	const traced = await pdi(['trace', '--object', 'libctor.so', '-o', file, '--', path.join(directory, 'dlprog'), path.join(directory, 'libctor.so')]);
	t.is(traced.code, 0, traced.stderr);
	t.is(traced.stderr, '');
	t.regex(readFileSync(file, 'utf8'), /libctor\.so!fix_add\(0x14, 0x16/);
});

test('a relink or act rule that no object imported the function for during the whole run is reported once at exit; one whose function is imported but never called is not', async t => {
	const misspelled = config('misspelled.cmd', ['act $main opne return=-1 errno=ENOENT', 'backend c = count', 'relink $main mallok c count_malloc', 'relink $main calloc@GLIBC_9.9 c count_calloc']);
	const run = await pdi(['run', '-c', misspelled, '--', procprog, 'calls']);
	t.is(run.code, 0, run.stderr);
	t.deepEqual(run.stderr.split('\n').filter(line => line !== ''), [
		`pdi: warning: ${misspelled}:1: act opne: no object matching '$main' imported it while the program ran: the rule saw no call`,
		`pdi: warning: ${misspelled}:3: relink mallok: no object matching '$main' imported it while the program ran: the rule changed nothing`,
		// Named as the rule spells it: procprog imports calloc, but in another version.
		`pdi: warning: ${misspelled}:4: relink calloc@GLIBC_9.9: no object matching '$main' imported it while the program ran: the rule changed nothing`,
	]);
	// procprog imports calloc: the act rule is installed (its condition never holds), and nothing is reported.
	const imported = config('imported.cmd', ['act $main calloc arg0=987654321 return=0']);
	const quiet = await pdi(['run', '-c', imported, '--', procprog, 'calls']);
	t.is(quiet.code, 0, quiet.stderr);
	t.is(quiet.stderr, '');
});

test('the report of a misspelled act function reaches a terminal or file stderr even when the program closes its stderr at exit, as cat does', t => {
	const misspelled = config('cat-opne.cmd', ['act $main opne return=-1 errno=ENOENT']);
	const errors = path.join(scratch, 'cat stderr.txt');
	const fd = openSync(errors, 'w');
	try {
		const run = spawnSync(process.execPath, [cliPath, 'run', '-c', misspelled, '--', 'cat', misspelled], {stdio: ['ignore', 'pipe', fd], timeout: 60_000});
		t.is(run.status, 0);
		t.is(run.stdout.toString(), 'act $main opne return=-1 errno=ENOENT\n');
	} finally {
		closeSync(fd);
	}
	t.is(readFileSync(errors, 'utf8'), `pdi: warning: ${misspelled}:1: act opne: no object matching '$main' imported it while the program ran: the rule saw no call\n`);
});

test('the report of a misspelled act function reaches a pipe stderr when the program closes its stderr at exit, and a daemon the program forks does not hold that pipe open', t => {
	const misspelled = config('cat-opne-pipe.cmd', ['act $main opne return=-1 errno=ENOENT']);
	const run = spawnSync(process.execPath, [cliPath, 'run', '-c', misspelled, '--', 'cat', misspelled], {stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000});
	t.is(run.status, 0);
	t.is(run.stdout.toString(), 'act $main opne return=-1 errno=ENOENT\n');
	t.is(run.stderr.toString(), `pdi: warning: ${misspelled}:1: act opne: no object matching '$main' imported it while the program ran: the rule saw no call\n`);
	// At the info level (counts at exit) too: the forked child closes its stdio and lives on for 20 s, as a daemon
	// does; reading the pipe to its end must not wait for it.
	const verbose = config('daemon-verbose.cmd', ['verbose = 2', 'act $main opne count']);
	const marker = `pdi-never-loaded-daemon-${process.pid}`;
	const daemonize = `import os, sys, time\nif os.fork() == 0:\n    os.setsid(); os.closerange(0, 3); time.sleep(20)\nsys.exit(0)  # ${marker}`;
	const started = Date.now();
	const daemon = spawnSync(process.execPath, [cliPath, 'run', '-c', verbose, '--', 'python3', '-c', daemonize], {stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000});
	spawnSync('pkill', ['-f', marker]);
	t.is(daemon.status, 0, daemon.stderr.toString());
	t.true(Date.now() - started < 15_000, `the pipe stayed open ${Date.now() - started} ms`);
	t.regex(daemon.stderr.toString(), /act \$main opne: 0 call\(s\) seen, 0 fired\n/);
});

test('-v names a callback rule whose object is not loaded by that object, not by a function \'*\' it would import', async t => {
	const callback = config('missing-callback.cfg', ['object lib = libnotthere.so.9', `backend c = ${textValue(path.join(fixtures, 'processes/proc-backend.so'))}`, '', 'callback lib * c']);
	const verbose = await pdi(['run', '-v', '-c', callback, '--', '/bin/true']);
	t.is(verbose.code, 0, verbose.stderr);
	t.regex(verbose.stderr, /:4: callback on 'libnotthere\.so\.9': no loaded object matches it yet$/m);
	t.notRegex(verbose.stderr, /callback \*/);
});

test('-v says that a callback backend\'s CB_REQ left every import of a loaded object alone, and a negative event id is a warning naming the site', async t => {
	// Before, both read 'no loaded object matches it yet', which sent the user to the object pattern.
	const source = path.join(scratch, 'declining.c');
	writeFileSync(source, '#include <pdi/backend.h>\nint PDI_BE_FUNC_CB_REQ(const pdi_cb_site_t *site) { (void)site; return EVENT; }\nvoid PDI_BE_FUNC_PRE_CB(pdi_cb_call_t *call) { (void)call; }\n');
	for (const event of ['0', '-5']) {
		const backend = path.join(scratch, `declining${event}.so`);
		execFileSync('gcc', ['-shared', '-fPIC', '-fvisibility=hidden', `-DEVENT=${event}`, '-I', path.join(root, 'include'), '-o', backend, source]);
		const rules = config(`declining${event}.cfg`, [`backend d = ${textValue(backend)}`, 'callback $main * d']);

		const run = await pdi(['run', '-v', '-c', rules, '--', procprog]);
		t.is(run.code, 0, run.stderr);
		t.regex(run.stderr, new RegExp(`:2: callback on '\\$main': PDI_BE_FUNC_CB_REQ of backend 'd' left all \\d+ import\\(s\\) alone$`, 'm'), event);
		t.notRegex(run.stderr, /no loaded object matches it yet/);
		const warning = /^pdi: warning: \S+:2:\d+: callback on '\$main': PDI_BE_FUNC_CB_REQ of backend 'd' returned -5 for \w+ in .+procprog, which is no event id \(0 leaves a site alone, > 0 instruments it\): it and every such site are left alone$/m;
		t.is(warning.test(run.stderr), event === '-5', run.stderr);
	}
});
