import {readFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {scratchDirectory} from './helpers/files.js';
import {fixtures, runPreloaded, writeConfig} from './helpers/preload.js';

const events = path.join(fixtures, 'trace', 'events');
const scratch = scratchDirectory('pdi-act-');
const config = writeConfig(['backend act = act', 'callback $main * act']);

type Report = {pid: number; rule: string; index: number; object: string; function: string; seen: number; fired: number};

/** Runs `program` with the act backend and `rules` (PDI_ACT_RULES); the run and its report (PDI_ACT_REPORT). */
async function acted(program: string, args: readonly string[], rules: readonly string[], env: NodeJS.ProcessEnv = {}) {
	const file = path.join(scratch, `report-${Math.random().toString(36).slice(2)}.ndjson`);
	const run = await runPreloaded(program, args, config, {PDI_ACT_RULES: rules.join('\n'), PDI_ACT_REPORT: file, ...env});
	let report: Report[] = [];
	try {
		report = readFileSync(file, 'utf8').trim().split('\n').filter(line => line !== '').map(line => JSON.parse(line) as Report);
	} catch {}

	return {run, report};
}

test('open fails with ENOENT for one path only: cat reports it and exits 1, the other file is read', async t => {
	const {run, report} = await acted('/bin/cat', ['/etc/hostname', '/etc/debian_version'], ['$main open arg0~"/etc/hostname" return=-1 errno=ENOENT']);
	t.is(run.code, 1);
	t.regex(run.stderr.trim(), /^(\/bin\/)?cat: \/etc\/hostname: No such file or directory$/);
	t.is(run.stdout, readFileSync('/etc/debian_version', 'utf8'));
	t.deepEqual(report.map(({rule, object, function: name, seen, fired}) => ({rule, object, name, seen, fired})), [{rule: 'line 1', object: '$main', name: 'open', seen: 2, fired: 1}]);
});

test('argument globs match as fnmatch does: *, ?, [ranges], [!negation]', async t => {
	for (const [glob, fails] of [['*/host[n]am?', true], ['/etc/[a-h]ostname', true], ['/etc/[!h]ostname', false], ['/etc/host', false], ['*', true]] as const) {
		const {run} = await acted('/bin/cat', ['/etc/hostname'], [`$main open arg0~"${glob}" return=-1 errno=EACCES`]);
		t.is(run.code, fails ? 1 : 0, glob);
		t.is(/Permission denied/.test(run.stderr), fails, glob);
	}
});

test('count reports exact numbers under 8 threads', async t => {
	const {run, report} = await acted(events, ['threads'], ['$main abs count']);
	t.is(run.code, 0, run.stderr);
	t.is(report[0]!.seen, 8000);
	t.is(report[0]!.fired, 8000);
});

test('from and times, call numbers and every pick the calls; the first rule whose conditions hold acts', async t => {
	const {run, report} = await acted(events, ['print', '10'], [
		'$main abs call=2,4 return=-2',
		'$main abs from=4 times=2 return=-4',
		'$main abs every=5 return=-5',
	]);
	t.is(run.code, 0, run.stderr);
	t.is(run.stdout, ['1', '-2', '3', '-2', '-4', '6', '7', '8', '9', '-5', ''].join('\n'));
	t.deepEqual(report.map(({seen, fired}) => [seen, fired]), [[10, 2], [10, 1], [10, 1]]);
});

test('probability with a seed fires the same calls in two runs, and other calls with another seed', async t => {
	const outcome = async (seed: number) => (await acted(events, ['print', '200'], [`$main abs p=0.5 seed=${seed} return=0`])).run.stdout;
	const first = await outcome(1);
	t.is(first, await outcome(1));
	const fired = first.split('\n').filter(line => line === '0').length;
	t.true(fired > 60 && fired < 140, String(fired));
	t.not(first, await outcome(2));
});

test('delay holds the call the time given', async t => {
	const {run} = await acted(events, ['time'], ['$main abs delay=100ms']);
	t.is(run.code, 0, run.stderr);
	const ms = Number(run.stdout);
	// At least the time given; the bound above only says it was milliseconds, not seconds, on a loaded machine too.
	t.true(ms >= 100 && ms < 2000, String(ms));
});

test('signal raises it in the calling thread', async t => {
	const {run} = await acted(events, ['print', '3'], ['$main abs call=2 signal=SIGTERM']);
	t.is(run.signal, 'SIGTERM');
	// Killed at the second call: the first result was still in stdio's buffer, and nothing after it was made.
	t.is(run.stdout, '');
});

test('a bad rule refuses the backend with the line and the token', async t => {
	const {run} = await acted(events, ['print', '1'], ['# a comment', '$main abs return=-1 errno=ENOPE']);
	t.not(run.code, 0);
	t.regex(run.stderr, /act rule line 2: errno=ENOPE: not an errno name/);
});
