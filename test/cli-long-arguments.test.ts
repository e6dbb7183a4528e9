import {writeFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {comux} from '../src/ts/comux/builder.js';
import {pdi} from './helpers/cli.js';
import {scratchDirectory} from './helpers/files.js';
import {echoServerPath} from './helpers/servers.js';

// A program given more arguments than commander can spread into one call (about 120,000) gets them all, in order.
// Was wrong: `pdi run -- prog $(seq 130000)` was `pdi: internal error: RangeError: Maximum call stack size exceeded`.
const many = Array.from({length: 125_000}, (_, index) => String(index % 10));
const countAndEnds = 'echo "$# $1 ${125000}"';

for (const command of [['run'], ['trace', '-o', '/dev/null']]) {
	test(`pdi ${command[0]} passes 125,000 arguments on to the program`, async t => {
		const result = await pdi([...command, '--', 'sh', '-c', countAndEnds, 'sh', ...many], {timeout: 60_000});
		t.is(result.code, 0, result.stderr.slice(0, 500));
		t.is(result.stdout, '125000 0 9\n');
	});
}

test('pdi comux run passes 125,000 arguments on to the server', async t => {
	const input = path.join(scratchDirectory('pdi-long-arguments-'), 'hello.comux');
	writeFileSync(input, comux().conn(0, 'hello\n', {awaitResponse: true}).bytes());
	const server = ['sh', '-c', '[ $# = 125000 ] && exec "$0" epoll 0', echoServerPath, ...many];
	const result = await pdi(['comux', 'run', input, '--', ...server], {timeout: 60_000, env: {...process.env, ECHO_QUIET: '1'}});
	t.is(result.code, 0, result.stderr.slice(0, 500));
	t.is(result.stdout, 'hello\n');
});
