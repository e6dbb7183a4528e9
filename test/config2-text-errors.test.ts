import path from 'node:path';
import test from 'ava';
import {pdi} from './helpers/cli.js';
import {refusedAlike, writeIn} from './helpers/config-agree.js';
import {scratchDirectory} from './helpers/files.js';

const scratch = scratchDirectory('pdi-text-errors-');

const write = (name: string, text: string): string => writeIn(scratch, name, text);

test('an unknown command word of the text dialect names the command it most likely meant, as an unknown key does', async t => {
	const rules = write('rules.cmd', 'backend c = count\nrelnk $main getpid c count_getpid\n');
	t.is(await refusedAlike(t, rules), `pdi: ${rules}:2:1: unknown command 'relnk' (did you mean 'relink'?)\n`);
	const config = write('main.cfg', '[global]\n  Inlcude ":more"\n');
	t.is(await refusedAlike(t, config), `pdi: ${config}:2:3: unknown command 'Inlcude' (did you mean 'Include'?)\n`);
	const declaration = write('alias.cfg', 'objekt app = $main\n');
	t.is(await refusedAlike(t, declaration), `pdi: ${declaration}:1:1: unknown command 'objekt' (did you mean 'object'?)\n`);
	// No guess for a word near nothing; a YAML file's first key read as the text dialect says how to read it.
	const far = write('far.cfg', 'frobnicate now\n');
	t.is(await refusedAlike(t, far), `pdi: ${far}:1:1: unknown command 'frobnicate'\n`);
	const yamlish = write('yamlish.conf', 'backends:\n');
	t.regex(await refusedAlike(t, yamlish), /^pdi: \S+:1:1: unknown command 'backends:' \(its first line starts JSON or YAML, which pdi run -c and pdi config check read in a file named \.json, \.yaml or \.yml, and the core never: `pdi config compile FILE\.yaml -o FILE\.cfg` turns it into the text dialect\)\n$/);
});

test('errors of an Include line point at its FILE:SECTION', async t => {
	const missing = write('missing.cfg', '[global]\n   Include   "nosuch.cfg:global"\n');
	t.is(await refusedAlike(t, missing), `pdi: ${missing}:2:14: cannot read '${path.join(scratch, 'nosuch.cfg')}': no such file or directory\n`);
	const section = write('section.cfg', 'Include ":nosect"\n');
	t.is(await refusedAlike(t, section), `pdi: ${section}:1:9: no section 'nosect' in '${section}'\n`);
	const cycle = write('cycle.cfg', 'Include   ":loop"\n[loop]\nInclude  ":global"\n');
	t.is(await refusedAlike(t, cycle), `pdi: ${cycle}:3:10: Include cycle: ${cycle}:global -> ${cycle}:loop -> ${cycle}:global\n`);
	const extra = write('extra.cfg', 'Include ":x" more\n');
	t.is(await refusedAlike(t, extra), `pdi: ${extra}:1:14: malformed Include line: expected 'Include "FILE:SECTION"'\n`);
});

test('a Warning line without text warns "Warning", as an Error line without text fails with "Error", where it printed an empty warning', async t => {
	const bare = write('warning.cfg', 'Warning\n');
	const quoted = write('quoted.cfg', 'Warning ""\n');
	for (const config of [bare, quoted]) {
		const run = await pdi(['run', '-c', config, '--', '/bin/true']);
		t.is(run.code, 0, run.stderr);
		t.is(run.stderr, `pdi: warning: ${config}:1:1: Warning\n`);
	}
});
