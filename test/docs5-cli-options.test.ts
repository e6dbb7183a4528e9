import {readdirSync, readFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {pdi, root} from './helpers/cli.js';

// Every command that takes options, as a user types it.
const commands = [
	['inspect'], ['paths'], ['run'], ['trace'], ['attach'], ['config', 'check'], ['config', 'compile'], ['config', 'schema'],
	['comux', 'show'], ['comux', 'build'], ['comux', 'run'], ['comux', 'replay'], ['comux', 'config'],
];

const documentation = [
	readFileSync(path.join(root, 'README.md'), 'utf8'),
	...readdirSync(path.join(root, 'docs')).filter(name => name.endsWith('.md')).map(name => readFileSync(path.join(root, 'docs', name), 'utf8')),
].join('\n');

test('every long option that pdi COMMAND --help lists is spelled out in README.md or docs/', async t => {
	// Before: comux run's --no-wait and comux replay's --no-progress were in --help and on no page, and --verbose
	// only as -v.
	const missing: string[] = [];
	for (const command of commands) {
		const help = await pdi([...command, '--help']);
		t.is(help.code, 0, help.stderr);
		const options = new Set([...help.stdout.matchAll(/^\s+(?:-\w, )?(--[a-z][a-z-]*)/gm)].map(match => match[1]!));
		for (const option of options) {
			if (option !== '--help' && !new RegExp(`${option}(?![a-z-])`).test(documentation)) {
				missing.push(`pdi ${command.join(' ')} ${option}`);
			}
		}
	}

	t.deepEqual(missing, []);
});
