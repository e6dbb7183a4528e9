import {execFileSync} from 'node:child_process';
import path from 'node:path';
import test from 'ava';
import {pdi} from './helpers/cli.js';
import {compileC, scratchDirectory} from './helpers/files.js';

// A timer's signal handler makes instrumented calls while the main thread makes its own. The thread's inside-pdi
// mark was two stores; a handler's call between them left its own stack pointer as the mark, the next call at that
// stack pointer took the thread for one that had jumped out of a hook (a false "signal handler jumped out" warning
// in about one run in six), and built its entry in the slot the main thread was building: the program crashed with
// SIGSEGV once in about ten runs. The race is a matter of chance: each run gives it some ten thousand signals.
const scratch = scratchDirectory('pdi-signal-mark-race-');
const program = compileC(scratch, 'timer-calls', `#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>
static volatile long handled;
static void on_alarm(int signal) {
	(void)signal;
	handled++;
	volatile size_t length = strlen("abcdef");
	(void)length;
	int saved = errno;
	getpgrp();
	errno = saved;
}
int main(int argc, char **argv) {
	int rounds = atoi(argv[1]);
	struct sigaction action;
	memset(&action, 0, sizeof action);
	action.sa_handler = on_alarm;
	action.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &action, NULL);
	struct itimerval every = {{0, 20}, {0, 20}}, never = {{0, 0}, {0, 0}};
	setitimer(ITIMER_REAL, &every, NULL);
	long sum = 0;
	for (int i = 0; i < rounds; i++) {
		sum += (long)strlen(argv[0]);
		sum += getppid() > 0;
	}
	setitimer(ITIMER_REAL, &never, NULL);
	printf("sum %ld handled %s\\n", sum, handled > 0 ? "some" : "none");
	return 0;
}
`, ['-O2']);

test('instrumented calls of a signal handler amid the program\'s own leave them whole: no crash, no jump out reported', async t => {
	const bare = execFileSync(program, ['300000'], {encoding: 'utf8'});
	t.regex(bare, /^sum \d+ handled some\n$/);
	for (let run = 0; run < 4; run++) {
		const traced = await pdi(['trace', '-o', path.join(scratch, 'trace.txt'), '--', program, '300000'], {timeout: 120_000});
		t.is(traced.code, 0, `run ${run}: ${traced.stderr}`);
		t.is(traced.stdout, bare, `run ${run}`);
		t.notRegex(traced.stderr, /jumped out/, `run ${run}`);
	}
});
