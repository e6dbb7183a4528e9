import {rmSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {compileConfig} from '../src/ts/config/index.js';
import {comux} from '../src/ts/comux/builder.js';
import {comuxConfig} from '../src/ts/comux/replay.js';
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
