import {spawnSync} from 'node:child_process';
import {mkdirSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {cliPath} from './helpers/cli.js';
import {scratchDirectory} from './helpers/files.js';

const scratch = scratchDirectory('pdi-full-tmpdir-');
const config = path.join(scratch, 'empty.yaml');
writeFileSync(config, 'rules: []\n');
const tmp = path.join(scratch, 'tmp');
mkdirSync(tmp);

/**
 * Runs pdi with TMPDIR a full 8 KiB tmpfs of a private mount namespace (root only, as `unshare -m` needs); what is left
 * in it but the filling and the link directory pdi installed under a path with a blank keeps there (docs/launching.md)
 * is written to stderr.
 */
function inFullTmpdir(args: string[]) {
	const script = 'mount -t tmpfs -o size=8k tmpfs "$0" && head -c 8192 /dev/zero > "$0/fill" 2>/dev/null; TMPDIR="$0" "$@"; status=$?; ls -A "$0" | grep -Ev "^(fill|pdi-core-link-[0-9]+-[0-9a-f]{16})$" >&2; exit $status';
	return spawnSync('unshare', ['-m', 'sh', '-c', script, tmp, process.execPath, cliPath, ...args], {encoding: 'utf8', timeout: 60_000});
}

test('a full TMPDIR is one line naming it, and nothing is left in it (was: `pdi: write: no space left on device`)', t => {
	if (process.getuid?.() !== 0) {
		t.pass('needs root for a private tmpfs');
		return;
	}

	const expected = `pdi: ${tmp}: cannot write the compiled config there: no space left on device (set TMPDIR to a directory with room)\n`;
	for (const args of [['run', '-c', config, '--', 'true'], ['trace', '--', 'true']]) {
		const run = inFullTmpdir(args);
		t.is(run.status, 2, args.join(' '));
		t.is(run.stderr, expected, args.join(' '));
	}
});

test('pdi inspect with a full TMPDIR names the report it cannot write and why, then says the program ended before it; nothing is left in TMPDIR', t => {
	if (process.getuid?.() !== 0) {
		t.pass('needs root for a private tmpfs');
		return;
	}

	// Before: `pdi: No space left on device: PATH`, and a second line blaming a config the core could not install.
	const run = inFullTmpdir(['inspect', '--', '/bin/true']);
	t.is(run.status, 2);
	const lines = run.stderr.split('\n');
	t.regex(lines[0]!, new RegExp(`^pdi: cannot write the inspect report to ${tmp}/pdi-inspect-[^/]+/report\\.json: No space left on device \\(set TMPDIR to a directory with room\\)$`));
	t.is(lines[1], 'pdi: /bin/true exited with status 2 before the report: the pdi core ends a program so when it cannot install the config or write the report (its message is above)');
	t.deepEqual(lines.slice(2), ['']);
});
