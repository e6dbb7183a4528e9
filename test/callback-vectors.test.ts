import {readFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {fixtures, runBare, runPreloaded, writeConfig} from './helpers/preload.js';
import {textValue} from './helpers/quote.js';

const directory = path.join(fixtures, 'callback');
const cpuFlags = new Set(readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m)?.[1]?.trim().split(/\s+/));

// vecprog is x86-64 code for AVX-512; this file is not part of npm run test:arch.
test('__m512 and __m256 arguments and results keep every lane through hooks that clear the upper halves', async t => {
	if (process.arch !== 'x64' || !cpuFlags.has('avx512f')) {
		t.log('this CPU has no AVX-512: nothing to run vecprog on');
		t.pass();
		return;
	}

	const program = path.join(directory, 'vecprog');
	const expected = await runBare(program);
	t.is(expected.code, 0, expected.stderr);
	t.regex(expected.stdout, /^m512 (\d+ ){15}\d+\nm256 (\d+ ){7}\d+\n$/);
	const config = writeConfig([`backend v = ${textValue(path.join(directory, 'cb-vector-backend.so'))}`, 'callback $main * v'], ['log_level = info']);
	const run = await runPreloaded(program, [], config);
	t.is(run.code, 0, run.stderr);
	t.regex(run.stderr, /callback \* in \$main: 2 slot\(s\)/);
	t.is(run.stdout, expected.stdout);
});
