// Attaching to long-running processes whose files are not where a fresh process finds them: a process in its own
// PID namespace (a container) (docs/attach.md).
import {spawn} from 'node:child_process';
import {readFileSync} from 'node:fs';
import test from 'ava';
import {attach} from '../src/ts/attach/attach.js';
import {collectOutput} from './helpers/cli.js';
import {attachprog, delay, stopOnTeardown} from './helpers/attach-fixture.js';

const countWrites = {rules: [{act: {object: '$main', function: 'write', do: {count: true}}}]} as const;

test.serial('a process in its own PID namespace (unshare --pid --mount-proc, as in a container) is attached', async t => {
	const child = spawn('unshare', ['--pid', '--fork', '--mount-proc', attachprog], {stdio: ['pipe', 'pipe', 'pipe']});
	stopOnTeardown(t, child);
	const output = collectOutput(child);
	while (!/^ready$/m.test(output.stdout())) {
		t.is(child.exitCode, null, output.stderr());
		await delay(20);
	}

	// The fixture prints its thread ids as its namespace numbers them: find its pid here, a child of unshare.
	const pid = Number(readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim());
	t.regex(readFileSync(`/proc/${pid}/status`, 'utf8'), /^NSpid:\t\d+\t1$/m);
	// Before: 'process PID: cannot read its program (No such file or directory)': /proc/PID/exe was read through the
	// process's root, whose /proc numbers the processes of its namespace.
	const attached = await attach(pid, countWrites);
	await delay(50);
	await attached.detach();
	const [count] = await attached.act;
	t.true((count?.seen ?? 0) > 0, 'the attached rule saw the program\'s writes');
	child.stdin.end();
	t.is(await output.closed, 0, output.stderr());
});
