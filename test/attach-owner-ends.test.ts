// The pdi that attached a config ends without detaching: a Node script that never calls detach() (the process
// exits normally, or by an exception), or a `pdi attach` killed by SIGKILL. The attached program must not keep rules
// that nothing can ever remove (docs/attach.md, "If pdi ends without detaching").
import {spawn} from 'node:child_process';
import path from 'node:path';
import test from 'ava';
import {attach, attachedReport} from '../src/ts/attach/attach.js';
import type {ProcessReport} from '../src/ts/elf/model.js';
import {collectOutput, pdi, startPdi} from './helpers/cli.js';
import {scratchDirectory, writeFiles} from './helpers/files.js';
import {countConfig, startFixture} from './helpers/attach-fixture.js';

const module = path.resolve('dist/ts/index.js');

/** The object the program's `write` slot points into now. */
function writeTarget(report: ProcessReport): string | undefined {
	return report.objects.find(object => object.main)?.imports?.find(slot => slot.symbol === 'write')?.target?.name;
}

/** Runs a Node script that attaches `countConfig` to `pid`, prints `attached`, then ends as `ending` says without detaching. */
async function attachAndEnd(pid: number, ending: string): Promise<{code: number | null; stdout: string; stderr: string}> {
	const source = [
		`import {attach} from ${JSON.stringify(module)};`,
		`await attach(${pid}, ${JSON.stringify(countConfig)}, {variables: {PDI_COUNT_OUTPUT: '/dev/null'}});`,
		'console.log(\'attached\');',
		ending,
	].join('\n');
	const output = collectOutput(spawn(process.execPath, ['--input-type=module', '-e', source], {stdio: ['ignore', 'pipe', 'pipe']}));
	const code = await output.closed;
	return {code, stdout: output.stdout(), stderr: output.stderr()};
}

for (const [how, ending, status] of [
	['returns without calling detach()', '', 0],
	['ends by an uncaught exception', 'throw new Error(\'the script failed\');', 1],
	['calls process.exit()', 'process.exit(3);', 3],
] as const) {
	test.serial(`an attach() whose Node process ${how} is detached as that process exits, and the program runs on as before`, async t => {
		const fixture = await startFixture(t);
		const own = writeTarget(await attachedReport(fixture.pid, '$main'));
		t.truthy(own);
		const run = await attachAndEnd(fixture.pid, ending);
		t.is(run.code, status, run.stderr);
		t.is(run.stdout, 'attached\n');
		t.notRegex(run.stderr, /could not detach/);
		t.is(writeTarget(await attachedReport(fixture.pid, '$main')), own, 'the slot is the program\'s own again');
		// Before: every later attach was refused with `pdi is already attached to this process: detach first`.
		const again = await attach(fixture.pid, countConfig, {variables: {PDI_COUNT_OUTPUT: '/dev/null'}});
		t.is(writeTarget(await attachedReport(fixture.pid, '$main')), 'pdi-backend-count.so');
		await again.detach();
		const end = await fixture.finish();
		t.is(end.code, 0, end.stderr);
		t.regex(end.stdout, /^done /m);
	});
}

test.serial('a pdi attach killed by SIGKILL leaves its session in the program; the next attach closes it and goes on, and its detach leaves the program as it was', async t => {
	const fixture = await startFixture(t);
	const own = writeTarget(await attachedReport(fixture.pid, '$main'));
	const config = path.join(writeFiles({'count.yaml': JSON.stringify(countConfig)}), 'count.yaml');
	const killed = startPdi(['attach', String(fixture.pid), '-c', config]);
	await new Promise<void>(resolve => {
		const check = setInterval(() => {
			if (killed.stderr().includes('attached to process')) {
				clearInterval(check);
				resolve();
			}
		}, 20);
	});
	killed.child.kill('SIGKILL');
	await killed.exited;
	t.is(writeTarget(await attachedReport(fixture.pid, '$main')), 'pdi-backend-count.so', 'nothing detached it');
	const next = await pdi(['attach', String(fixture.pid), '-c', config, '--detach-after', '0.2'], {env: {...process.env, PDI_COUNT_OUTPUT: '/dev/null'}});
	t.is(next.code, 0, next.stderr);
	t.regex(next.stderr, /^pdi: detached from process \d+$/m);
	t.is(writeTarget(await attachedReport(fixture.pid, '$main')), own);
	const end = await fixture.finish();
	t.is(end.code, 0, end.stderr);
});

test.serial('an attach held by a pdi that still runs is still refused', async t => {
	const fixture = await startFixture(t);
	const held = await attach(fixture.pid, countConfig, {variables: {PDI_COUNT_OUTPUT: '/dev/null'}});
	t.teardown(async () => held.detach());
	const scratch = scratchDirectory('pdi-attach-owner-');
	const config = path.join(writeFiles({'count.yaml': JSON.stringify(countConfig)}, 'pdi-attach-owner-'), 'count.yaml');
	const refused = await pdi(['attach', String(fixture.pid), '-c', config, '--detach-after', '0.2'], {cwd: scratch});
	t.is(refused.code, 2);
	t.is(refused.stderr, `pdi: process ${fixture.pid}: pdi is already attached to this process (by pdi attach, attach() or pdi trace -p): one at a time; end that one first\n`);
});
