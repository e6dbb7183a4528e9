import {execFileSync, spawn} from 'node:child_process';
import {createReadStream, mkdirSync, mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {text} from 'node:stream/consumers';
import test from 'ava';
import {cliPath} from './helpers/cli.js';
import {temporaryEntries} from './helpers/files.js';

function start(args: string[], temporary: string) {
	const child = spawn(process.execPath, [cliPath, ...args], {env: {...process.env, TMPDIR: temporary}, stdio: ['ignore', 'pipe', 'pipe']});
	let stderr = '';
	child.stderr.on('data', (chunk: Buffer) => {
		stderr += chunk.toString();
	});
	const ended = new Promise<{code: number | null; signal: string | null; stderr: string}>(resolve => {
		child.on('close', (code, signal) => {
			resolve({code, signal, stderr});
		});
	});
	return {child, ended};
}

test('pdi trace -o FIFO waits for a reader without blocking signals: SIGTERM ends it (143), and a reader gets the lines', async t => {
	// Before: the FIFO was opened blocking in the main thread, so without a reader pdi stayed for ever, deaf to SIGINT
	// and SIGTERM (its handlers never ran), as pdi inspect -o FIFO did before writeOutputFile.
	const directory = mkdtempSync(path.join(tmpdir(), 'pdi-cli8-fifo-'));
	const temporary = path.join(directory, 'tmp');
	mkdirSync(temporary);
	const fifo = path.join(directory, 'trace fifo');
	execFileSync('mkfifo', [fifo]);
	try {
		const waiting = start(['trace', '-e', 'getenv', '-o', fifo, '--', '/bin/echo', 'hi'], temporary);
		await new Promise(resolve => setTimeout(resolve, 1000));
		waiting.child.kill('SIGTERM');
		const timer = setTimeout(() => waiting.child.kill('SIGKILL'), 10_000);
		const stopped = await waiting.ended;
		clearTimeout(timer);
		t.deepEqual([stopped.code, stopped.signal, stopped.stderr], [143, null, '']);
		t.deepEqual(temporaryEntries(temporary), []);

		const read = start(['trace', '-e', 'getenv', '-o', fifo, '--', '/bin/echo', 'hi'], temporary);
		await new Promise(resolve => setTimeout(resolve, 300));
		const lines = await text(createReadStream(fifo));
		const ran = await read.ended;
		t.deepEqual([ran.code, ran.stderr], [0, '']);
		t.regex(lines, /^\d+ \d+ {2}echo!getenv\("POSIXLY_CORRECT"\) = NULL\n$/);
		t.deepEqual(temporaryEntries(temporary), []);
	} finally {
		rmSync(directory, {recursive: true, force: true});
	}
});
