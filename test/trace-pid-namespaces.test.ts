// pdi trace of processes in a pid namespace of their own (unshare --pid, a container), and of the children of a
// process traced before: each traced nothing, or never ended.
import {spawn, type ChildProcess} from 'node:child_process';
import {readFileSync} from 'node:fs';
import test, {type ExecutionContext} from 'ava';
import {pdi} from './helpers/cli.js';
import {compileC, scratchDirectory} from './helpers/files.js';
import {until} from './helpers/until.js';

const scratch = scratchDirectory('pdi-trace-namespaces-');
// Calls usleep and getppid ten times a second; forks a child that does the same at each SIGUSR1.
const forker = compileC(scratch, 'forker', `#include <signal.h>
#include <unistd.h>
static volatile sig_atomic_t asked;
static void ask(int signal) { (void)signal; asked = 1; }
int main(void) {
  signal(SIGUSR1, ask);
  for (;;) {
    if (asked) {
      asked = 0;
      if (fork() == 0)
        for (;;) { getppid(); usleep(100000); }
    }
    getppid();
    usleep(100000);
  }
}
`);

function started(t: ExecutionContext, command: string, args: string[]): ChildProcess {
	const child = spawn(command, args, {stdio: 'ignore', detached: true});
	t.teardown(() => {
		try {
			process.kill(-child.pid!, 'SIGKILL');
		} catch {}
	});
	return child;
}

function children(pid: number): number[] {
	try {
		return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
	} catch {
		return [];
	}
}

/** The -c table of a two-second pdi trace -p of `pid`. */
async function tracedFor2s(pid: number): Promise<{code: number; stderr: string}> {
	const run = spawn(process.execPath, ['dist/cli/pdi.js', 'trace', '-p', String(pid), '-c'], {stdio: ['ignore', 'ignore', 'pipe']});
	let stderr = '';
	run.stderr.on('data', (chunk: Buffer) => {
		stderr += chunk.toString();
	});
	await until(() => stderr.includes('tracing process'), 20_000);
	await new Promise(resolve => setTimeout(resolve, 2000));
	run.kill('SIGINT');
	const code = await new Promise<number>(resolve => run.once('exit', status => {
		resolve(status ?? 128);
	}));
	return {code, stderr};
}

test.serial('pdi trace -p of a child forked after its parent was traced and detached shows the child\'s calls', async t => {
	const parent = started(t, forker, []);
	await new Promise(resolve => setTimeout(resolve, 300));
	const first = await tracedFor2s(parent.pid!);
	t.regex(first.stderr, /^usleep +\d+ /m, first.stderr);
	process.kill(parent.pid!, 'SIGUSR1');
	t.true(await until(() => children(parent.pid!).length === 1, 5000));
	const [child] = children(parent.pid!);
	const traced = await tracedFor2s(child!);
	t.is(traced.code, 0, traced.stderr);
	// Before: `no calls traced`, the fork handler of the first trace left the child's backend marked as not followed.
	t.regex(traced.stderr, /^getppid +\d+ /m, traced.stderr);
	t.notRegex(traced.stderr, /no calls traced/);
});

test.serial('pdi trace -p of a process in a pid namespace of its own shows its calls', async t => {
	if (process.getuid?.() !== 0) {
		t.pass('needs root for a pid namespace');
		return;
	}

	const outer = started(t, 'unshare', ['--fork', '--pid', '--mount-proc', forker]);
	t.true(await until(() => children(outer.pid!).length === 1, 5000));
	const [inner] = children(outer.pid!);
	const traced = await tracedFor2s(inner!);
	t.is(traced.code, 0, traced.stderr);
	// Before: `no calls traced`, the backend compared its own pid (1) with the one pdi knew it by.
	t.regex(traced.stderr, /^usleep +\d+ /m, traced.stderr);
});

test('pdi trace -f of a program that runs another in a pid namespace of its own ends with it', async t => {
	if (process.getuid?.() !== 0) {
		t.pass('needs root for a pid namespace');
		return;
	}

	// Before, pdi waited for ever for host pid 1, taking the namespace's pid 1 in the ring's name for it.
	const run = await pdi(['trace', '-f', '-c', '--', 'unshare', '--fork', '--pid', '--mount-proc', '/bin/true'], {timeout: 30_000});
	t.is(run.code, 0, run.stderr);
	t.regex(run.stderr, /^total +\d+ /m);
	t.notRegex(run.stderr, /runs on/);
});
