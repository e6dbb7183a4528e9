// pdi trace -o FILE empties FILE only once it traces: a program it cannot start left an earlier trace there empty.
import {readFileSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {pdi} from './helpers/cli.js';
import {scratchDirectory} from './helpers/files.js';

const scratch = scratchDirectory('pdi-trace-output-kept-');

test('pdi trace -o FILE leaves FILE whole when the program cannot be started, and empties it when the trace begins', async t => {
	const file = path.join(scratch, 'last trace.txt');
	for (const program of [path.join(scratch, 'no such program'), '/etc/passwd']) {
		writeFileSync(file, 'an earlier trace\n');
		const refused = await pdi(['trace', '-o', file, '--', program]);
		t.is(refused.code, 2, refused.stderr);
		t.is(readFileSync(file, 'utf8'), 'an earlier trace\n', program);
	}

	writeFileSync(file, `${'an earlier, longer trace\n'.repeat(1000)}`);
	const traced = await pdi(['trace', '-e', 'getenv', '-o', file, '--', '/bin/ls', '/']);
	t.is(traced.code, 0, traced.stderr);
	const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
	t.true(lines.length > 0);
	t.true(lines.every(line => /ls!getenv\(/.test(line)), lines.slice(0, 3).join('\n'));
});
