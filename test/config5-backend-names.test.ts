import test from 'ava';
import {pdi, refusedByCheckAndRun} from './helpers/cli.js';
import {refusedAlike, writeIn} from './helpers/config-agree.js';
import {scratchDirectory} from './helpers/files.js';
import {runPreloaded} from './helpers/preload.js';

const scratch = scratchDirectory('pdi-config5-names-');

const write = (name: string, text: string): string => writeIn(scratch, name, text);

const spelling = 'name: expected a backend name (letters, digits, `_`, `.`, `+`, `-`), got';
const reserved = 'name: \'pdi.act\' is the name of pdi\'s own backend of act rules: give yours another';

test('a backend name of the text dialect is checked by the core as by the JSON/YAML schema, at the name: pdi config check and the core both refuse it', async t => {
	for (const [written, message] of [['tr]', `${spelling} 'tr]'`], ['"my backend"', `${spelling} 'my backend'`], ['$c', `${spelling} '$c'`], ['pdi.act', reserved]] as const) {
		const file = write('rules.cmd', `# declarations\n  backend   ${written} = count\nrelink $main malloc c count_malloc\n`);
		const expected = `pdi: ${file}:2:13: ${message}\n`;
		t.is(await refusedAlike(t, file), expected);
	}

	const fine = write('fine.cmd', 'backend my-count_2.x+ = count\nrelink $main malloc my-count_2.x+ count_malloc\n');
	t.is((await pdi(['config', 'check', fine])).code, 0);
	t.is((await runPreloaded('/bin/true', [], fine)).code, 0);
});

test('a JSON or YAML backend named pdi.act is refused by config check at its name, as pdi run refuses it, not accepted and then failed as a mixed installation', async t => {
	const file = write('act.json', '{"backends": [{"name": "pdi.act", "library": "count"}],\n "rules": [{"act": {"function": "open", "do": {"count": true}}}]}\n');
	const expected = `pdi: ${file}:1:24: backends[0].name: ${reserved.slice('name: '.length)}\n`;
	await refusedByCheckAndRun(t, file, expected);
});

test('a wrapper or handler with a blank or a version is refused by the core at the field in the words of pdi config check, not looked up in the backend', async t => {
	for (const [line, column, message] of [
		['relink $main malloc c count@malloc', 23, 'wrapper: expected a symbol name, got \'count@malloc\''],
		['redefine * getpid c "count getpid"', 21, 'wrapper: expected a symbol name, got \'count getpid\''],
		['callback $main * c my_handler@@V1', 20, 'handler: expected a symbol name, got \'my_handler@@V1\''],
	] as const) {
		const file = write('wrapper.cmd', `cb_allow_handler = on\nbackend c = count\n${line}\n`);
		const expected = `pdi: ${file}:3:${column}: ${message}\n`;
		t.is(await refusedAlike(t, file), expected);
	}
});
