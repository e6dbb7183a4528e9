/**
 * bench/comux: replays per second of multi-connection comux files on the echo
 * fixture, nginx and lighttpd in three modes, one run: a fresh server process
 * per input, fork mode (the server started once, a fork per input), and
 * afl-fuzz executions per second with and without the fork server at the
 * first accept. Run with `npm run bench:comux` (`--json` for machines,
 * `--no-afl` without the afl-fuzz rows).
 */
import {execFileSync} from 'node:child_process';
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {comux} from '../../src/ts/comux/builder.js';
import {startComuxForkServer} from '../../src/ts/comux/fork-server.js';
import {runComux} from '../../src/ts/comux/replay.js';
import {echoServerPath, freePort, lighttpdCommand, nginxCommand, webRoot} from '../../test/helpers/servers.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const replays = Number(process.env['BENCH_REPLAYS'] ?? 40);
const aflSeconds = Number(process.env['BENCH_AFL_SECONDS'] ?? 15);
const json = process.argv.includes('--json');

execFileSync('make', ['-s', '-C', path.join(root, 'test/fixtures'), '-j2'], {stdio: 'inherit'});

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
		throw new Error(`bench:comux: ${target}: replay ${index} differs from the first (status ${status})`);
	}
}

/** Process per input: what `pdi comux replay` and a fuzzer without a fork server pay. */
async function perProcess(target: string, server: string[], input: Uint8Array, env: NodeJS.ProcessEnv): Promise<Result> {
	const first = await runComux(server, input, {env, exitImmediate: true});
	if (first.status !== 0 || first.stdout.length === 0) {
		throw new Error(`bench:comux: ${target}: the replay failed (status ${first.status}): ${first.stderr}`);
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
function aflRun(target: string, server: string[], input: Uint8Array, env: NodeJS.ProcessEnv, forkServer: boolean, instrumented: boolean): Result {
	const directory = mkdtempSync(path.join(tmpdir(), 'pdi-bench-afl-'));
	try {
		mkdirSync(path.join(directory, 'seeds'));
		writeFileSync(path.join(directory, 'seeds/input.comux'), input);
		const printed = execFileSync(process.execPath, [path.join(root, 'dist/cli/pdi.js'), 'comux', 'config', '--afl', '-o', path.join(directory, 'comux.cfg')], {encoding: 'utf8'});
		const variables = Object.fromEntries([...printed.matchAll(/^export (\w+)='([^']*)'$/gm)].map(match => [match[1]!, match[2]!]));
		const mode = forkServer ? {AFL_DUMB_FORKSRV: instrumented ? undefined : '1'} : {AFL_NO_FORKSRV: '1', PDI_COMUX_FORK: undefined, AFL_DEFER_FORKSRV: undefined};
		const environment = {...env, ...variables, ...mode, AFL_NO_UI: '1', AFL_SKIP_CPUFREQ: '1', AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES: '1'};
		execFileSync('afl-fuzz', [...instrumented ? [] : ['-n'], '-V', String(aflSeconds), '-t', '2000', '-i', path.join(directory, 'seeds'), '-o', path.join(directory, 'out'), '--', ...server], {
			env: Object.fromEntries(Object.entries(environment).filter(([, value]) => value !== undefined)),
			stdio: 'ignore',
		});
		const results = instrumented ? path.join(directory, 'out/default') : path.join(directory, 'out');
		const plot = readFileSync(path.join(results, 'plot_data'), 'utf8').trim().split('\n').at(-1)!.split(/,\s*/);
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
const nginx = nginxCommand(webRoot(), await freePort());
const lighttpd = lighttpdCommand(webRoot(), await freePort());
// The servers' directories go also when a run fails or is interrupted.
process.on('exit', () => {
	rmSync(nginx.directory, {recursive: true, force: true});
	rmSync(lighttpd.directory, {recursive: true, force: true});
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
	process.once(signal, () => {
		process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
	});
}

const targets: Array<[string, string[], Uint8Array, NodeJS.ProcessEnv]> = [
	['echo (epoll)', echoServer, echoInput, echoEnv],
	['nginx', [nginx.command, ...nginx.args], httpInput, process.env],
	['nginx keep-alive', [nginx.command, ...nginx.args], keepAliveInput, process.env],
	['lighttpd', [lighttpd.command, ...lighttpd.args], httpInput, process.env],
];
const results: Result[] = [];
for (const [target, server, input, env] of targets) {
	results.push(await perProcess(target, server, input, env), await forked(target, server, input, env));
}

/** `pdi comux replay DIR [--fork]` through the CLI, as users run it: Node's start included, once per command. */
type CliResult = {files: number; rounds: number; processSeconds: number; forkSeconds: number};
const cliFiles = Number(process.env['BENCH_CLI_FILES'] ?? 200);
const cliRounds = 3;

function replayDirectory(directory: string, server: string[], fork: boolean): {seconds: number; verdicts: string} {
	const started = performance.now();
	const printed = execFileSync(process.execPath, [path.join(root, 'dist/cli/pdi.js'), 'comux', 'replay', directory, '--json', '--no-progress', ...fork ? ['--fork'] : [], '--', ...server], {encoding: 'utf8'});
	const seconds = (performance.now() - started) / 1000;
	const report = JSON.parse(printed) as {files: Array<{file: string; verdict: string; status: number | null}>};
	return {seconds, verdicts: report.files.map(({file, verdict, status}) => `${file} ${verdict} ${status}`).join('\n')};
}

/** `cliFiles` copies of the nginx input, replayed with and without --fork in alternation; the best round of each. */
function cliReplays(server: string[]): CliResult {
	const directory = mkdtempSync(path.join(tmpdir(), 'pdi-bench-cli-'));
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
				throw new Error(`bench:comux: pdi comux replay: the verdicts with --fork differ from those without, or are not all ok:\n${forks.verdicts}`);
			}

			processSeconds = Math.min(processSeconds, alone.seconds);
			forkSeconds = Math.min(forkSeconds, forks.seconds);
		}

		return {files: cliFiles, rounds: cliRounds, processSeconds, forkSeconds};
	} finally {
		rmSync(directory, {recursive: true, force: true});
	}
}

const cli = cliReplays([nginx.command, ...nginx.args]);

if (!process.argv.includes('--no-afl')) {
	const aflEcho = path.join(tmpdir(), `pdi-bench-echo-afl-${process.pid}`);
	execFileSync('afl-clang-fast', ['-O1', '-o', aflEcho, path.join(root, 'test/fixtures/echo/echoserver.c')], {env: {...process.env, AFL_QUIET: '1'}, stdio: 'ignore'});
	try {
		for (const forkServer of [true, false]) {
			results.push(aflRun('echo (afl-cc)', [aflEcho, 'epoll', '0'], echoInput, echoEnv, forkServer, true));
		}
	} finally {
		rmSync(aflEcho, {force: true});
	}

	for (const [target, server, input, env] of targets.filter(([name]) => name !== 'nginx keep-alive')) {
		for (const forkServer of [true, false]) {
			results.push(aflRun(target, server, input, env, forkServer, false));
		}
	}
}

const cliRatio = cli.processSeconds / cli.forkSeconds;
const cliGoal = `goal: pdi comux replay --fork over ${cli.files} nginx files >= 10x faster than without --fork: ${cliRatio >= 10 ? 'goal met' : `goal missed by ${(10 - cliRatio).toFixed(1)}x`} (${cliRatio.toFixed(1)}x)`;
if (json) {
	process.stdout.write(JSON.stringify({replays, aflSeconds, results, cli: {...cli, ratio: cliRatio}}, null, 2) + '\n');
} else {
	process.stdout.write(`comux benchmark: ${replays} replays per process row, ${replays * 5} per fork row, afl-fuzz for ${aflSeconds} s per afl row (PDI_COMUX_EXIT_IMMEDIATE)\n`);
	process.stdout.write('target             mode                             runs/s   ms/run    runs   output bytes   stability\n');
	for (const result of results) {
		process.stdout.write(`${result.target.padEnd(17)}  ${result.mode.padEnd(31)}  ${result.perSecond.toFixed(1).padStart(7)}  ${result.msPerRun.toFixed(2).padStart(7)}  ${String(result.runs).padStart(6)}  ${String(result.outputBytes).padStart(13)}${result.stability === undefined ? '' : `${result.stability.toFixed(2).padStart(11)}%`}\n`);
	}

	process.stdout.write(`pdi comux replay DIR (nginx, ${cli.files} files, the CLI with Node's start, best of ${cli.rounds} alternating rounds): ${cli.processSeconds.toFixed(2)} s, with --fork ${cli.forkSeconds.toFixed(2)} s\n${cliGoal}\n`);
}

process.exit(0);
