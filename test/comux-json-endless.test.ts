import {execFile} from 'node:child_process';
import {existsSync, mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import test from 'ava';
import {cliPath} from './helpers/cli.js';

const scratch = mkdtempSync(path.join(tmpdir(), 'pdi-comux-json-'));

test.after.always(() => {
	rmSync(scratch, {recursive: true, force: true});
});

test('an endless JSON description (/dev/zero, yes on stdin) whose first token starts no JSON value is refused there by comux build, instead of read to its 500 MiB limit', async t => {
	// Before: 500 MiB read (seconds, and that much memory) before the refusal.
	for (const [args, input, expected] of [
		[['comux', 'build', '--json', '/dev/zero'], undefined, 'pdi: /dev/zero:1:1: JSON syntax error: unexpected U+0000 (expected a value)\n'],
		[['comux', 'build', '--json', '-'], 'yes', 'pdi: stdin:1:1: JSON syntax error: unexpected \'y\' (expected a value)\n'],
		[['comux', 'build', '--json', '-'], 'printf "\\n  x"; yes', 'pdi: stdin:2:3: JSON syntax error: unexpected \'x\' (expected a value)\n'],
	] as const) {
		const output = path.join(scratch, 'never-written.comux');
		const result = await new Promise<{code: number; stderr: string}>(resolve => {
			const command = input === undefined ? [process.execPath, cliPath, ...args, '-o', output] : ['/bin/sh', '-c', `{ ${input}; } | "$@"`, 'sh', process.execPath, cliPath, ...args, '-o', output];
			execFile(command[0]!, command.slice(1), {timeout: 30_000}, (error, _stdout, stderr) => {
				resolve({code: error ? Number(error.code) : 0, stderr});
			});
		});
		t.deepEqual([result.code, result.stderr], [3, expected], args.join(' '));
		t.false(existsSync(output));
	}
});
