// Attaching to long-running processes whose files are not where a fresh process finds them: a C library that an
// upgrade replaced on disk, a process in its own PID namespace (a container) (docs/attach.md).
import {spawn} from 'node:child_process';
import {chmodSync, copyFileSync, readFileSync, renameSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {attach} from '../src/ts/attach/attach.js';
import {scratchDirectory} from './helpers/files.js';
import {collectOutput} from './helpers/cli.js';
import {attachprog, delay, startFixture, stopOnTeardown} from './helpers/attach-fixture.js';

const countWrites = {rules: [{act: {object: '$main', function: 'write', do: {count: true}}}]} as const;

/** The path of the C library that process `pid` has mapped. */
function mappedLibc(pid: number): string | undefined {
	const line = readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n').find(entry => /\/libc\.so\.6/.test(entry));
	return line?.slice(line.indexOf('/'));
}

test.serial('a process whose C library an upgrade replaced on disk is attached through the library it runs, not the new file', async t => {
	const directory = scratchDirectory('pdi-attach-');
	chmodSync(directory, 0o755);
	const libc = path.join(directory, 'libc.so.6');
	copyFileSync(mappedLibc(process.pid)!, libc);
	const fixture = await startFixture(t, 'env', [`LD_LIBRARY_PATH=${directory}`, attachprog]);
	// As a package upgrade does: the new file is renamed over the old one, which the process keeps running.
	copyFileSync(libc, `${libc}.new`);
	renameSync(`${libc}.new`, libc);
	t.is(mappedLibc(fixture.pid), `${libc} (deleted)`);
	// Before: 'process PID: its C library DIR/libc.so.6 (deleted) exports no dlopen (glibc 2.34 or later does; ...)'.
	const attached = await attach(fixture.pid, countWrites);
	await delay(50);
	await attached.detach();
	const [count] = await attached.act;
	t.true((count?.seen ?? 0) > 0, 'the attached rule saw the program\'s writes');
	const {code, stderr} = await fixture.finish();
	t.is(code, 0, stderr);
});

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
