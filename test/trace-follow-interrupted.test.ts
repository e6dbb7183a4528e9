import {spawn} from 'node:child_process';
import test from 'ava';
import {cliPath} from './helpers/cli.js';
import {compileC, scratchDirectory} from './helpers/files.js';

// Daemonizes (its first process exits at once), then lives on for 10 s.
const daemon = compileC(scratchDirectory('pdi-trace-follow-interrupted-'), 'lingering', `
#include <unistd.h>
int main(void) {
	if (fork() > 0)
		_exit(0);
	setsid();
	for (int i = 0; i < 200; i++)
		usleep(50000);
	return 0;
}
`);

test('SIGINT to pdi trace -f waiting for a daemon it follows names the processes that run on untraced, and exits 130', async t => {
	// Before: the tables and status 130, with no word of the daemon left running.
	const trace = spawn(process.execPath, [cliPath, 'trace', '-f', '-c', '--', daemon], {stdio: ['ignore', 'ignore', 'pipe']});
	let stderr = '';
	trace.stderr.on('data', (chunk: Buffer) => {
		stderr += chunk.toString();
	});
	setTimeout(() => trace.kill('SIGINT'), 1500);
	const code = await new Promise<number | null>(resolve => trace.once('exit', resolve));
	const notice = /^pdi: SIGINT ended the trace; process (\d+) \(lingering\) runs on, untraced from now on$/m.exec(stderr);
	t.teardown(() => {
		if (notice) {
			try {
				process.kill(Number(notice[1]), 'SIGKILL');
			} catch {}
		}
	});
	t.is(code, 130, stderr);
	t.truthy(notice, stderr);
});
