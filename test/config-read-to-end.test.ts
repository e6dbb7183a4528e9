// The core reads Included and command files to their end: a file of /proc or /sys says 0 bytes to fstat and holds
// text (was read as empty), and one of exactly the size limit is read whole.
import path from 'node:path';
import {writeFileSync} from 'node:fs';
import test from 'ava';
import {pdi} from './helpers/cli.js';
import {scratchDirectory} from './helpers/files.js';
import {fixtures} from './helpers/preload.js';

const program = path.join(fixtures, 'now-pie/fixprog');
const scratch = scratchDirectory('pdi-config-read-to-end-');

async function failure(args: readonly string[]): Promise<{code: number; stderr: string}> {
	const {code, stderr} = await pdi(args);
	return {code, stderr};
}

test('a config file of /proc, whose size reads as 0, is read to its end when Included or named by config =, as with -c', async t => {
	// Was a bug: the core read as many bytes as fstat said, none, and the Include passed as an empty file.
	for (const line of ['Include "/proc/sys/kernel/ostype"', 'config = /proc/sys/kernel/ostype']) {
		const file = path.join(scratch, 'proc-include.cfg');
		writeFileSync(file, `${line}\n`);
		t.deepEqual(await failure(['config', 'check', file]), {code: 2, stderr: 'pdi: /proc/sys/kernel/ostype:1:1: unknown command \'Linux\'\n'}, line);
	}

	t.deepEqual(await failure(['config', 'check', '/proc/sys/kernel/ostype']), {code: 2, stderr: 'pdi: /proc/sys/kernel/ostype:1:1: unknown command \'Linux\'\n'});
	// A file of exactly the limit is read whole (reading to the end briefly refused one of 16 MiB).
	const limit = path.join(scratch, 'limit.cfg');
	writeFileSync(limit, `${'#'.repeat((16 << 20) - 1)}\n`);
	const including = path.join(scratch, 'including-limit.cfg');
	writeFileSync(including, `Include "${limit}"\n`);
	const run = await pdi(['run', '-c', including, '--', program]);
	t.is(run.code, 0, run.stderr);
});
