import test from 'ava';
import {pdi} from './helpers/cli.js';

test('a bad -p value is one line naming -p, status 2, before anything is attached', async t => {
	// Before: 'pdi: abc is not a process id' (no option named; 'pdi:  is not a process id' for -p '').
	const expected = (value: string) => `pdi: -p: expected a process id (a positive decimal integer), got '${value}'\n`;
	for (const value of ['abc', '', '0', '-1', ' 12', '12abc', '0x10', '1.5', '2147483648']) {
		const run = await pdi(['trace', '-p', value]);
		t.deepEqual([run.code, run.stdout, run.stderr], [2, '', expected(value)], value);
	}

	const multiline = await pdi(['trace', '--pid=1\n2']);
	t.deepEqual([multiline.code, multiline.stderr], [2, String.raw`pdi: -p: expected a process id (a positive decimal integer), got '1\x0a2'` + '\n']);
	// A process id of no process is said as pdi attach says it (test/trace-api.test.ts).
	const missing = await pdi(['trace', '-p', '2147483647']);
	t.deepEqual([missing.code, missing.stderr], [2, 'pdi: no such process: 2147483647\n']);
});
