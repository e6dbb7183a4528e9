// The running fixture of the attach tests (test/attach.test.ts, test/attach-sessions.test.ts): attachprog, a
// multi-threaded program that runs until its stdin ends (test/fixtures/attach/attachprog.c).
import {spawn, type ChildProcess} from 'node:child_process';
import path from 'node:path';
import type {ExecutionContext} from 'ava';
import {collectOutput} from './cli.js';
import {fixtures} from './preload.js';

export const attachprog = path.join(fixtures, 'attach', 'attachprog');

/** Counts the program's write and read calls (the bundled count backend). */
export const countConfig = {
	backends: [{name: 'count', library: 'count'}],
	rules: [
		{relink: {object: '$main', function: 'write', backend: 'count', wrapper: 'count_write'}},
		{relink: {object: '$main', function: 'read', backend: 'count', wrapper: 'count_read'}},
	],
};

/** A running attachprog. */
export type Fixture = {
	pid: number;
	/** Kernel thread ids by role (main, writer, reader, sleeper, waiter, worker). */
	threads: Map<string, number[]>;
	stdout: () => string;
	stderr: () => string;
	/** Closes its stdin, which ends it; its exit code and output. */
	finish: () => Promise<{code: number | null; stdout: string; stderr: string}>;
};

/** Kills `child` at the test's end if it still runs. */
export function stopOnTeardown(t: ExecutionContext, child: ChildProcess): void {
	t.teardown(() => {
		if (child.exitCode === null && child.signalCode === null) {
			child.kill('SIGKILL');
		}
	});
}

/** Starts `command args` (attachprog, or a wrapper that runs it) and waits for the fixture's "ready". */
export async function startFixture(t: ExecutionContext, command = attachprog, args: string[] = []): Promise<Fixture> {
	const child = spawn(command, args, {stdio: ['pipe', 'pipe', 'pipe']});
	stopOnTeardown(t, child);
	const output = collectOutput(child);
	await new Promise<void>((resolve, reject) => {
		const check = (): void => {
			if (/^ready$/m.test(output.stdout())) {
				resolve();
			}
		};

		child.stdout.on('data', check);
		child.once('exit', () => {
			reject(new Error(`the fixture ended before it was ready: ${output.stderr()}`));
		});
	});
	const threads = new Map<string, number[]>();
	for (const [, role, tid] of output.stdout().matchAll(/^thread (\w+) (\d+)$/gm)) {
		threads.set(role!, [...(threads.get(role!) ?? []), Number(tid)]);
	}

	return {
		pid: threads.get('main')?.[0] ?? child.pid!,
		threads,
		stdout: output.stdout,
		stderr: output.stderr,
		async finish() {
			child.stdin.end();
			const code = await output.closed;
			return {code, stdout: output.stdout(), stderr: output.stderr()};
		},
	};
}

/** Waits `ms` milliseconds. */
export async function delay(ms: number): Promise<void> {
	return new Promise(resolve => {
		setTimeout(resolve, ms);
	});
}

/**
 * The source of a program that forks a child at each line of its stdin (it prints `child PID`): the child calls
 * getppid() and usleep(`pauseMicros`) for ever, the shape of a server's worker that a master respawns.
 */
export function forkerSource(pauseMicros: number): string {
	return String.raw`
#include <stdio.h>
#include <unistd.h>
int main(void) {
	setvbuf(stdout, NULL, _IONBF, 0);
	printf("ready\n");
	char line[16];
	while (fgets(line, sizeof line, stdin) != NULL) {
		pid_t child = fork();
		if (child == 0)
			for (;;) {
				getppid();
				usleep(${pauseMicros});
			}
		printf("child %d\n", (int)child);
	}
	return 0;
}
`;
}
