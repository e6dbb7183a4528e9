import path from 'node:path';
import test from 'ava';
import {fixtures, runBare, runPreloaded, writeConfig} from './helpers/preload.js';
import {textValue} from './helpers/quote.js';

// be-probe-backend.c built -O2 with sibling calls, as backends usually are: a hook whose last statement is a
// helper call jumps to it, so the helper's return address is pdi's handler, not the backend's code.
const directory = path.join(fixtures, 'backend');
const beprog = path.join(directory, 'beprog');
const tailBackend = path.join(directory, 'be-probe-tail-backend.so');

async function probed(probing: string) {
	return runPreloaded(beprog, ['calls'], writeConfig([`backend p = ${textValue(tailBackend)}`, 'callback $main * p']), {BE_PROBE: probing});
}

/** The exit report's lines about the helpers, and whom each names. */
function helperLines(stderr: string): string[] {
	return stderr.split('\n').filter(line => /^pdi: warning: callback: .* called pdi_|skipped calls? refused/.test(line));
}

test('helpers a hook tail-calls where they have nothing to work on are reported under the backend, not pdi\'s own file', async t => {
	const run = await probed('wrong');
	t.is(run.code, 0, run.stderr);
	t.is(run.stdout, (await runBare(beprog, ['calls'])).stdout);
	const lines = helperLines(run.stderr);
	// pdi_set_ret_int ends be_int's pre, pdi_skip_double its post: both jumped to.
	t.true(lines.some(line => line.includes(' called pdi_set_ret_int 1 time in a pre hook')), run.stderr);
	t.true(lines.some(line => line.includes(' called pdi_skip_double 1 time in a post hook')), run.stderr);
	for (const line of lines) {
		t.true(line.startsWith('pdi: warning: callback: backend \'p\' (') && line.includes('/be-probe-tail-backend.so) called '), line);
	}
});

test('a refused skip that a hook tail-calls is reported under the backend, not pdi\'s own file', async t => {
	const run = await probed('skip');
	t.is(run.code, 0, run.stderr);
	t.is(run.stdout, 'be_int=42\nbe_double=2.5\nlabs=5\ncbrt=3\nbe_args=385\n');
	t.regex(run.stderr, /^pdi: warning: callback: 2 skipped calls refused, which ran instead \(.*; backend 'p' \(.+\/be-probe-tail-backend\.so\)\)$/m);
});

test('a helper given NULL by a hook that ends in it is reported under the hook\'s backend, not pdi\'s own file', async t => {
	const run = await probed('stray-tail');
	t.is(run.code, 0, run.stderr);
	t.is(run.stdout, (await runBare(beprog, ['calls'])).stdout);
	t.deepEqual(helperLines(run.stderr), [`pdi: warning: callback: backend 'p' (${tailBackend}) called pdi_set_arg_int 1 time with a record that is not a call pdi gave a hook, where it does nothing: NULL, a copy of *call or another pointer (the helpers take the call a hook was given)`]);
});
