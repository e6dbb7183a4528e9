import path from 'node:path';
import test from 'ava';
import {loadConfig, verifyConfig} from '../src/ts/config/index.js';
import {paths} from '../src/ts/paths.js';
import {pdi, root} from './helpers/cli.js';
import {compileC, configError, writeFiles} from './helpers/files.js';

// An option over its limit or a handler without cb_allow_handler stopped the check before the backends were looked
// at: an undefined wrapper of the same file took a second run to find. docs/config.md promises a line for each problem.
const directory = writeFiles({
	'h6.cfg': 'max_threads = 4\nnum_threads = 8\nbackend cb = ./cb_be.so\nrelink $main abs cb nowrap\n',
	'h5.cfg': 'max_threads = 4\nbackend cb = ./cb_be.so\ncallback $main * cb foo\nrelink $main abs cb nowrap\n',
	'h6.yaml': 'options: {maxThreads: 4, numThreads: 8}\nbackends: [{name: cb, library: ./cb_be.so}]\nrules:\n  - relink: {object: $main, function: abs, backend: cb, wrapper: nowrap}\n',
	'h5.yaml': 'options: {maxThreads: 4}\nbackends: [{name: cb, library: ./cb_be.so}]\nrules:\n  - callback: {object: $main, backend: cb, handler: foo}\n  - relink: {object: $main, function: abs, backend: cb, wrapper: nowrap}\n',
	'other.yaml': 'options: {maxThreads: 4}\n',
}, 'pdi-every-problem-');
const library = compileC(directory, 'cb_be.so', '#include <pdi/backend.h>\nint wrap_abs(int x) { return x < 0 ? -x : x; }\nint foo(void) { return 0; }\nvoid PDI_BE_FUNC_PRE_CB(pdi_cb_call_t *call) { (void)call; }\nvoid PDI_BE_FUNC_POST_CB(pdi_cb_call_t *call) { (void)call; }\n', ['-O2', '-shared', '-fPIC', `-I${path.join(root, 'include')}`]);
const file = (name: string) => path.join(directory, name);
const undefinedWrapper = (name: string, place: string) => `${file(name)}:${place}: relink abs: wrapper 'nowrap' is not defined by cb (${library})`;

/** Every problem of each file, in file order, as `FILE:LINE:COL: message`. */
const expected: Record<string, string[]> = {
	'h6.cfg': [`${file('h6.cfg')}:2:15: num_threads: expected an integer ≤ max_threads (4), got '8'`, undefinedWrapper('h6.cfg', '4:21')],
	'h5.cfg': [`${file('h5.cfg')}:3:21: callback handler 'foo' needs cb_allow_handler = on`, undefinedWrapper('h5.cfg', '4:21')],
	'h6.yaml': [`${file('h6.yaml')}:1:38: options.numThreads: expected an integer ≤ maxThreads (4), got 8`, undefinedWrapper('h6.yaml', '4:66')],
	'h5.yaml': [`${file('h5.yaml')}:4:53: callback handler 'foo' needs options.cbAllowHandler: true`, undefinedWrapper('h5.yaml', '5:66')],
};

const printed = (lines: readonly string[]) => lines.map(line => `pdi: ${line}\n`).join('');

for (const name of Object.keys(expected)) {
	test(`pdi config check and pdi run report both the option or handler error and the undefined wrapper of ${name}`, async t => {
		for (const args of [['config', 'check', file(name)], ['run', '-c', file(name), '--', '/bin/true']]) {
			const result = await pdi(args);
			t.deepEqual([result.code, result.stderr], [2, printed(expected[name]!)], args[0]);
		}
	});
}

test('verifyConfig() of a config loaded with deferChecks lists the option and handler errors with the wrapper checks, in file order', async t => {
	const options = {backendDirectory: paths.nativeDirectory, bundled: paths.backends};
	for (const [name, lines] of Object.entries(expected)) {
		const config = await loadConfig(file(name), {deferChecks: true});
		const error = configError(() => verifyConfig(config, options));
		t.deepEqual(error.issues.map(issue => `${issue.file}:${issue.line}:${issue.column}: ${issue.message}`), lines, name);
		t.is(error.message, lines[0]!, name);
	}
});

test('loadConfig() without deferChecks still refuses an option over its limit and a handler without cbAllowHandler', async t => {
	for (const name of Object.keys(expected)) {
		const error = await t.throwsAsync(loadConfig(file(name)));
		t.is(error?.message, expected[name]![0]!, name);
	}
});

test('pdi run checks the limits and handlers of merged files with their wrappers, on the merged options', async t => {
	// other.yaml sets nothing over a limit itself; h6.cfg's num_threads is over the max_threads both set.
	const result = await pdi(['run', '-c', file('other.yaml'), '-c', file('h6.cfg'), '--', '/bin/true']);
	t.deepEqual([result.code, result.stderr], [2, printed(expected['h6.cfg']!)]);
});
