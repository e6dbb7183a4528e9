import {execFileSync, spawn, spawnSync, type ChildProcess} from 'node:child_process';
import {once} from 'node:events';
import {closeSync, openSync, readdirSync, readFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {delay} from './helpers/attach-fixture.js';
import {cliPath} from './helpers/cli.js';
import {compileC, scratchDirectory} from './helpers/files.js';

const directory = scratchDirectory('pdi-trace-stalled-');
// Far more lines than a pipe holds: 20000 calls of getppid, then exit status 3.
const burst = compileC(directory, 'burst', '#include <unistd.h>\nint main(void) { volatile long s = 0; for (int i = 0; i < 20000; i++) s += getppid(); return 3; }\n');
// Calls until a signal ends it.
const spin = compileC(directory, 'spin', '#include <unistd.h>\nint main(void) { for (;;) { getppid(); usleep(100); } }\n');

/**
 * `pdi trace -- PROGRAM` whose stderr, the trace's output, is a pipe (a FIFO: Node's own child pipes are sockets) that
 * a `sleep` holds open and never reads.
 */
function traceIntoStalledPipe(program: string): {pdi: ChildProcess; reader: ChildProcess; status: Promise<number | null>} {
	const fifo = path.join(directory, `fifo-${path.basename(program)}`);
	execFileSync('mkfifo', [fifo]);
	const reader = spawn('sh', ['-c', 'exec sleep 60 < "$0"', fifo], {stdio: 'ignore'});
	const writeEnd = openSync(fifo, 'w');
	const pdi = spawn(process.execPath, [cliPath, 'trace', '--', program], {stdio: ['ignore', 'ignore', writeEnd]});
	closeSync(writeEnd);
	const status = once(pdi, 'exit').then(([code]) => code as number | null);
	return {pdi, reader, status};
}

async function settled<T>(promise: Promise<T>, milliseconds: number): Promise<T | 'still running'> {
	let timer: NodeJS.Timeout | undefined;
	const late = new Promise<'still running'>(resolve => {
		timer = setTimeout(() => {
			resolve('still running');
		}, milliseconds);
	});
	return Promise.race([promise, late]).finally(() => {
		clearTimeout(timer);
	});
}

function processesRunning(program: string): boolean {
	return spawnSync('pgrep', ['-f', `^${program}$`]).status === 0;
}

/** Whether a thread of process `pid` waits in a write to a full pipe (its kernel wait channel). */
function waitsInPipeWrite(pid: number): boolean {
	try {
		return readdirSync(`/proc/${pid}/task`).some(task => readFileSync(`/proc/${pid}/task/${task}/wchan`, 'utf8').endsWith('pipe_write'));
	} catch {
		return false;
	}
}

/** Polls `condition` every 50 ms for up to 30 s (a loaded machine starts Node slowly); whether it came true. */
async function eventually(condition: () => boolean): Promise<boolean> {
	for (let waited = 0; waited < 30_000; waited += 50) {
		if (condition()) {
			return true;
		}

		await delay(50);
	}

	return condition();
}

test('SIGTERM ends pdi trace whose output nobody reads, with 128+15, after the program it passed the signal to (it waited in a write until the reader went away)', async t => {
	const {pdi, reader, status} = traceIntoStalledPipe(spin);
	t.teardown(() => {
		pdi.kill('SIGKILL');
		reader.kill('SIGKILL');
	});
	t.true(await eventually(() => processesRunning(spin) && waitsInPipeWrite(pdi.pid!)), 'the program runs and pdi waits in a write');
	pdi.kill('SIGTERM');
	t.is(await settled(status, 8000), 143);
	t.false(processesRunning(spin));
});

test('a signal while pdi trace writes the lines of a program that has ended, into a pipe nobody reads, ends pdi at once with 128+N', async t => {
	const {pdi, reader, status} = traceIntoStalledPipe(burst);
	t.teardown(() => {
		pdi.kill('SIGKILL');
		reader.kill('SIGKILL');
	});
	t.true(await eventually(() => !processesRunning(burst) && waitsInPipeWrite(pdi.pid!)), 'the program has ended, and pdi waits in a write, as any writer does');
	pdi.kill('SIGINT');
	t.is(await settled(status, 3000), 130);
});
