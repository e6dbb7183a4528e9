import {execFile} from 'node:child_process';
import {readFileSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {promisify} from 'node:util';
import test from 'ava';
import {root} from './helpers/cli.js';
import {scratchDirectory} from './helpers/files.js';

// A program pdi starts inherits from the shell what it would inherit without pdi, though Node (which runs pdi)
// marks the descriptors it inherits close-on-exec and resets the signals at its start, and its spawn resets them
// again in the child. Before, `pdi run -- prog 3>log` gave prog no descriptor 3 (a write to it failed with EBADF, and
// one to 10 went to the core's copy of stderr), and nohup's or a background job's ignored signals were not ignored.
const run = promisify(execFile);
const bin = path.join(root, 'bin/pdi');
const scratch = scratchDirectory('pdi-inherited-');
const config = path.join(scratch, 'empty.yaml');
writeFileSync(config, '');

/** Runs `script` with bash (dash takes no descriptor past 9), $0 being the pdi command, in the scratch directory; resolves to its stdout. */
async function shell(script: string): Promise<string> {
	const {stdout} = await run('bash', ['-c', script, bin], {cwd: scratch});
	return stdout;
}

test('descriptors the shell opens for pdi run, pdi trace and pdi inspect --run reach the program at their numbers', async t => {
	for (const [name, command] of [['run', `run -c ${config}`], ['trace', 'trace -o /dev/null'], ['inspect', 'inspect --run']]) {
		await shell(`"$0" ${command} -- bash -c 'echo three >&3; echo ten >&10' 3>${name}-3.txt 10>${name}-10.txt >/dev/null 2>${name}-err.txt`);
		t.is(readFileSync(path.join(scratch, `${name}-3.txt`), 'utf8'), 'three\n', name);
		t.is(readFileSync(path.join(scratch, `${name}-10.txt`), 'utf8'), 'ten\n', name);
		t.is(readFileSync(path.join(scratch, `${name}-err.txt`), 'utf8'), '', name);
	}
});

test('signals the shell ignores stay ignored in the program under pdi run and pdi trace, as without pdi', async t => {
	const status = '"$1" /proc/self/status | grep -E "^Sig(Ign|Blk)"';
	const bare = await shell(`trap '' HUP INT QUIT PIPE; sh -c '${status.replace('"$1"', 'cat')}'`);
	t.regex(bare, /^SigBlk:\t0+\nSigIgn:\t0+100[57]\n$/);
	for (const command of [`run -c ${config}`, 'trace -o /dev/null']) {
		t.is(await shell(`trap '' HUP INT QUIT PIPE; "$0" ${command} -- sh -c '${status}' sh cat`), bare, command);
	}
});

test('signals blocked when pdi starts are blocked in the program, as without pdi', async t => {
	const script = [
		'import signal, subprocess, sys',
		'signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1, signal.SIGUSR2})',
		'status = ["grep", "^SigBlk", "/proc/self/status"]',
		'print(subprocess.run(status, capture_output=True, text=True).stdout, end="")',
		'print(subprocess.run([sys.argv[1], "run", "-c", sys.argv[2], "--", *status], capture_output=True, text=True).stdout, end="")',
	].join('\n');
	const {stdout} = await run('python3', ['-c', script, bin, config]);
	t.is(stdout, 'SigBlk:\t0000000000000a00\nSigBlk:\t0000000000000a00\n');
});

test('a standard stream the shell closed is closed in the program under pdi run and pdi trace, as without pdi: ls >&- fails with a write error', async t => {
	// Node opens /dev/null on a closed standard stream before any JavaScript runs: the program wrote there without
	// an error (ls >&- exited 0).
	const states = 'for fd in 0 1 2; do s=closed; [ -e /proc/self/fd/$fd ] && s=open; printf "$fd:$s " >&9; done';
	for (const closing of ['<&-', '>&-', '2>&-', '>&- 2>&-']) {
		const bare = await shell(`bash -c '${states}' 9>&1 ${closing}; ls / ${closing}; echo "ls $?"`);
		t.regex(bare, /closed/, closing);
		for (const command of [`run -c ${config}`, 'trace -o /dev/null']) {
			const under = await shell(`"$0" ${command} -- bash -c '${states}' 9>&1 ${closing}; "$0" ${command} -- ls / ${closing}; echo "ls $?"`);
			t.is(under, bare, `${command} ${closing}`);
		}
	}
});

test('with stdout closed, pdi comux run fails to write the replies, with and without --fork, and pdi\'s own output fails too: one line, status 2', async t => {
	const input = path.join(scratch, 'hello.comux');
	await run(bin, ['comux', 'build', '-o', input, '--chunk', '0:hello\\n', '--await']);
	const echo = path.join(root, 'test/fixtures/out/echo/echoserver');
	// Before: status 0, the replies gone to the /dev/null that Node put there.
	const replayed = await shell(`"$0" comux run hello.comux -- "${echo}" accept 0 2>&1 >&-; echo "status $?"`);
	t.is(replayed, 'pdi-comux: the replies could not be written to standard output: Bad file descriptor\nstatus 2\n');
	const forked = await shell(`"$0" comux run --fork hello.comux -- "${echo}" accept 0 2>&1 >&-; echo "status $?"`);
	t.is(forked, 'pdi: standard output: bad file descriptor\nstatus 2\n');
	t.is(await shell('"$0" inspect /bin/true 2>&1 >&-; echo "status $?"'), 'pdi: standard output: bad file descriptor\nstatus 2\n');
});

test('pdi trace refuses to write its trace to a standard stream the shell closed: one line where it can, status 2, the program not run', async t => {
	// Before: the reader thread wrote the trace to the /dev/null Node put there, and pdi exited with the program's status.
	const lost = 'pdi: standard output: bad file descriptor (the trace would be lost)\nstatus 2\n';
	t.is(await shell('"$0" trace -o - -- /bin/echo ran 2>&1 >&-; echo "status $?"'), lost);
	t.is(await shell('"$0" trace -o /dev/stdout -- /bin/echo ran 2>&1 >&-; echo "status $?"'), lost);
	t.is(await shell('"$0" trace -c -- /bin/echo ran 2>&-; echo "status $?"'), 'status 2\n');
	t.is(await shell('"$0" trace -o /dev/null -- /bin/echo ran 2>&-; echo "status $?"'), 'ran\nstatus 0\n');
});
