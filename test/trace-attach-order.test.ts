// pdi trace -p writes its lines where it says that it traces (stderr): the reader thread began writing as soon as
// the process had the trace installed, so that a busy process's first lines came before `pdi: tracing process N`.
import {spawn} from 'node:child_process';
import {readFileSync, readlinkSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {pdi, startPdi} from './helpers/cli.js';
import {compileC, scratchDirectory, writeFiles} from './helpers/files.js';
import {until} from './helpers/until.js';

const scratch = scratchDirectory('pdi-trace-attach-order-');
const busy = compileC(scratch, 'busy', `#include <string.h>
int main(void) {
  const char *volatile text = "hello world";
  volatile size_t total = 0;
  for (;;)
    total += strlen(text);
}
`);

test('pdi trace -p says that it traces before the first line of the trace, on the stderr they share', async t => {
	const target = spawn(busy, [], {stdio: 'ignore'});
	t.teardown(() => target.kill('SIGKILL'));
	await new Promise(resolve => setTimeout(resolve, 100));
	for (let round = 0; round < 3; round++) {
		const run = startPdi(['trace', '-p', String(target.pid), '-e', 'strlen']);
		t.teardown(() => run.child.kill('SIGKILL'));
		t.true(await until(() => run.stderr().split('\n').length > 20, 20_000), run.stderr().slice(0, 2000));
		run.child.kill('SIGINT');
		t.is(await run.exited, 0);
		const lines = run.stderr().split('\n');
		t.is(lines[0], `pdi: tracing process ${target.pid}; Ctrl-C or SIGTERM detaches`, lines.slice(0, 3).join('\n'));
		t.regex(lines[1] ?? '', /strlen\("hello world"\) = 11$/);
	}

	t.is(target.exitCode, null);
});

test('pdi trace -p warns of an --object pattern that matched no object of the process, as pdi trace of a started program does', async t => {
	const target = spawn(busy, [], {stdio: 'ignore'});
	t.teardown(() => target.kill('SIGKILL'));
	await new Promise(resolve => setTimeout(resolve, 100));
	for (const [pattern, warned] of [['nosuch.so', true], ['libc.so*', false]] as const) {
		const run = startPdi(['trace', '-p', String(target.pid), '--object', pattern, '-c']);
		t.teardown(() => run.child.kill('SIGKILL'));
		t.true(await until(() => run.stderr().includes('tracing process'), 20_000), run.stderr());
		run.child.kill('SIGINT');
		t.is(await run.exited, 0, run.stderr());
		// Before, only a started program's trace said so.
		t.is(run.stderr().includes(`pdi: warning: no object matching --object '${pattern}' was loaded in process ${target.pid} while it was traced, so nothing of it was traced\n`), warned, run.stderr());
	}
});

const looping = compileC(scratch, 'looping', `#include <fcntl.h>
#include <unistd.h>
int main(void) {
  for (int i = 0; i < 600; i++) {
    int fd = open("/etc/hostname", O_RDONLY);
    if (fd >= 0)
      close(fd);
    usleep(50000);
  }
  return 0;
}
`);

test('pdi trace -p refused by a conflict says only the conflict (no notice of names without a call site, which the refused install never reached) and leaves -o FILE whole', async t => {
	const configs = writeFiles({'count.cfg': 'act $main open count\n'}, 'pdi-trace-refused-');
	const owner = startPdi(['run', '-c', `${configs}/count.cfg`, '--', looping]);
	t.teardown(() => owner.child.kill('SIGKILL'));
	let pid: number | undefined;
	t.true(await until(() => {
		pid = childPid(owner.child.pid!, looping);
		return pid !== undefined;
	}, 20_000));
	// The slots of close, open and usleep: the conflict is at open; before, usleep's notice came first.
	const kept = path.join(configs, 'kept.txt');
	writeFileSync(kept, 'an earlier trace\n');
	const refused = await pdi(['trace', '-p', String(pid), '-e', 'close,open,usleep', '-o', kept]);
	t.is(refused.code, 2);
	// Before, -o was emptied by the attach that was refused.
	t.is(readFileSync(kept, 'utf8'), 'an earlier trace\n');
	t.regex(refused.stderr, /^pdi: process \d+: trace: --object '\$main': callback \$main: conflicts with the act at \S+count\.cfg:1, which already redirects looping's slot for open\n$/);
	process.kill(pid!, 'SIGKILL');
});

/** The pid of the child of `parent` that runs `program`, once it has exec'd it. */
function childPid(parent: number, program: string): number | undefined {
	try {
		const children = readFileSync(`/proc/${parent}/task/${parent}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
		return children.find(child => {
			try {
				return readlinkSync(`/proc/${child}/exe`) === program;
			} catch {
				return false;
			}
		});
	} catch {
		return undefined;
	}
}
