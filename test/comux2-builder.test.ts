import test from 'ava';
import {comux} from '../src/ts/comux/builder.js';
import {ComuxError} from '../src/ts/comux/comux-error.js';
import {COMUX_MAX_CONNS} from '../src/ts/comux/format.js';

test('comux().conn() with a connection id above the format\'s limit names that id, not a num_conns the caller never gave; with numConns given, its own limit is named', t => {
	const error = t.throws(() => comux().conn(0, 'a').conn(70_000, 'b').bytes(), {instanceOf: ComuxError});
	t.is(error?.message, `chunk 1: connection 70000 is above ${COMUX_MAX_CONNS - 1} (a comux file holds at most ${COMUX_MAX_CONNS} connections)`);
	t.throws(() => comux().conn(70_000, 'b').numConns(70_001).bytes(), {instanceOf: ComuxError, message: `num_conns 70001 exceeds the limit ${COMUX_MAX_CONNS} at byte 12`});
});
