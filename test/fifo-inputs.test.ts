import {execFileSync} from 'node:child_process';
import {openSync, writeSync, closeSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {comux} from '../src/ts/comux/builder.js';
import {startPdi, waitsForWriter} from './helpers/cli.js';
import {scratchDirectory} from './helpers/files.js';
import {echoServerPath, freePort} from './helpers/servers.js';

const directory = scratchDirectory('pdi-fifo-inputs-');
const input = Buffer.from(comux().conn(0, 'hello\n', {awaitResponse: true}).bytes());

/** Waits at least `least` ms, and until pdi has the FIFO open (a loaded machine starts Node slowly), at most 30 s. */
async function untilWaiting(pid: number, fifo: string, least: number): Promise<void> {
	for (const start = Date.now(); (Date.now() - start < least || !waitsForWriter(pid, fifo)) && Date.now() - start < 30_000;) {
		await new Promise(resolve => {
			setTimeout(resolve, 100);
		});
	}
}

function fifoNamed(name: string): string {
	const fifo = path.join(directory, name);
	execFileSync('mkfifo', [fifo]);
	return fifo;
}

/** A command, its arguments around the FIFO, what a writer gives it, and its exit status then (every one fails on no input). */
const commands: Array<[string, (fifo: string, echo: string[]) => string[], Buffer, number]> = [
	['comux show', fifo => ['comux', 'show', fifo], input, 0],
	['comux build --json', fifo => ['comux', 'build', '--json', fifo, '-o', path.join(directory, 'built.comux')], Buffer.from('{"chunks": [{"conn": 0, "data": "hi"}]}'), 0],
	['comux run', (fifo, echo) => ['comux', 'run', fifo, '--', ...echo], input, 0],
	['comux run --fork', (fifo, echo) => ['comux', 'run', '--fork', fifo, '--', ...echo], input, 0],
	// Its second line is wrong: the error names it, so the text was read (an empty file would be no error).
	['trace --prototypes', fifo => ['trace', '-e', 'getenv', '--prototypes', fifo, '--', '/bin/true'], Buffer.from('int be_none(int x);\nint be_bad(;\n'), 2],
];

for (const [name, args, content, status] of commands) {
	test(`pdi ${name} FIFO without a writer waits, and SIGINT ends it at once with 130 and no message`, async t => {
		// Before, the FIFO was opened blocking in the main thread: pdi waited for ever, deaf to SIGINT and SIGTERM.
		const fifo = fifoNamed(`${name.replaceAll(' ', '-')} waiting`);
		const started = startPdi(args(fifo, [echoServerPath, 'epoll', String(await freePort())]));
		await untilWaiting(started.child.pid!, fifo, 1000);
		const sent = Date.now();
		started.child.kill('SIGINT');
		const timer = setTimeout(() => started.child.kill('SIGKILL'), 20_000);
		const code = await started.exited;
		clearTimeout(timer);
		t.is(code, 130);
		// Far from for ever, whatever the machine's load.
		t.true(Date.now() - sent < 15_000, `ended ${Date.now() - sent} ms after SIGINT`);
		t.is(started.stderr(), '');
	});

	test(`pdi ${name} FIFO reads what a writer that comes later writes, to its end`, async t => {
		const fifo = fifoNamed(`${name.replaceAll(' ', '-')} written`);
		const started = startPdi(args(fifo, [echoServerPath, 'epoll', String(await freePort())]));
		await untilWaiting(started.child.pid!, fifo, 300);
		const writer = openSync(fifo, 'w');
		writeSync(writer, content);
		closeSync(writer);
		const timer = setTimeout(() => started.child.kill('SIGKILL'), 30_000);
		const code = await started.exited;
		clearTimeout(timer);
		t.is(code, status, started.stderr());
		if (status !== 0) {
			t.true(started.stderr().startsWith(`pdi: --prototypes: ${fifo}:2:`), started.stderr());
		}
	});
}
