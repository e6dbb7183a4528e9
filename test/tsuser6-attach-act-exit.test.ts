import {execFile} from 'node:child_process';
import path from 'node:path';
import test from 'ava';
import {attach} from '../src/ts/index.js';
import {delay, startFixture} from './helpers/attach-fixture.js';

// attach()'s `act` when the attached process ends before any detach(): its rules report at its exit, and `act`
// settles with those counts. Before, it settled only in detach(): `await attachment.act` after the process had
// ended waited for ever (a top-level await ended Node with status 13, an ava test timed out).
test.serial('attach(): act settles with the counts a process reported at its exit when it ends before any detach()', async t => {
	const fixture = await startFixture(t);
	const attachment = await attach(fixture.pid, {rules: [{act: {object: '$main', function: 'attach_work', do: {count: true}}}]});
	await delay(200);
	const {code} = await fixture.finish();
	t.is(code, 0);
	const counts = await Promise.race([attachment.act, delay(5000).then(() => 'not settled' as const)]);
	t.not(counts, 'not settled');
	t.is(counts.length, 1);
	const [count] = counts as Array<{pid: number; function: string; seen: number; fired: number}>;
	t.is(count?.pid, fixture.pid);
	t.is(count?.function, 'attach_work');
	t.true(count!.seen > 0 && count!.seen === count!.fired, JSON.stringify(count));
	await attachment.detach();
});

// The wait for the process's end starts only when `act` is read: an attachment whose counts nobody awaits keeps no
// timer, and Node ends while the attached process runs on.
test.serial('attach(): an attachment whose act is never read does not keep Node running', async t => {
	const fixture = await startFixture(t);
	const module = path.resolve('dist/ts/index.js');
	const source = `import {attach} from ${JSON.stringify(module)};
await attach(${fixture.pid}, {rules: [{act: {object: '$main', function: 'attach_work', do: {count: true}}}]});
console.log('attached');`;
	const started = Date.now();
	const run = await new Promise<{code: number; stdout: string}>(resolve => {
		execFile(process.execPath, ['--input-type=module', '-e', source], {timeout: 20_000}, (error, stdout) => {
			resolve({code: error ? Number(error.code) : 0, stdout});
		});
	});
	t.is(run.code, 0);
	t.is(run.stdout, 'attached\n');
	t.true(Date.now() - started < 15_000);
	const {code} = await fixture.finish();
	t.is(code, 0);
});
