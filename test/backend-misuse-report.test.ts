import {writeFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {pdi, root} from './helpers/cli.js';
import {compileC, scratchDirectory} from './helpers/files.js';

const directory = scratchDirectory('pdi-backend-misuse-');
const include = `-I${path.join(root, 'include')}`;
const reason = 'with a record that is not a call pdi gave a hook';
const program = compileC(directory, 'getpidprog', '#include <stdio.h>\n#include <unistd.h>\nint main(void) { printf("%d\\n", getpid() > 0); return 0; }\n');

function config(name: string, backend: string, rule: string): string {
	const file = path.join(directory, `${name}.yaml`);
	writeFileSync(file, `backends: [{name: ${name}, library: ${JSON.stringify(backend)}}]\nrules:\n  - ${rule}\n`);
	return file;
}

test('a helper a FINI calls last (a tail call, whose return address is pdi\'s) is reported as the backend\'s, not pdi\'s core\'s', async t => {
	// Before: 'callback: .../pdi-preload.so called pdi_set_ret_int 1 time ...'.
	const backend = compileC(directory, 'tail-fini.so', '#include <pdi/backend.h>\nvoid PDI_BE_FUNC_PRE_CB(pdi_cb_call_t *call) { call->user = 1; }\nvoid PDI_BE_FUNC_FINI(void) { pdi_set_ret_int(0, 1); }\n', ['-O2', '-shared', '-fPIC', include]);
	const run = await pdi(['run', '-c', config('mine', backend, 'callback: {object: $main, backend: mine}'), '--', program]);
	t.is(run.code, 0, run.stderr);
	t.is(run.stdout, '1\n');
	t.regex(run.stderr, new RegExp(`^pdi: warning: callback: backend 'mine' \\(${backend.replaceAll('/', '\\/').replaceAll('.', '\\.')}\\) called pdi_set_ret_int 1 time ${reason}, where it does nothing`, 'm'));
});

test('a helper misused by a relink wrapper and a FINI is reported when the config has no callback rule', async t => {
	// Before: nothing was reported unless some rule was a callback.
	const backend = compileC(directory, 'relink-misuse.so', '#include <pdi/backend.h>\nstatic volatile uintptr_t sink;\nint w_getpid(void) { sink = pdi_arg_int(0, 0); return (int)sink + 1; }\nvoid PDI_BE_FUNC_FINI(void) { sink = pdi_arg_int(0, 0); sink++; }\n', ['-O2', '-shared', '-fPIC', include]);
	const run = await pdi(['run', '-c', config('rf', backend, 'relink: {object: $main, function: getpid, backend: rf, wrapper: w_getpid}'), '--', program]);
	t.is(run.code, 0, run.stderr);
	t.is(run.stdout, '1\n');
	t.regex(run.stderr, new RegExp(`^pdi: warning: callback: backend 'rf' \\(\\S+relink-misuse\\.so\\) called pdi_arg_int 2 times ${reason}, where it reads 0`, 'm'));
});
