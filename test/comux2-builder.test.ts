import test from 'ava';
import {comux} from '../src/ts/comux/builder.js';
import {ComuxError} from '../src/ts/comux/comux-error.js';
import {COMUX_MAX_CONNS} from '../src/ts/comux/format.js';

test('comux().conn() with a connection id above the format\'s limit names that id, not a num_conns the caller never gave; with numConns given, its own limit is named', t => {
	const error = t.throws(() => comux().conn(0, 'a').conn(70_000, 'b').bytes(), {instanceOf: ComuxError});
	t.is(error?.message, `chunk 1: connection 70000 is above ${COMUX_MAX_CONNS - 1} (a comux file holds at most ${COMUX_MAX_CONNS} connections)`);
	t.throws(() => comux().conn(70_000, 'b').numConns(70_001).bytes(), {instanceOf: ComuxError, message: `num_conns 70001 exceeds the limit ${COMUX_MAX_CONNS} at byte 12`});
});

test('comux().conn() refuses mistyped arguments by chunk and name instead of building a chunk without flags or failing on a property of null', t => {
	const cases: Array<[() => unknown, string]> = [
		[() => comux().conn(0, 'x', null as never), 'chunk 0: options: expected an object {sched, awaitResponse, noShutdown}, got null'],
		[() => comux().conn(0, 'x').conn(0, 'y', {await: true} as never), 'chunk 1: unknown option \'await\''],
		[() => comux().conn(0, 'x', {awaitResponse: 1} as never), 'chunk 0: awaitResponse: expected true or false, got 1'],
		[() => comux().conn('0' as never, 'x'), 'chunk 0: connection id: expected a number, got \'0\''],
	];
	for (const [call, message] of cases) {
		const error = t.throws(call, {instanceOf: ComuxError});
		t.true(error?.message.startsWith(message), error?.message);
	}

	t.is(comux().conn(0, 'x', {awaitResponse: true, noShutdown: false, sched: 3}).build().chunks[0]!.flags, 1);
});
