import {writeFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {pdi} from './helpers/cli.js';
import {scratchDirectory} from './helpers/files.js';

// A wrapper or handler name was quoted whole: a 100,000-character name made a 100 KB error line.
test('a very long wrapper or handler name is quoted cut, with its length, in lines of readable size', async t => {
	const scratch = scratchDirectory('pdi config long names ');
	const wrapper = path.join(scratch, 'wrapper.cfg');
	writeFileSync(wrapper, `backend c = count\nrelink $main getpid c ${'w'.repeat(100_000)}\n`);
	const handler = path.join(scratch, 'handler.cfg');
	writeFileSync(handler, `backend c = count\ncallback $main * c ${'h'.repeat(100_000)}\n`);
	for (const [file, name] of [[wrapper, 'w'], [handler, 'h']] as const) {
		const run = await pdi(['config', 'check', file]);
		t.is(run.code, 2);
		const lines = run.stderr.trimEnd().split('\n');
		t.true(lines.every(line => line.length < 600), lines.map(line => line.length).join(' '));
		t.true(lines.some(line => line.includes(`'${name.repeat(200)}…' (100000 characters)`)), run.stderr.slice(0, 300));
	}
});
