import {execFile, execFileSync} from 'node:child_process';
import {existsSync, readdirSync, readFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {parseComux, serializeComux} from '../src/ts/comux/index.js';
import {pdiPaths} from '../src/ts/index.js';
import {root} from './helpers/cli.js';
import {scratchDirectory} from './helpers/files.js';

/** The C harness (test/fixtures/comux-mutator) that dlopens the mutator and checks each output with comux.c. */
const harness = path.join(root, 'test/fixtures/out/comux-mutator/mutator-harness');
const samples = path.join(root, 'data/comux-samples');
/** Every sample file, valid and invalid: the seeds, add_bufs and restarts of a run. */
const inputs = readdirSync(samples, {recursive: true, withFileTypes: true})
	.filter(entry => entry.isFile() && entry.name !== 'README.md')
	.map(entry => path.join(entry.parentPath, entry.name))
	.sort();

/** What the harness counts (mutator-harness.c, print_stats). */
type Stats = {
	calls: number;
	tiny_calls: number;
	zero_for_tiny: number;
	valid: number;
	invalid: number;
	over_max: number;
	empty: number;
	changed: number;
	invalid_inputs: number;
	wrapped_valid: number;
	conns_up: number;
	conns_down: number;
	chunks_up: number;
	chunks_down: number;
	flags_changed: number;
	sched_changed: number;
	trim_runs: number;
	trim_steps: number;
	trim_successes: number;
	trim_invalid: number;
	trim_not_smaller: number;
	samples: number;
	hash: string;
	ops: Record<string, number>;
};

type Run = {stats: Stats; sampleDirectory: string; stderr: string};

async function runHarness(seed: number, iterations: number): Promise<Run> {
	const sampleDirectory = scratchDirectory('pdi-mutator-');
	const args = [pdiPaths().comuxMutator, String(seed), String(iterations), sampleDirectory, ...inputs];
	return new Promise((resolve, reject) => {
		execFile(harness, args, {timeout: 60_000, maxBuffer: 16 * 1024 * 1024}, (error, stdout, stderr) => {
			if (error) {
				reject(new Error(`${harness} failed: ${error.message}\n${stderr}`));
				return;
			}

			resolve({stats: JSON.parse(stdout) as Stats, sampleDirectory, stderr});
		});
	});
}

let mainRun: Promise<Run> | undefined;
/** The run most tests look at: 20 000 calls, each output fed back as the next input. */
const twentyThousand = async () => {
	mainRun ??= runHarness(20_240_611, 20_000);
	return mainRun;
};

const dataMutations = ['flip', 'byte', 'arith', 'interesting', 'insert', 'delete', 'duplicate', 'token', 'splice'];
const structureMutations = ['split', 'merge', 'swap', 'sched', 'flags', 'move', 'add-conn', 'remove-conn', 'dup-chunk', 'drop-chunk'];

test('the mutator library sits next to the core and exports exactly the AFL++ entry points', t => {
	const library = pdiPaths().comuxMutator;
	t.is(path.dirname(library), pdiPaths().nativeDirectory);
	t.true(existsSync(library), library);
	const exported = execFileSync('nm', ['-D', '--defined-only', library], {encoding: 'utf8'})
		.split('\n').filter(Boolean).map(line => line.trim().split(/\s+/).at(-1)!).sort();
	t.deepEqual(exported, [
		'afl_custom_deinit', 'afl_custom_describe', 'afl_custom_fuzz', 'afl_custom_init', 'afl_custom_init_trim',
		'afl_custom_post_trim', 'afl_custom_trim',
	]);
	const needed = [...execFileSync('readelf', ['-dW', library], {encoding: 'utf8'}).matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)]
		.map(match => match[1]);
	t.deepEqual(needed, ['libc.so.6']);
});

test('twenty thousand mutations, each fed back, are all valid comux files within max_size', async t => {
	const {stats, stderr} = await twentyThousand();
	t.is(stats.calls, 20_000);
	t.is(stats.invalid, 0, stderr);
	t.is(stats.valid, stats.calls - stats.tiny_calls);
	t.is(stats.over_max, 0);
	t.is(stats.empty, 0);
	t.true(stats.tiny_calls > 0);
	t.is(stats.zero_for_tiny, stats.tiny_calls, 'a max_size below the 20-byte header gives an empty result');
});

test('most outputs differ from their input', async t => {
	const {stats} = await twentyThousand();
	t.true(stats.changed / stats.valid > 0.9, `${stats.changed} of ${stats.valid} changed`);
});

test('the structural mutations happen: connections and chunks come and go, flags and schedules change', async t => {
	const {stats} = await twentyThousand();
	const calls = stats.calls;
	for (const key of ['conns_up', 'conns_down', 'chunks_up', 'chunks_down', 'flags_changed', 'sched_changed'] as const) {
		t.true(stats[key] > calls / 100, `${key}: ${stats[key]}`);
	}

	for (const name of [...dataMutations, ...structureMutations]) {
		t.true((stats.ops[name] ?? 0) > calls / 200, `${name}: ${stats.ops[name] ?? 0}`);
	}
});

test('an input that is not comux comes out as a valid comux file', async t => {
	const {stats} = await twentyThousand();
	t.true(stats.invalid_inputs > 500, `${stats.invalid_inputs} invalid inputs`);
	t.is(stats.wrapped_valid, stats.invalid_inputs);
	t.is(stats.ops['wrap'], stats.invalid_inputs);
});

test('trimming offers only valid files, each smaller than the last accepted one', async t => {
	const {stats, stderr} = await twentyThousand();
	t.true(stats.trim_runs > 100);
	t.true(stats.trim_steps > stats.trim_runs);
	t.true(stats.trim_successes > 0);
	t.is(stats.trim_invalid, 0, stderr);
	t.is(stats.trim_not_smaller, 0);
});

test('the TypeScript parser reads the sampled outputs as the C reader does and writes them back byte for byte', async t => {
	const {stats, sampleDirectory} = await twentyThousand();
	const manifest = readFileSync(path.join(sampleDirectory, 'manifest'), 'utf8').trim().split('\n');
	t.is(manifest.length, stats.samples);
	t.true(manifest.length >= 15);
	for (const line of manifest) {
		const [name, conns, chunks, size] = line.split(' ');
		const bytes = new Uint8Array(readFileSync(path.join(sampleDirectory, name!)));
		t.is(bytes.length, Number(size), name);
		const doc = parseComux(bytes);
		t.is(doc.numConns, Number(conns), name);
		t.is(doc.chunks.length, Number(chunks), name);
		t.deepEqual(serializeComux(doc), bytes, name);
	}
});

test('the same seed gives the same mutations and another seed different ones', async t => {
	const [first, again, other] = await Promise.all([runHarness(7, 3000), runHarness(7, 3000), runHarness(8, 3000)]);
	t.is(first.stats.invalid + again.stats.invalid + other.stats.invalid, 0);
	t.is(first.stats.hash, again.stats.hash);
	t.not(first.stats.hash, other.stats.hash);
});
