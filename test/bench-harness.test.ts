import {spawn, spawnSync} from 'node:child_process';
import {readdirSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {root} from './helpers/cli.js';
import {removeScratchDirectories, scratchDirectory} from './helpers/files.js';

// The benchmarks under bench/ have no test of their numbers (too long, and timing is no pass/fail signal here); these
// check their command line and how they end, which take a second or two each.
test.after.always(removeScratchDirectories);

function bench(script: string, args: readonly string[], env: NodeJS.ProcessEnv = {}) {
	return spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'bench', script), ...args], {cwd: root, encoding: 'utf8', env: {...process.env, ...env}, timeout: 60_000});
}

test('a benchmark given an argument it does not take stops with one usage line naming it and status 2', t => {
	const relink = bench('relink/run.ts', ['--quik']);
	t.is(relink.stderr, 'bench:relink: unknown argument "--quik" (accepted: --json, --quick, --help)\n');
	t.is(relink.stdout, '');
	t.is(relink.status, 2);
	for (const script of ['comux/run.ts', 'callback/arch.ts']) {
		const result = bench(script, ['--quick']);
		t.regex(result.stderr, /^bench:(comux|callback:arch): unknown argument "--quick" \(accepted: [^)]*--help\)\n$/, script);
		t.is(result.status, 2, script);
	}
});

test('a benchmark given --help prints its usage and measures nothing', t => {
	const result = bench('relink/run.ts', ['--help']);
	t.is(result.status, 0);
	t.regex(result.stdout, /^usage: npm run bench:relink -- \[--json\] \[--quick\]\n {2}--json {3}/);
	t.is(result.stderr, '');
});

test('bench:comux rejects a count variable that is not a positive integer with one line and status 2', t => {
	const replays = bench('comux/run.ts', ['--no-afl'], {BENCH_REPLAYS: 'abc'});
	t.is(replays.stderr, 'bench:comux: BENCH_REPLAYS must be a positive integer (got "abc")\n');
	t.is(replays.status, 2);
	const files = bench('comux/run.ts', ['--no-afl'], {BENCH_CLI_FILES: '0'});
	t.is(files.stderr, 'bench:comux: BENCH_CLI_FILES must be a positive integer (got "0")\n');
	t.is(files.status, 2);
});

test('a signal while a benchmark measures removes its scratch folder and ends with 128 plus the signal number', async t => {
	const temporary = scratchDirectory('pdi-bench-harness-');
	const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'bench/relink/run.ts'), '--quick'], {cwd: root, env: {...process.env, TMPDIR: temporary}, stdio: ['ignore', 'ignore', 'pipe']});
	let stderr = '';
	child.stderr.on('data', (chunk: Buffer) => {
		stderr += chunk.toString();
	});
	const ended = new Promise<number | null>(resolve => child.on('exit', status => resolve(status)));
	// Signalled while it builds and checks, past the start of the worker that made the folder.
	const started = Date.now();
	while (!stderr.includes('building into') && Date.now() - started < 15_000) {
		await new Promise(resolve => setTimeout(resolve, 50));
	}

	// tsx keeps its cache there too.
	const scratch = () => readdirSync(temporary).filter(name => name.startsWith('pdi-bench-'));
	t.is(scratch().length, 1);
	child.kill('SIGTERM');
	t.is(await ended, 128 + 15);
	t.deepEqual(scratch(), []);
	t.regex(stderr, /bench:relink: stopped by SIGTERM/);
});
