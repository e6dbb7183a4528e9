import {readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {compileConfig} from '../src/ts/config/index.js';
import {comux} from '../src/ts/comux/builder.js';
import {ComuxError} from '../src/ts/comux/comux-error.js';
import {parseComux} from '../src/ts/comux/format.js';
import {comuxConfig} from '../src/ts/comux/replay.js';
import {root} from './helpers/cli.js';
import {writeFiles} from './helpers/files.js';
import {fixtures, runPreloaded, testArch} from './helpers/preload.js';

// The comux-accept backend on the echo fixture, started by hand with the
// compiled bundled config: the same test on x86-64 and, under npm run
// test:arch, on aarch64 and i386 with their cross-built core and server.
const echo = path.join(fixtures, 'echo/echoserver');
const big = 'pdi'.repeat(20_000);
const input = comux()
	.conn(0, 'hello ', {awaitResponse: true})
	.conn(0, 'world\n')
	.conn(1, 'second connection\n')
	.conn(2, big)
	.bytes();
const directory = writeFiles({'comux.cfg': compileConfig(comuxConfig())}, 'pdi-comux-echo-');
const inputFile = path.join(directory, 'input.comux');
writeFileSync(inputFile, input);
test.after.always(() => {
	rmSync(directory, {recursive: true, force: true});
});

for (const mode of ['accept', 'accept4', 'epoll', 'poll', 'select']) {
	test(`comux-accept replays three connections into the echo server (${mode}${testArch ? `, ${testArch}` : ''}) and exits 0`, async t => {
		const result = await runPreloaded(echo, [mode, '0'], path.join(directory, 'comux.cfg'), {ECHO_QUIET: '1', PDI_COMUX_INPUT: inputFile});
		t.is(result.code, 0, result.stderr);
		t.is(result.stdout, `hello world\nsecond connection\n${big}`);
	});
}

test(`comux-accept rejects an invalid input with its byte offset, exit 3${testArch ? ` (${testArch})` : ''}`, async t => {
	const bad = path.join(directory, 'bad.comux');
	writeFileSync(bad, Buffer.concat([Buffer.from(input), Buffer.from('xyz')]));
	const result = await runPreloaded(echo, ['epoll', '0'], path.join(directory, 'comux.cfg'), {PDI_COMUX_INPUT: bad});
	t.is(result.code, 3);
	t.is(result.stderr, `pdi-comux: 3 trailing bytes at byte ${input.length}\n`);
	t.is(result.stdout, '');
});

// Not an invalid input (3), which it never read: status 2, as pdi's for a file it cannot read (was 3).
test(`comux-accept names the PDI_COMUX_INPUT it cannot read, a directory or a missing file, exit 2${testArch ? ` (${testArch})` : ''}`, async t => {
	const result = await runPreloaded(echo, ['epoll', '0'], path.join(directory, 'comux.cfg'), {PDI_COMUX_INPUT: directory});
	t.is(result.code, 2);
	t.is(result.stderr, `pdi-comux: cannot read ${directory}: Is a directory\n`);
	t.is(result.stdout, '');
	const missing = path.join(directory, 'no such.comux');
	const absent = await runPreloaded(echo, ['epoll', '0'], path.join(directory, 'comux.cfg'), {PDI_COMUX_INPUT: missing});
	t.is(absent.code, 2);
	t.is(absent.stderr, `pdi-comux: cannot open ${missing}: No such file or directory\n`);
	t.is(absent.stdout, '');
});

/** Inputs the readers must refuse: every invalid sample, cuts of a valid input, and a field at a time made wrong. */
function refusedInputs(): Array<[string, Uint8Array]> {
	const samples = path.join(root, 'data/comux-samples');
	const inputs: Array<[string, Uint8Array]> = readdirSync(samples, {recursive: true, withFileTypes: true})
		.filter(entry => entry.isFile() && entry.name !== 'README.md')
		.map(entry => path.relative(samples, path.join(entry.parentPath, entry.name)))
		.map(file => [file, new Uint8Array(readFileSync(path.join(samples, file)))] as [string, Uint8Array])
		.filter(([, bytes]) => tsMessage(bytes) !== undefined);
	const valid = comux().conn(0, 'hello ', {awaitResponse: true}).conn(1, 'bye').bytes();
	for (let length = 0; length < valid.length; length += 3) {
		inputs.push([`cut at ${length}`, valid.subarray(0, length)]);
	}

	const fields: Array<[string, number, number]> = [
		['version 1', 8, 1], ['no connection', 12, 0], ['three connections', 12, 3], ['no chunk', 16, 0], ['too many chunks', 16, 0xff_ff_ff_ff],
		['connection 7', 20, 7], ['length past the end', 24, 1000], ['length over 4 GiB', 28, 1], ['flag 4', 36, 4], ['top flag', 36, 0x80_00_00_00],
	];
	for (const [name, offset, value] of fields) {
		const bytes = valid.slice();
		new DataView(bytes.buffer).setUint32(offset, value, true);
		inputs.push([name, bytes]);
	}

	inputs.push(['trailing bytes', Buffer.concat([valid, Buffer.from('xyz')])]);
	return inputs;
}

function tsMessage(bytes: Uint8Array): string | undefined {
	try {
		parseComux(bytes);
		return undefined;
	} catch (error) {
		if (error instanceof ComuxError) {
			return error.message;
		}

		throw error;
	}
}

test(`the backend refuses every input the TypeScript reader refuses, in the same words${testArch ? ` (${testArch})` : ''}`, async t => {
	// runComux and replay judge an input in TypeScript and start no server for an invalid one: their words must be the backend's.
	const inputs = refusedInputs();
	t.true(inputs.length >= 40, String(inputs.length));
	const pending = [...inputs.entries()];
	const worker = async () => {
		for (let next = pending.shift(); next; next = pending.shift()) {
			const [index, [name, bytes]] = next;
			const file = path.join(directory, `refused-${index}.comux`);
			writeFileSync(file, bytes);
			const expected = tsMessage(bytes);

			const result = await runPreloaded(echo, ['epoll', '0'], path.join(directory, 'comux.cfg'), {PDI_COMUX_INPUT: file});
			t.not(expected, undefined, name);
			t.deepEqual([result.code, result.stderr, result.stdout], [3, `pdi-comux: ${expected}\n`, ''], name);
		}
	};

	await Promise.all([worker(), worker(), worker()]);
});
