// A timer whose handler jumps out (siglongjmp) every 2 ms while the program's calls are traced, recursing through a
// library: the trace ring's waits (for a reservation a jump left, for a full ring) were counted afresh at each call and
// lasted longer than the gap between jumps, so none ever ended and the program hung (3 runs of 6), its output lost.
import {execFileSync, spawn} from 'node:child_process';
import path from 'node:path';
import test from 'ava';
import {cliPath} from './helpers/cli.js';
import {compileC, scratchDirectory} from './helpers/files.js';

const scratch = scratchDirectory('pdi-trace-jump-storm-');
compileC(scratch, 'librec.so', '#include <string.h>\nint rec(int n, int (*f)(int)) { if (n <= 0) return (int)strlen("end"); return f(n - 1) + 1; }\n', ['-O2', '-shared', '-fPIC']);
const program = compileC(scratch, 'storm', `#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>
int rec(int n, int (*f)(int));
static int again(int n) { char text[32]; snprintf(text, sizeof text, "%d", n); return rec(n, again) + (int)strlen(text) * 0; }
static volatile sig_atomic_t signals, jumps, armed;
static sigjmp_buf back;
static void on_alarm(int signal) {
  (void)signal;
  signals++;
  if (armed && signals % 7 == 0) { armed = 0; jumps++; siglongjmp(back, 1); }
}
int main(int argc, char **argv) {
  struct sigaction action = {0};
  action.sa_handler = on_alarm;
  action.sa_flags = SA_RESTART;
  sigaction(SIGALRM, &action, 0);
  long iterations = atol(argv[1]);
  static volatile double sum;
  static volatile long done, i;
  char text[64];
  struct itimerval every = {{0, 300}, {0, 300}};
  setitimer(ITIMER_REAL, &every, 0);
  for (i = 0; i < iterations; i++) {
    if (sigsetjmp(back, 1) == 0) {
      armed = 1;
      snprintf(text, sizeof text, "%.10g", i * 1.5);
      double value = strtod(text, 0) + rec(20, again);
      armed = 0;
      sum += value;
      done++;
    } else {
      i--;
    }
  }
  struct itimerval off = {{0, 0}, {0, 0}};
  setitimer(ITIMER_REAL, &off, 0);
  printf("sum=%.17g done=%ld\\n", sum, done);
  return 0;
}
`, ['-O2', '-L', scratch, '-l:librec.so', `-Wl,-rpath,${scratch}`]);

test('a program whose timer handler jumps out of traced calls every 2 ms ends with its own output, every run', async t => {
	t.timeout(200_000);
	const bare = execFileSync(program, ['2000'], {encoding: 'utf8'});
	t.regex(bare, /^sum=\d+ done=2000\n$/);
	for (let run = 0; run < 4; run++) {
		const output = path.join(scratch, `trace-${run}.txt`);
		const traced = spawn(process.execPath, [cliPath, 'trace', '-o', output, '--', program, '2000'], {stdio: ['ignore', 'pipe', 'pipe']});
		let stdout = '';
		traced.stdout.setEncoding('utf8').on('data', (chunk: string) => {
			stdout += chunk;
		});
		// A hung run: pdi passes the SIGTERM on to the program, and both end.
		const timer = setTimeout(() => traced.kill('SIGTERM'), 30_000);

		const code = await new Promise<number | null>(resolve => traced.on('close', resolve));
		clearTimeout(timer);
		t.is(code, 0, `run ${run}: the program hung`);
		t.is(stdout, bare, `run ${run}`);
	}
});
