import {existsSync, readFileSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {comux, splitRequest} from '../src/ts/comux/builder.js';
import {ComuxError} from '../src/ts/comux/comux-error.js';
import {parseComux} from '../src/ts/comux/format.js';
import {pdi} from './helpers/cli.js';
import {scratchDirectory} from './helpers/files.js';

const scratch = scratchDirectory('pdi-comux-surrogate-');

function write(name: string, text: string): string {
	const file = path.join(scratch, name);
	writeFileSync(file, text);
	return file;
}

test('pdi comux build --json refuses a string with an unpaired surrogate at its field, with the status of any bad description, instead of writing U+FFFD', async t => {
	// Column 29 is where the data string starts.
	for (const [name, data, surrogate] of [['high.json', 'a\\ud800b', '\\ud800'], ['low.json', '\\udfffz', '\\udfff'], ['reversed.json', '\\ude00\\ud83d', '\\ude00']]) {
		const input = write(name!, `{"chunks":[{"conn":0,"data":"${data}"}]}`);
		const output = path.join(scratch, `${name}.comux`);
		const result = await pdi(['comux', 'build', '--json', input, '-o', output]);
		// Before: status 0 and the bytes a EF BF BD b.
		t.is(result.stderr, `pdi: ${input}:1:29: chunks[0].data: unpaired surrogate ${surrogate}: not text that UTF-8 can carry (use "encoding": "hex" or "base64" for arbitrary bytes)\n`, name);
		t.false(existsSync(output), name);
		const unknownKey = await pdi(['comux', 'build', '--json', write('key.json', '{"chunks":[{"conn":0,"data":"a","datum":1}]}'), '-o', output]);
		t.is(result.code, unknownKey.code, name);
		t.is(result.code, 3, name);
	}

	// A pair is one character, sent as its four UTF-8 bytes.
	const input = write('pair.json', '{"chunks":[{"conn":0,"data":"a\\ud83d\\ude00b"}]}');
	const output = path.join(scratch, 'pair.comux');
	const result = await pdi(['comux', 'build', '--json', input, '-o', output]);
	t.is(result.code, 0, result.stderr);
	t.deepEqual([...parseComux(readFileSync(output)).chunks[0]!.data], [0x61, 0xF0, 0x9F, 0x98, 0x80, 0x62]);
});

test('comux().conn() says data is a string or a Uint8Array, and refuses a string with an unpaired surrogate; so does splitRequest', t => {
	for (const [data, message] of [
		// Before: 'chunk 0: data is not a Uint8Array', at bytes().
		[123, 'chunk 0: data: expected a string or a Uint8Array, got 123'],
		[null, 'chunk 0: data: expected a string or a Uint8Array, got null'],
		// Before: accepted, and sent as a EF BF BD b.
		['a\uD800b', 'chunk 0: data: unpaired surrogate \\ud800: not text that UTF-8 can carry (give a Uint8Array for arbitrary bytes)'],
		['x\uDC00', 'chunk 0: data: unpaired surrogate \\udc00: not text that UTF-8 can carry (give a Uint8Array for arbitrary bytes)'],
	] as const) {
		t.throws(() => comux().conn(0, data as never).bytes(), {instanceOf: ComuxError, message});
	}

	t.throws(() => splitRequest('ab\uD83D', [1]), {instanceOf: RangeError, message: 'splitRequest: unpaired surrogate \\ud83d: not text that UTF-8 can carry (give a Uint8Array for arbitrary bytes)'});
	t.deepEqual([...comux().conn(0, '\uD83D\uDE00').build().chunks[0]!.data], [0xF0, 0x9F, 0x98, 0x80]);
	t.deepEqual(splitRequest('\uD83D\uDE00', [2]).map(piece => [...piece]), [[0xF0, 0x9F], [0x98, 0x80]]);
});
