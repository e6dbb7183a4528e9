import {existsSync, mkdirSync, readFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import type {CallEvent} from '../src/ts/trace/events.js';
import {trace} from '../src/ts/trace/trace.js';
import {pdi} from './helpers/cli.js';
import {compileC, scratchDirectory} from './helpers/files.js';
import {fixtures} from './helpers/preload.js';

const events = path.join(fixtures, 'trace', 'events');
const scratch = scratchDirectory('pdi-trace-json-');
const functions = 'open,close,strtod,getenv,strchr,strlen,abs,strtoull,tl_greet';

async function jsonLines(args: readonly string[], cwd?: string): Promise<CallEvent[]> {
	const file = path.join(scratch, `trace-${Math.random().toString(36).slice(2)}.json`);
	const run = await pdi(['trace', '--json', '-e', functions, '-o', file, '--', ...args], {cwd});
	if (run.code !== 0) {
		throw new Error(run.stderr);
	}

	return readFileSync(file, 'utf8').trimEnd().split('\n').map(line => JSON.parse(line) as CallEvent);
}

test('--json turns decoded values into JSON: escaped and UTF-8 strings, flags, octal modes, NULL, doubles, cut strings, big integers', async t => {
	const directory = path.join(scratch, 'values');
	mkdirSync(directory);
	// A short relative name, so that the default -s 32 shows it whole.
	const calls = await jsonLines([events, 'values', '.'], directory);
	const file = './é "q"\\';
	t.deepEqual(calls.map(call => [call.function, call.args, call.ret]), [
		['open', [file, 'O_WRONLY|O_CREAT|O_TRUNC', '0640'], 3],
		['close', [3], 0],
		['strtod', ['2.5', '0x0'], 2.5],
		['getenv', ['PDI_NO_SUCH_VARIABLE'], '0x0'],
		['strchr', ['abc', '\'b\''], calls[4]!.ret],
		['strlen', ['\t\uDCFF!'], 3],
		['strlen', ['01234567890123456789012345678901...'], 40],
		['abs', [-5], 5],
		['strtoull', ['18446744073709551615', '0x0', 10], '18446744073709551615'],
	]);
	t.regex(String(calls[4]!.ret), /^0x[\da-f]+$/);
	t.true(existsSync(path.join(directory, file)));
});

test('--json shows a function without a prototype as its registers in hex, and trace() agrees', async t => {
	const traceprog = path.join(fixtures, 'trace', 'traceprog');
	const [greet] = (await jsonLines([traceprog])).filter(call => call.function === 'tl_greet');
	t.truthy(greet);
	t.is(greet!.args!.length, 3);
	for (const value of greet!.args!) {
		t.regex(String(value), /^0x[\da-f]+$/);
	}

	t.is(greet!.args![1], '0x3');
	t.is(greet!.ret, '0xf');
	const {calls} = trace(traceprog, [], {functions: 'tl_greet', stdio: 'ignore'});
	for await (const call of calls) {
		t.deepEqual([call.args![1], call.ret], ['0x3', '0xf']);
	}
});

/** The bytes of a JSON string of pdi trace: U+DC80 to U+DCFF are the bytes 0x80 to 0xff that were not UTF-8. */
function bytesOf(text: string): Buffer {
	const pieces = [...text].map(character => {
		const unit = character.charCodeAt(0);
		return character.length === 1 && unit >= 0xDC_80 && unit <= 0xDC_FF ? Buffer.of(unit - 0xDC_00) : Buffer.from(character);
	});
	return Buffer.concat(pieces);
}

test('--json keeps the bytes of a string that is not UTF-8: each stray byte is a lone surrogate U+DC80 to U+DCFF, as Python\'s surrogateescape', async t => {
	// Before, each such byte became U+FFFD and the file name could not be told from others.
	const directory = path.join(scratch, 'bytes');
	mkdirSync(directory);
	const name = Buffer.from([0x66, 0xFF, 0x80, 0xC3, 0xA9, 0xC3, 0xED, 0xB3, 0xBF]); // f, two stray bytes, é, a cut é, an encoded surrogate
	const program = compileC(directory, 'bytes', String.raw`#include <fcntl.h>
#include <unistd.h>
int main(void) { close(open("f\xff\x80\xc3\xa9\xc3\xed\xb3\xbf", O_WRONLY | O_CREAT, 0600)); return 0; }
`);
	const file = path.join(scratch, 'bytes.json');
	const run = await pdi(['trace', '--json', '-e', 'open', '-o', file, '--', program], {cwd: directory});
	t.is(run.code, 0, run.stderr);
	const text = readFileSync(file, 'utf8');
	t.true(text.includes(String.raw`"args":["f\udcff\udc80é\udcc3\udced\udcb3\udcbf","O_WRONLY|O_CREAT","0600"]`), text);
	const [call] = text.trimEnd().split('\n').map(line => JSON.parse(line) as CallEvent);
	t.deepEqual(bytesOf(call!.args![0] as string), name);
	const {calls} = trace(program, [], {functions: 'open', cwd: directory, stdio: 'ignore'});
	let seen = 0;
	for await (const event of calls) {
		t.deepEqual(bytesOf(event.args![0] as string), name);
		seen++;
	}

	t.is(seen, 1);
});
