import {spawnSync} from 'node:child_process';
import {writeFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {cliPath} from './helpers/cli.js';
import {compileC, scratchDirectory} from './helpers/files.js';

// A backend's copy of the stderr the program started with (the count backend's report, act's -v counts) is not
// held by a daemon the program forks: a forked child drops it, as the core's log does, so that reading the pipe to
// its end does not wait for the daemon. Was wrong: `x=$(pdi run -c count.yaml -- daemon 2>&1)` waited for it.
const scratch = scratchDirectory('pdi-report-daemon-');
const daemon = compileC(scratch, 'pdi-test-daemon', `#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
int main(void) {
	printf("pid %d\\n", (int)getpid());
	fflush(stdout);
	if (fork() == 0) {
		setsid();
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		sleep(20);
		_exit(0);
	}
	return 0;
}
`);

const configs = {
	'the count backend': ['backend count = count\nrelink $main getpid count count_getpid\n', [], /^pdi-count: getpid 1$/m],
	'the act backend with -v': ['act $main getpid count\n', ['-v'], /act \$main getpid: 1 call\(s\) seen, 1 fired/],
} as const;

for (const [name, [rules, options, report]] of Object.entries(configs)) {
	test(`the report of ${name} reaches a pipe stderr, and a daemon the program forks does not hold that pipe open`, t => {
		const config = path.join(scratch, `${name.replaceAll(' ', '-')}.cfg`);
		writeFileSync(config, rules);
		const started = Date.now();
		const run = spawnSync(process.execPath, [cliPath, 'run', ...options, '-c', config, '--', daemon], {stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000});
		const elapsed = Date.now() - started;
		spawnSync('pkill', ['-x', 'pdi-test-daemon']);
		t.is(run.status, 0, run.stderr.toString());
		t.regex(run.stdout.toString(), /^pid \d+\n$/);
		t.regex(run.stderr.toString(), report);
		t.true(elapsed < 15_000, `the pipe stayed open ${elapsed} ms`);
	});
}
