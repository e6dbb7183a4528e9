/**
 * bench/comux: replays per second of multi-connection comux files on the echo
 * fixture, nginx and lighttpd in three modes, one run: a fresh server process
 * per input, fork mode (the server started once, a fork per input), and
 * afl-fuzz executions per second with and without the fork server at the
 * first accept. Run with `npm run bench:comux` (`--json` for machines,
 * `--no-afl` without the afl-fuzz rows).
 */
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {comux} from '../../src/ts/comux/builder.js';
import {startComuxForkServer} from '../../src/ts/comux/fork-server.js';
import {runComux} from '../../src/ts/comux/replay.js';
import {echoServerPath, freePort, lighttpdCommand, nginxCommand, webRoot} from '../../test/helpers/servers.js';
import {BenchError, fail, parseFlags, positiveIntegerEnv, removeAtEnd, run, runBenchmark} from '../lib/harness.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const flags = parseFlags('comux', {'--json': 'the report as JSON on stdout', '--no-afl': 'without the afl-fuzz rows'});
const replays = positiveIntegerEnv('comux', 'BENCH_REPLAYS', 40);
const aflSeconds = positiveIntegerEnv('comux', 'BENCH_AFL_SECONDS', 15);
const cliFiles = positiveIntegerEnv('comux', 'BENCH_CLI_FILES', 200);
const json = flags.has('--json');
const withAfl = !flags.has('--no-afl');
const pdiCli = path.join(root, 'dist/cli/pdi.js');

const echoInput = comux()
	.conn(0, 'hello ', {awaitResponse: true})
	.conn(1, 'second connection\n', {awaitResponse: true})
	.conn(0, 'world\n')
	.conn(2, 'x'.repeat(16_384))
	.conn(1, 'bye\n')
	.bytes();

const keepAliveInput = comux()
	.conn(0, 'GET /hello.txt HTTP/1.1\r\nHost: localhost\r\n\r\n', {awaitResponse: true, noShutdown: true})
	.conn(0, 'GET /index.html HTTP/1.1\r\nHost: localhost\r\n\r\n', {awaitResponse: true, noShutdown: true})
	.conn(1, 'GET /nothing HTTP/1.1\r\nHost: localhost\r\n\r\n', {awaitResponse: true, noShutdown: true})
	.bytes();

const httpInput = comux()
	.conn(0, 'GET /hello.txt HTTP/1.0\r\n\r\n', {awaitResponse: true})
	.conn(1, 'GET /index.html HTTP/1.0\r\n\r\n', {awaitResponse: true})
	.conn(2, 'GET /nothing HTTP/1.0\r\n\r\n', {awaitResponse: true})
	.bytes();

/** HTTP replies differ only in their Date header from one second to the next. */
const comparable = (output: Buffer) => output.toString('latin1').replaceAll(/^Date: .*$/gm, 'Date:');

/** One row; `stability`: afl-fuzz's, in percent (how often an input took the same path again), for the afl-cc rows. */
type Result = {target: string; mode: string; runs: number; perSecond: number; msPerRun: number; outputBytes: number; stability?: number};

function check(target: string, index: number, status: number | null, output: Buffer, first: Buffer): void {
	if (status !== 0 || comparable(output) !== comparable(first)) {
		fail(`${target}: replay ${index} differs from the first (status ${status})`);
	}
}

/** Process per input: what `pdi comux replay` and a fuzzer without a fork server pay. */
async function perProcess(target: string, server: string[], input: Uint8Array, env: NodeJS.ProcessEnv): Promise<Result> {
	const first = await runComux(server, input, {env, exitImmediate: true});
	if (first.status !== 0 || first.stdout.length === 0) {
		fail(`${target}: the replay failed (status ${first.status}): ${first.stderr}`);
	}

	const started = performance.now();
	for (let index = 0; index < replays; index++) {
		const result = await runComux(server, input, {env, exitImmediate: true});
		check(target, index, result.status, result.stdout, first.stdout);
	}

	const seconds = (performance.now() - started) / 1000;
	return {target, mode: 'process', runs: replays, perSecond: replays / seconds, msPerRun: (seconds * 1000) / replays, outputBytes: first.stdout.length};
}

/** Fork mode: the server starts once, each input is a fork of it; the next input is asked for before the current one is awaited, as `replay --fork` does. */
async function forked(target: string, server: string[], input: Uint8Array, env: NodeJS.ProcessEnv): Promise<Result> {
	const forks = startComuxForkServer(server, {env, exitImmediate: true});
	try {
		const first = await forks.replay(input);
		const runs = replays * 5;
		const started = performance.now();
		let upcoming = forks.replay(input);
		for (let index = 0; index < runs; index++) {
			const current = upcoming;
			upcoming = index + 1 < runs ? forks.replay(input) : upcoming;
			const result = await current;
			check(target, index, result.status, result.stdout, first.stdout);
		}

		const seconds = (performance.now() - started) / 1000;
		return {target, mode: 'fork', runs, perSecond: runs / seconds, msPerRun: (seconds * 1000) / runs, outputBytes: first.stdout.length};
	} finally {
		await forks.close();
	}
}

/** afl-fuzz for `aflSeconds` with `pdi comux config --afl`, with or without the fork server at the first accept. */
function aflRun(work: string, target: string, server: string[], input: Uint8Array, env: NodeJS.ProcessEnv, forkServer: boolean, instrumented: boolean): Result {
	const directory = mkdtempSync(path.join(work, 'afl-'));
	try {
		mkdirSync(path.join(directory, 'seeds'));
		writeFileSync(path.join(directory, 'seeds/input.comux'), input);
		const printed = run(process.execPath, [pdiCli, 'comux', 'config', '--afl', '-o', path.join(directory, 'comux.cfg')], process.env).stdout;
		const variables = Object.fromEntries([...printed.matchAll(/^export (\w+)='([^']*)'$/gm)].map(match => [match[1]!, match[2]!]));
		const mode = forkServer ? {AFL_DUMB_FORKSRV: instrumented ? undefined : '1'} : {AFL_NO_FORKSRV: '1', PDI_COMUX_FORK: undefined, AFL_DEFER_FORKSRV: undefined};
		const environment = {...env, ...variables, ...mode, AFL_NO_UI: '1', AFL_SKIP_CPUFREQ: '1', AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES: '1'};
		const aflArgs = [...instrumented ? [] : ['-n'], '-V', String(aflSeconds), '-t', '2000', '-i', path.join(directory, 'seeds'), '-o', path.join(directory, 'out'), '--', ...server];
		run('afl-fuzz', aflArgs, Object.fromEntries(Object.entries(environment).filter(([, value]) => value !== undefined)));
		const results = instrumented ? path.join(directory, 'out/default') : path.join(directory, 'out');
		const plot = readFileSync(path.join(results, 'plot_data'), 'utf8').trim().split('\n').at(-1)?.split(/,\s*/) ?? fail(`${target}: afl-fuzz wrote no plot_data line`);
		const [seconds, runs] = [Number(plot[0]), Number(plot[11])];
		// afl-fuzz -n sees no coverage, hence no stability.
		const stability = instrumented ? Number(/^stability\s*:\s*([\d.]+)%$/m.exec(readFileSync(path.join(results, 'fuzzer_stats'), 'utf8'))?.[1] ?? Number.NaN) : undefined;
		return {target, mode: `afl ${forkServer ? 'fork at accept' : 'no fork server'}${instrumented ? ' (afl-cc)' : ' (-n)'}`, runs, perSecond: runs / seconds, msPerRun: (seconds * 1000) / runs, outputBytes: 0, stability};
	} finally {
		rmSync(directory, {recursive: true, force: true});
	}
}

const echoEnv = {...process.env, ECHO_QUIET: '1'};
const echoServer = [echoServerPath, 'epoll', '0'];
type Target = [string, string[], Uint8Array, NodeJS.ProcessEnv];

/** The four targets; the servers' directories are removed at the end, also when a run fails or is interrupted. */
async function targets(): Promise<Target[]> {
	const nginx = nginxCommand(webRoot(), await freePort());
	removeAtEnd(nginx.directory);
	const lighttpd = lighttpdCommand(webRoot(), await freePort());
	removeAtEnd(lighttpd.directory);
	return [
		['echo (epoll)', echoServer, echoInput, echoEnv],
		['nginx', [nginx.command, ...nginx.args], httpInput, process.env],
		['nginx keep-alive', [nginx.command, ...nginx.args], keepAliveInput, process.env],
		['lighttpd', [lighttpd.command, ...lighttpd.args], httpInput, process.env],
	];
}

/** `pdi comux replay DIR [--fork]` through the CLI, as users run it: Node's start included, once per command. */
type CliResult = {files: number; rounds: number; processSeconds: number; forkSeconds: number};
const cliRounds = 3;

function replayDirectory(directory: string, server: string[], fork: boolean): {seconds: number; verdicts: string} {
	const started = performance.now();
	const printed = run(process.execPath, [pdiCli, 'comux', 'replay', directory, '--json', '--no-progress', ...fork ? ['--fork'] : [], '--', ...server], process.env).stdout;
	const seconds = (performance.now() - started) / 1000;
	const report = JSON.parse(printed) as {files: Array<{file: string; verdict: string; status: number | null}>};
	return {seconds, verdicts: report.files.map(({file, verdict, status}) => `${file} ${verdict} ${status}`).join('\n')};
}

/** `cliFiles` copies of the nginx input, replayed with and without --fork in alternation; the best round of each. */
function cliReplays(work: string, server: string[]): CliResult {
	const directory = mkdtempSync(path.join(work, 'cli-'));
	try {
		for (let index = 0; index < cliFiles; index++) {
			writeFileSync(path.join(directory, `${String(index).padStart(4, '0')}.comux`), httpInput);
		}

		let processSeconds = Number.POSITIVE_INFINITY;
		let forkSeconds = Number.POSITIVE_INFINITY;
		for (let round = 0; round < cliRounds; round++) {
			const alone = replayDirectory(directory, server, false);
			const forks = replayDirectory(directory, server, true);
			if (forks.verdicts !== alone.verdicts || !alone.verdicts.split('\n').every(line => line.endsWith(' ok 0'))) {
				fail(`pdi comux replay: the verdicts with --fork differ from those without, or are not all ok:\n${forks.verdicts}`);
			}

			processSeconds = Math.min(processSeconds, alone.seconds);
			forkSeconds = Math.min(forkSeconds, forks.seconds);
		}

		return {files: cliFiles, rounds: cliRounds, processSeconds, forkSeconds};
	} finally {
		rmSync(directory, {recursive: true, force: true});
	}
}

/** The afl-fuzz rows: the echo server built with afl-cc (coverage, stability), then each target under -n. */
function aflRows(work: string, all: readonly Target[]): Result[] {
	const rows: Result[] = [];
	const aflEcho = path.join(work, 'echo-afl');
	run('afl-clang-fast', ['-O1', '-o', aflEcho, path.join(root, 'test/fixtures/echo/echoserver.c')], {...process.env, AFL_QUIET: '1'});
	for (const forkServer of [true, false]) {
		rows.push(aflRun(work, 'echo (afl-cc)', [aflEcho, 'epoll', '0'], echoInput, echoEnv, forkServer, true));
	}

	for (const [target, server, input, env] of all.filter(([name]) => name !== 'nginx keep-alive')) {
		for (const forkServer of [true, false]) {
			rows.push(aflRun(work, target, server, input, env, forkServer, false));
		}
	}

	return rows;
}

function report(results: readonly Result[], cli: CliResult): void {
	const cliRatio = cli.processSeconds / cli.forkSeconds;
	// As bench/trace and bench/callback: the factor the speed-up falls short by.
	const cliGoal = `goal: pdi comux replay --fork over ${cli.files} nginx files >= 10x faster than without --fork: ${cliRatio >= 10 ? 'goal met' : `goal missed by a factor of ${(10 / cliRatio).toFixed(2)}`} (${cliRatio.toFixed(1)}x)`;
	if (json) {
		process.stdout.write(JSON.stringify({replays, aflSeconds, results, cli: {...cli, ratio: cliRatio}}, null, 2) + '\n');
		return;
	}

	process.stdout.write(`comux benchmark: ${replays} replays per process row, ${replays * 5} per fork row${withAfl ? `, afl-fuzz for ${aflSeconds} s per afl row` : ''} (PDI_COMUX_EXIT_IMMEDIATE)\n`);
	process.stdout.write('target             mode                             runs/s   ms/run    runs   output bytes   stability\n');
	for (const result of results) {
		process.stdout.write(`${result.target.padEnd(17)}  ${result.mode.padEnd(31)}  ${result.perSecond.toFixed(1).padStart(7)}  ${result.msPerRun.toFixed(2).padStart(7)}  ${String(result.runs).padStart(6)}  ${String(result.outputBytes).padStart(13)}${result.stability === undefined ? '' : `${result.stability.toFixed(2).padStart(11)}%`}\n`);
	}

	process.stdout.write(`pdi comux replay DIR (nginx, ${cli.files} files, the CLI with Node's start, best of ${cli.rounds} alternating rounds): ${cli.processSeconds.toFixed(2)} s, with --fork ${cli.forkSeconds.toFixed(2)} s\n${cliGoal}\n`);
}

await runBenchmark('comux', async work => {
	try {
		run('make', ['-s', '-C', path.join(root, 'test/fixtures'), '-j2'], process.env);
		const all = await targets();
		const results: Result[] = [];
		for (const [target, server, input, env] of all) {
			results.push(await perProcess(target, server, input, env), await forked(target, server, input, env));
		}

		const nginx = all[1]?.[1] ?? fail('no nginx target');
		const cli = cliReplays(work, nginx);
		results.push(...withAfl ? aflRows(work, all) : []);
		report(results, cli);
	} catch (error) {
		// A server that does not start, a reply that does not parse: one FAILED line, not a stack trace.
		if (error instanceof Error && !(error instanceof BenchError)) {
			fail(error.message);
		}

		throw error;
	}
});
