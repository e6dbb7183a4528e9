import {execFile} from 'node:child_process';
import path from 'node:path';
import {promisify} from 'node:util';
import test from 'ava';
import {root} from './helpers/cli.js';
import {compileC, scratchDirectory} from './helpers/files.js';

// A program that stops itself (raise(SIGSTOP), as one that waits for a debugger does) under pdi run or pdi trace,
// typed into an interactive bash: the shell shows the job stopped and gives its prompt back, and `fg` continues it,
// as without pdi. Was wrong: pdi waited on, and the terminal hung until Ctrl-Z and `fg`.
const run = promisify(execFile);
const bin = path.join(root, 'bin/pdi');
const scratch = scratchDirectory('pdi-job-stops-');
const selfStop = compileC(scratch, 'selfstop', `#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
int main(int argc, char **argv) {
	printf("ready\\n");
	fflush(stdout);
	if (argc > 1 && strcmp(argv[1], "wait") == 0)
		sleep(2);
	else
		raise(argc > 1 && strcmp(argv[1], "tstp") == 0 ? SIGTSTP : SIGSTOP);
	printf("resumed\\n");
	return 7;
}
`);

// Types COMMAND into an interactive bash on a new terminal (with "ctrl-z" first, types Ctrl-Z once it printed
// "ready"); once the job is stopped, asks for $?, types fg, and asks for $? again.
const session = [
	'import os, pty, select, sys, time',
	'ctrl_z = sys.argv[1] == "ctrl-z"',
	'command = sys.argv[2]',
	'child, terminal = pty.fork()',
	'if child == 0:',
	'    os.execvp("bash", ["bash", "--norc", "--noprofile", "-i"])',
	'output = b""',
	'def read(seconds, until):',
	'    global output',
	'    end = time.time() + seconds',
	'    while time.time() < end and until not in output:',
	'        if select.select([terminal], [], [], 0.05)[0]:',
	'            try:',
	'                data = os.read(terminal, 4096)',
	'            except OSError:',
	'                return',
	'            output += data',
	'read(5, b"# ")',
	'os.write(terminal, command.encode() + b"\\n")',
	'if ctrl_z:',
	'    read(20, b"ready")',
	'    os.write(terminal, b"\\x1a")',
	'read(20, b"Stopped")',
	'os.write(terminal, b"echo stopped-status=$?\\n")',
	'read(5, b"stopped-status=1")',
	'os.write(terminal, b"fg\\n")',
	'read(20, b"resumed")',
	'os.write(terminal, b"echo final-status=$?\\n")',
	'read(5, b"final-status=7")',
	'os.write(terminal, b"exit\\n")',
	'read(5, b"never")',
	'os.close(terminal)  # a hangup: bash ends, and so do its jobs, whatever became of them',
	'os.waitpid(child, 0)',
	'sys.stdout.write(output.decode(errors="replace").replace("\\r", ""))',
].join('\n');

/** What the shell showed: the job's stop line, the two statuses and whether the program resumed. */
async function jobStory(how: string, command: string): Promise<string[]> {
	const {stdout} = await run('python3', ['-c', session, how, command], {timeout: 90_000});
	// bash's bracketed-paste switch (ESC [?2004l) may start a line.
	return stdout.replaceAll('\u001B[?2004l', '').split('\n').filter(line => /^\[1\]\+ +Stopped|^(?:stopped|final)-status=\d+$|^resumed$/.test(line))
		.map(line => line.startsWith('[1]+') ? '[1]+ Stopped' : line);
}

for (const [how, argument, status] of [['raise', '', 147], ['raise', 'tstp', 148], ['ctrl-z', 'wait', 148]] as const) {
	const what = how === 'ctrl-z' ? 'a program stopped with Ctrl-Z' : `a program that stops itself with ${argument === 'tstp' ? 'SIGTSTP' : 'SIGSTOP'}`;
	test(`${what} under pdi run and pdi trace is a stopped job of the shell, and fg continues it, as without pdi`, async t => {
		const expected = ['[1]+ Stopped', `stopped-status=${status}`, 'resumed', 'final-status=7'];
		t.deepEqual(await jobStory(how, `${selfStop} ${argument}`), expected, 'bare');
		for (const command of ['run', 'trace -o /dev/null']) {
			t.deepEqual(await jobStory(how, `"${bin}" ${command} -- ${selfStop} ${argument}`), expected, command);
		}
	});
}
