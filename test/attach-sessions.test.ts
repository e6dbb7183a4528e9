// attach() and pdi attach as sessions: the act counts they report (at the detach, or at the process's exit), the
// warnings of rules that met nothing, and the environment they leave behind (docs/attach.md, docs/act.md).
import {spawn} from 'node:child_process';
import {existsSync, readdirSync, readFileSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {attach} from '../src/ts/attach/attach.js';
import {spawn as pdiSpawn} from '../src/ts/launch/spawn.js';
import {attachprog, countConfig, delay, startFixture, stopOnTeardown} from './helpers/attach-fixture.js';
import {pdi} from './helpers/cli.js';
import {scratchDirectory} from './helpers/files.js';

test.serial('the act counts of a program that spawn() started are its config\'s alone, once each, when an attach() with act rules of its own came and went', async t => {
	const child = pdiSpawn({rules: [{act: {object: '$main', function: 'attach_work', do: {count: true}}}]}, attachprog, [], {stdio: ['pipe', 'pipe', 'inherit']});
	stopOnTeardown(t, child);
	let stdout = '';
	await new Promise<void>(resolve => {
		child.stdout.on('data', (chunk: Buffer) => {
			stdout += chunk.toString();
			if (stdout.includes('ready')) {
				resolve();
			}
		});
	});
	const attached = await attach(child.pid!, {rules: [{act: {object: '$main', function: 'nanosleep', do: {count: true}}}]});
	await new Promise(resolve => setTimeout(resolve, 200));
	await attached.detach();
	child.stdin.end();
	const counts = await child.act;
	t.deepEqual(counts.map(({rule, function: name}) => `${rule} ${name}`), ['rules[0] attach_work']);
	t.true(counts[0]!.seen > 0 && counts[0]!.fired === counts[0]!.seen);
});

test.serial('pdi attach -v prints at the detach how many calls each act rule saw and acted on, and attach() resolves act to the same counts', async t => {
	const fixture = await startFixture(t);
	const scratch = scratchDirectory('pdi-attach-counts-');
	const config = path.join(scratch, 'counted.cfg');
	writeFileSync(config, 'act $main attach_work count\nact $main nanosleep delay=1us\n');
	const run = await pdi(['attach', String(fixture.pid), '-c', config, '--detach-after', '0.3', '-v']);
	t.is(run.code, 0, run.stderr);
	const printed = [...run.stderr.matchAll(/^pdi: \S+\/counted\.cfg:(\d): act \$main (\w+): (\d+) call\(s\) seen, (\d+) fired$/gm)];
	t.deepEqual(printed.map(([, line, name]) => `${line} ${name}`), ['1 attach_work', '2 nanosleep'], run.stderr);
	t.true(printed.every(([, , , seen, fired]) => Number(seen) > 0 && seen === fired), run.stderr);
	const quiet = await pdi(['attach', String(fixture.pid), '-c', config, '--detach-after', '0.1']);
	t.is(quiet.code, 0, quiet.stderr);
	t.notRegex(quiet.stderr, /call\(s\) seen/);

	const attached = await attach(fixture.pid, {rules: [{act: {object: '$main', function: 'attach_work', do: {count: true}}}]});
	await delay(200);
	await attached.detach();
	const counts = await attached.act;
	t.deepEqual(counts.map(({rule, function: name, pid}) => `${rule} ${name} ${pid}`), [`rules[0] attach_work ${fixture.pid}`]);
	t.true(counts[0]!.seen > 0 && counts[0]!.fired === counts[0]!.seen);
	t.is((await fixture.finish()).code, 0);
});

test.serial('a program that ends while attached reports the attached act rules at its exit: attach() resolves act to their counts, and a rule that saw no call is warned of as at a detach', async t => {
	const fixture = await startFixture(t);
	const attached = await attach(fixture.pid, {rules: [{act: {object: '$main', function: 'attach_work', do: {count: true}}}, {act: {object: '$main', function: 'attach_wrok', do: {count: true}}}]});
	await delay(200);
	const end = await fixture.finish();
	t.is(end.code, 0, end.stderr);
	await attached.detach();
	const counts = await attached.act;
	t.deepEqual(counts.map(({rule, function: name}) => `${rule} ${name}`), ['rules[0] attach_work', 'rules[1] attach_wrok']);
	t.true(counts[0]!.seen > 0 && counts[0]!.fired === counts[0]!.seen);
	t.is(counts[1]!.seen, 0);
	t.regex(end.stderr, /^pdi: warning: rules\[1\]: act attach_wrok: no object matching '\$main' imported it while the program ran: the rule saw no call$/m);

	const detached = await startFixture(t);
	const again = await attach(detached.pid, {rules: [{act: {object: '$main', function: 'attach_wrok', do: {count: true}}}]});
	await again.detach();
	const after = await detached.finish();
	t.regex(after.stderr, /^pdi: warning: rules\[0\]: act attach_wrok: no object matching '\$main' imported it while the program ran: the rule saw no call$/m);
});

test.serial('the variables an attach sets are as they were after the detach: one the program had keeps its value, one it had not is gone again', async t => {
	for (const before of ['before', undefined]) {
		const fixture = await startFixture(t, '/usr/bin/env', [...(before === undefined ? [] : [`ATTACHPROG_PROBE=${before}`]), attachprog]);
		const attached = await attach(fixture.pid, countConfig, {variables: {ATTACHPROG_PROBE: 'attached'}});
		await attached.detach();
		const end = await fixture.finish();
		t.is(end.code, 0, end.stderr);
		t.regex(end.stdout, new RegExp(`^probe ${before ?? '\\(unset\\)'}$`, 'm'));
	}

	// bash keeps its variables in a table of its own, apart from the C library's environ, and defines its own getenv
	// and setenv for it: a variable exported after bash started is in that table alone, and must stay there.
	const shell = spawn('bash', ['-c', 'export ATTACHPROG_PROBE=exported; echo ready; read line; echo "probe ${ATTACHPROG_PROBE-unset}"'], {stdio: ['pipe', 'pipe', 'inherit']});
	stopOnTeardown(t, shell);
	let printed = '';
	const ready = new Promise<void>(resolve => {
		shell.stdout.on('data', (chunk: Buffer) => {
			printed += chunk.toString();
			if (printed.startsWith('ready\n')) {
				resolve();
			}
		});
	});
	await ready;
	const attached = await attach(shell.pid!, countConfig, {variables: {ATTACHPROG_PROBE: 'attached'}});
	await attached.detach();
	shell.stdin.end('\n');
	await new Promise(resolve => shell.once('close', resolve));
	t.is(printed, 'ready\nprobe exported\n');
});

test.serial('relative report files given to attach() are in the caller\'s working directory, not in the attached process\'s', async t => {
	const home = process.cwd();
	const caller = scratchDirectory('pdi-attach-caller-');
	const target = scratchDirectory('pdi-attach-target-');
	t.teardown(() => {
		process.chdir(home);
	});
	process.chdir(target);
	const fixture = await startFixture(t);
	process.chdir(caller);
	const attached = await attach(fixture.pid, {
		...countConfig,
		rules: [...countConfig.rules, {act: {object: '$main', function: 'attach_work', do: {count: true}}}],
	}, {variables: {PDI_COUNT_OUTPUT: 'counts.txt', PDI_ACT_REPORT: 'act.report'}});
	await delay(100);
	await attached.detach();
	const counts = await attached.act;
	process.chdir(home);
	t.regex(readFileSync(path.join(caller, 'counts.txt'), 'utf8'), /^pdi-count: write [1-9]\d*$/m);
	t.true(counts.length === 1 && counts[0]!.seen > 0, JSON.stringify(counts));
	t.true(existsSync(path.join(caller, 'act.report')));
	t.deepEqual(readdirSync(target), []);
	await fixture.finish();
});

test.serial('each detach of the count backend reports that session\'s calls only, not the totals of every earlier session', async t => {
	const fixture = await startFixture(t);
	const scratch = scratchDirectory('pdi-attach-count-sessions-');
	const countsOf = async (config: typeof countConfig, file: string): Promise<string> => {
		const attached = await attach(fixture.pid, config, {variables: {PDI_COUNT_OUTPUT: path.join(scratch, file)}});
		await delay(100);
		await attached.detach();
		return existsSync(path.join(scratch, file)) ? readFileSync(path.join(scratch, file), 'utf8') : '';
	};

	const first = await countsOf(countConfig, 'first.txt');
	t.regex(first, /^pdi-count: write [1-9]\d*$/m);
	// The program never calls getppid: a session of that rule counts nothing (before: the first session's write line again).
	const idle = await countsOf({...countConfig, rules: [{relink: {object: '$main', function: 'getppid', backend: 'count', wrapper: 'count_getpid'}}]}, 'idle.txt');
	t.is(idle, '');
	const third = await countsOf(countConfig, 'third.txt');
	t.regex(third, /^pdi-count: write [1-9]\d*$/m, 'counting again after a session that counted nothing');
	const end = await fixture.finish();
	t.is(end.code, 0, end.stderr);
});
