import {copyFileSync, mkdirSync, realpathSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {pdi} from './helpers/cli.js';
import {scratchDirectory} from './helpers/files.js';

const scratch = realpathSync(scratchDirectory('pdi-inspect-escapes-'));
const literal = (text: string): string => text.replaceAll(/[.*+?^${}()|[\]\\]/g, '\\$&');

test('pdi inspect\'s table writes a control character of a path as \\xHH, so a newline or an escape sequence in a program\'s path keeps each row on one line', async t => {
	const directory = path.join(scratch, 'new\nline');
	mkdirSync(directory);
	const program = path.join(directory, 'tr\u001B[31mue');
	copyFileSync(realpathSync('/bin/true'), program);
	const result = await pdi(['inspect', '--imports', '$main', '--', program]);
	t.is(result.code, 0, result.stderr);
	t.false(result.stdout.includes('\u001B'), result.stdout);
	const shown = program.replace('\n', '\\x0a').replace('\u001B', '\\x1b');
	t.regex(result.stdout, new RegExp(`^  0  0x[0-9a-f]+  main\\S*\\s+-\\s+${literal(shown)}$`, 'm'));
	t.true(result.stdout.split('\n').includes(`imports of ${shown} (${/\((\d+) slots\)/.exec(result.stdout)?.[1]} slots)`), result.stdout);
	const json = await pdi(['inspect', '--json', '--imports', '$main', '--', program]);
	t.is((JSON.parse(json.stdout) as {objects: Array<{path: string}>}).objects[0]?.path, program);
});
