import path from 'node:path';
import test from 'ava';
import {fixtures, runPreloaded, writeConfig} from './helpers/preload.js';

test('a core message cut short at its length limit ends in "..." on a whole UTF-8 character, where it ended mid-path without a word', async t => {
	const library = `/nonexistent/${'é'.repeat(300)}/lib.so`;
	const run = await runPreloaded(path.join(fixtures, 'now-pie/fixprog'), [], writeConfig([`backend b = "${library}"`, 'relink $main fix_add b wrap_fix_add']));
	t.is(run.code, 2);
	const line = run.stderr.trimEnd();
	t.regex(line, /^pdi: .*rules\.cmd:1:\d+: backend 'b': library '\/nonexistent\/é+\.\.\.$/);
	t.false(line.includes('\uFFFD'), 'no character was cut in half');
	t.true(Buffer.byteLength(line) < 520, line);
});
