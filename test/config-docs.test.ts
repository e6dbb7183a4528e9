import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import test from 'ava';
import {pdi, root} from './helpers/cli.js';
import {runPreloaded} from './helpers/preload.js';

/** The fenced blocks of docs/config.md tagged `file=NAME`: the files of its examples. */
function exampleFiles(): Array<{name: string; text: string}> {
	const markdown = readFileSync(path.join(root, 'docs/config.md'), 'utf8');
	return [...markdown.matchAll(/^```\w+ file=(\S+)\n([\s\S]*?)^```$/gm)].map(match => ({name: match[1] ?? '', text: match[2] ?? ''}));
}

const files = exampleFiles();
const directory = mkdtempSync(path.join(tmpdir(), 'pdi-config-docs-'));
for (const {name, text} of files) {
	writeFileSync(path.join(directory, name), text);
}

test.after.always(() => {
	rmSync(directory, {recursive: true, force: true});
});

test('docs/config.md has examples in every spelling, each file named once', t => {
	const names = files.map(file => file.name);
	t.deepEqual(names, [...new Set(names)]);
	for (const extension of ['.yaml', '.json', '.cfg', '.cmd']) {
		t.true(names.some(name => name.endsWith(extension)), extension);
	}
});

for (const {name} of files.filter(file => !file.name.endsWith('.cmd'))) {
	test(`the docs/config.md example ${name} passes pdi config check and pdi run`, async t => {
		const file = path.join(directory, name);
		const check = await pdi(['config', 'check', file]);
		t.is(check.code, 0, check.stderr);
		t.is(check.stderr, '');
		const run = await pdi(['run', '-c', file, '--', '/bin/echo', 'ran']);
		t.is(run.code, 0, run.stderr);
		t.is(run.stdout, 'ran\n');
		if (name.endsWith('.cfg')) {
			const byHand = await runPreloaded('/bin/echo', ['ran'], file);
			t.is(byHand.code, 0, byHand.stderr);
			t.is(byHand.stdout, 'ran\n');
		}
	});
}
