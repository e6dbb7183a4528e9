// A child forked while `pdi trace -p` traced its parent inherits that trace unfollowed (without -f only the parent is
// traced). Traced itself later, the return of the call it was in when the attach came (usleep) was written into the
// new trace as a call without arguments, whatever -e named.
import {spawn} from 'node:child_process';
import {readFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {collectOutput, startPdi} from './helpers/cli.js';
import {compileC, scratchDirectory} from './helpers/files.js';
import {forkerSource} from './helpers/attach-fixture.js';
import {until} from './helpers/until.js';

const scratch = scratchDirectory('pdi trace forked child ');
const forker = compileC(scratch, 'forker', forkerSource(20000));

test('a child forked while its parent was traced, traced later with -e, gets only the calls -e names', async t => {
	const parent = spawn(forker, [], {stdio: ['pipe', 'pipe', 'inherit']});
	t.teardown(() => parent.kill('SIGKILL'));
	const output = collectOutput(parent);
	t.true(await until(() => output.stdout().includes('ready\n'), 10_000));
	const parentTrace = path.join(scratch, 'parent.txt');
	const first = startPdi(['trace', '-p', String(parent.pid), '-o', parentTrace]);
	t.true(await until(() => first.stderr().includes('tracing process'), 20_000), first.stderr());
	parent.stdin.write('fork\n');
	t.true(await until(() => /^child \d+$/m.test(output.stdout()), 10_000));
	const child = Number(/^child (\d+)$/m.exec(output.stdout())![1]);
	t.teardown(() => {
		try {
			process.kill(child, 'SIGKILL');
		} catch {}
	});
	first.child.kill('SIGINT');
	t.is(await first.exited, 0, first.stderr());
	const childTrace = path.join(scratch, 'child.txt');
	const second = startPdi(['trace', '-p', String(child), '-e', 'getppid', '-o', childTrace]);
	t.true(await until(() => readFileSync(childTrace, {encoding: 'utf8', flag: 'a+'}).split('forker!getppid() = ').length > 3, 20_000), second.stderr());
	second.child.kill('SIGINT');
	t.is(await second.exited, 0, second.stderr());
	const lines = readFileSync(childTrace, 'utf8').trim().split('\n');
	t.deepEqual(lines.filter(line => !/^\d+ \d+ {2}forker!getppid\(\) = \d+$/.test(line)), []);
	process.kill(child, 0);
});
