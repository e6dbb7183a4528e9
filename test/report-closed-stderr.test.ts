import {spawn} from 'node:child_process';
import {writeFileSync} from 'node:fs';
import path from 'node:path';
import {setTimeout as delay} from 'node:timers/promises';
import test from 'ava';
import {pdi} from './helpers/cli.js';
import {compileC, scratchDirectory} from './helpers/files.js';
import {preloadPath} from './helpers/preload.js';

// A warning or a count report that pdi writes at exit or at a detach into the program's stderr, a pipe whose reader
// has gone, must not kill the program with SIGPIPE: its own writes there would have, but it may never write there.
const directory = scratchDirectory('pdi-report-closed-stderr-');
const program = compileC(directory, 'opener', '#include <fcntl.h>\n#include <stdlib.h>\n#include <unistd.h>\nint main(int argc, char **argv) { for (int i = 0; i < atoi(argv[1]); i++) { int fd = open("/etc/hostname", O_RDONLY); if (fd >= 0) close(fd); usleep(50000); } return 7; }\n');
// A rule on a function the program never calls: the core warns at the end (exit or detach).
const config = path.join(directory, 'typo.cfg');
writeFileSync(config, 'act $main opne count\n');

/** Starts `program` with its stderr a pipe whose reader is closed at once; the promise is its end. */
function withClosedStderr(args: string[], env: NodeJS.ProcessEnv = process.env) {
	const child = spawn(program, args, {stdio: ['ignore', 'ignore', 'pipe'], env});
	child.stderr.destroy();
	const ended = new Promise<{code: number | null; signal: NodeJS.Signals | null}>(resolve => {
		child.once('exit', (code, signal) => {
			resolve({code, signal});
		});
	});
	return {child, ended};
}

test('a program whose stderr reader has gone ends with its own status, not SIGPIPE, when the core warns at its exit', async t => {
	const {ended} = withClosedStderr(['3'], {...process.env, LD_PRELOAD: preloadPath(), PDI_CONFIG: config});
	t.deepEqual(await ended, {code: 7, signal: null});
});

test('a process whose stderr reader has gone runs on after pdi attach detaches with a warning for it', async t => {
	// Before: the process died of SIGPIPE at the detach, while pdi said 'detached from process N'.
	const {child, ended} = withClosedStderr(['200']);
	t.teardown(() => child.kill('SIGKILL'));
	await delay(300);
	const attached = await pdi(['attach', String(child.pid), '-c', config, '--detach-after', '1']);
	t.is(attached.code, 0, attached.stderr);
	await delay(300);
	t.is(child.exitCode, null, 'the process still runs');
	t.is(child.signalCode, null);
	child.kill('SIGTERM');
	t.deepEqual(await ended, {code: null, signal: 'SIGTERM'});
});
