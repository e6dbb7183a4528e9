import path from 'node:path';
import test from 'ava';
import {fixtures, runBare, runPreloaded, testArch, writeConfig} from './helpers/preload.js';

const directory = path.join(fixtures, 'backend');
const beprog = path.join(directory, 'beprog');
const probe = `backend p = ${path.join(directory, 'be-probe-backend.so')}`;

/** Runs beprog MODE with be-probe-backend's hooks on every call of the program, BE_PROBE = `probing`. */
async function probed(mode: string, probing: string) {
	return runPreloaded(beprog, [mode], writeConfig([probe, 'callback $main * p']), {BE_PROBE: probing});
}

test('hooks that divide by zero in a program that enabled floating-point traps raise no SIGFPE, and the program\'s own division still traps', async t => {
	const bare = await runBare(beprog, ['traps']);
	const run = await probed('traps', 'fpdiv');
	if (bare.stdout === 'traps=unsupported\n' || bare.code === 3) {
		// qemu-user models no floating-point traps: aarch64's feenableexcept fails (as on most
		// aarch64 cores), and i386's succeeds but nothing traps. The run must still match.
		t.log(`${testArch || 'host'}: no floating-point traps to test (${bare.stdout.trim()})`);
		t.is(run.stdout, bare.stdout);
		t.is(run.code, bare.code, run.stderr);
		return;
	}

	t.is(bare.signal, 'SIGFPE');
	t.is(bare.stdout, 'calls=2,4\n');
	t.regex(run.stderr, /^probe: divided$/m);
	t.is(run.stdout, 'calls=2,4\n');
	t.is(run.signal, 'SIGFPE', run.stderr);
});
