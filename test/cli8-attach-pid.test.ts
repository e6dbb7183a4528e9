import test from 'ava';
import {pdi} from './helpers/cli.js';

test('a bad PID operand of pdi attach is one line that quotes it, status 2, as -p of pdi trace', async t => {
	// Before: 'pdi:  is not a process id' for '' (the value unquoted, so an empty or blank PID showed as nothing),
	// and '05' was taken for process 5 while pdi trace -p refused it.
	const expected = (value: string) => `pdi: PID: expected a process id (a decimal integer from 1 to 2147483647), got '${value}'\n`;
	for (const value of ['', ' ', 'abc', '0', '-1', ' 12', '05', '0x10', '1.5', '2147483648']) {
		const run = await pdi(['attach', '-c', 'x.yaml', '--', value]);
		t.deepEqual([run.code, run.stdout, run.stderr], [2, '', expected(value)], value);
	}

	const multiline = await pdi(['attach', '1\n2', '-c', 'x.yaml']);
	t.deepEqual([multiline.code, multiline.stderr], [2, String.raw`pdi: PID: expected a process id (a decimal integer from 1 to 2147483647), got '1\x0a2'` + '\n']);
	// The PID is checked before the configs: no -c is still the PID's error first, as before.
	const noConfig = await pdi(['attach', 'abc']);
	t.deepEqual([noConfig.code, noConfig.stderr], [2, expected('abc')]);
	const missing = await pdi(['attach', '2147483647', '-c', 'x.yaml']);
	t.deepEqual([missing.code, missing.stderr], [2, 'pdi: no such process: 2147483647\n']);
});
