import {spawn} from 'node:child_process';
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import test from 'ava';
import {pdi} from './helpers/cli.js';

test('--detach-after takes decimal seconds only: 0x10, 1e3 and a blank-padded number are refused, .2 detaches', async t => {
	// Before: Number() read the value, so '0x1' detached after 1 s, '1e3' after 1000 s and ' 1' after 1 s, spellings
	// that every other numeric option of the CLI (pdi trace -s, --depth, pdi comux --timeout) refuses.
	const directory = mkdtempSync(path.join(tmpdir(), 'pdi-cli8-'));
	const config = path.join(directory, 'count.cfg');
	writeFileSync(config, 'act $main nanosleep count\n');
	const sleeper = spawn('sleep', ['60'], {stdio: 'ignore'});
	try {
		const pid = String(sleeper.pid);
		for (const value of ['0x1', '1e3', ' 1', '1 ', '+1', '1.5.', '1s', '0b1']) {
			const run = await pdi(['attach', pid, '-c', config, '--detach-after', value]);
			t.deepEqual([run.code, run.stderr], [2, `pdi: --detach-after: '${value}' is not a number of seconds (more than 0, at most 2147483: about 24 days)\n`], value);
		}

		const fraction = await pdi(['attach', pid, '-c', config, '--detach-after', '.2']);
		t.is(fraction.code, 0, fraction.stderr);
		t.regex(fraction.stderr, new RegExp(`^pdi: attached to process ${pid}; detaching after 0\\.2 s, `));
		t.regex(fraction.stderr, new RegExp(`pdi: detached from process ${pid}\\n$`));
	} finally {
		sleeper.kill();
		rmSync(directory, {recursive: true, force: true});
	}
});
