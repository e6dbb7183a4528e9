import {writeFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {pdi} from './helpers/cli.js';
import {scratchDirectory} from './helpers/files.js';

const scratch = scratchDirectory('pdi-yaml-depth-version-');

function write(name: string, text: string): string {
	const file = path.join(scratch, name);
	writeFileSync(file, text);
	return file;
}

/** `levels` mappings, each indented under the key before it (the first at the top level). */
function indentedMappings(levels: number): string {
	let text = '';
	for (let level = 0; level < levels; level++) {
		text += `${'  '.repeat(level)}k${level}:\n`;
	}

	return `${text}${'  '.repeat(levels)}x\n`;
}

test('block-style YAML nested a thousand deep is one syntax error at the 65th level, as brackets are, not the parser\'s stack overflow', async t => {
	const cases: Array<[string, string, string]> = [
		// The rules list is the first level, so its 65th dash is the 65th list: column 1 + 2 × 64.
		['dashes.yaml', `rules:\n${'- '.repeat(1000)}x\n`, '2:129'],
		// k0 is the document's own mapping; k65, on line 66, opens the 65th mapping below it.
		['indented.yaml', indentedMappings(2000), '66:131'],
		// Levels count alike in both styles: 30 lists of dashes and 35 of brackets.
		['mixed.yaml', `rules:\n${'- '.repeat(30)}${'['.repeat(35)}${']'.repeat(35)}\n`, '2:95'],
	];
	for (const [name, text, place] of cases) {
		const file = write(name, text);
		for (const command of [['config', 'check', file], ['run', '-c', file, '--', '/bin/true']]) {
			const result = await pdi(command);
			t.is(result.code, 2, `${name}: ${command.join(' ')}`);
			// Before: 'deep.yaml:2:1873: syntax error: maximum call stack size exceeded'.
			t.is(result.stderr, `pdi: ${file}:${place}: syntax error: lists and mappings nested more than 64 deep\n`, `${name}: ${command.join(' ')}`);
		}
	}

	// 64 levels are read: the message is about the (wrong) rule, not the depth.
	for (const [name, text] of [['dashes64.yaml', `rules:\n${'- '.repeat(64)}x\n`], ['mixed64.yaml', `rules:\n${'- '.repeat(30)}${'['.repeat(34)}${']'.repeat(34)}\n`]]) {
		const file = write(name!, text!);
		const result = await pdi(['config', 'check', file]);
		t.is(result.stderr, `pdi: ${file}:2:3: rules[0]: expected a rule with exactly one of relink, redefine, callback, act\n`, name);
	}
});

test('a %YAML directive naming another version than 1.2 is a syntax error at the directive, not a switch to YAML 1.1 values', async t => {
	for (const [version, line] of [['1.1', 1], ['1.3', 2]] as const) {
		const file = write(`version-${version}.yaml`, `${line === 2 ? '# a comment\n' : ''}%YAML ${version}\n---\noptions: {cbAllowHandler: yes, maxThreads: 017}\n`);
		for (const command of [['config', 'check', file], ['config', 'compile', file]]) {
			const result = await pdi(command);
			t.is(result.code, 2, command.join(' '));
			// Before (1.1): accepted, with cbAllowHandler true and maxThreads 15.
			t.is(result.stderr, `pdi: ${file}:${line}:1: syntax error: %YAML ${version}: a config is YAML 1.2, core schema, where yes is a string and 017 is 17 (remove the directive, or write %YAML 1.2)\n`, command.join(' '));
		}
	}

	// %YAML 1.2 is what a config is anyway: 017 is 17 with or without it.
	for (const directive of ['%YAML 1.2\n---\n', '']) {
		const file = write('version-1.2.yaml', `${directive}options: {maxThreads: 017}\n`);
		const result = await pdi(['config', 'check', file]);
		t.is(result.code, 0, result.stderr);
		t.is((JSON.parse(result.stdout) as {options: {maxThreads: number}}).options.maxThreads, 17);
		const yes = write('yes.yaml', `${directive}options: {cbAllowHandler: yes}\n`);
		t.is((await pdi(['config', 'check', yes])).stderr, `pdi: ${yes}:${directive === '' ? 1 : 3}:27: options.cbAllowHandler: expected a boolean, got "yes"\n`);
	}
});
