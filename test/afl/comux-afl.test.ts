import {execFile, execFileSync} from 'node:child_process';
import {existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import test from 'ava';
import {comux} from '../../src/ts/comux/builder.js';
import {parseComux} from '../../src/ts/comux/format.js';
import {pdi, root} from '../helpers/cli.js';
import {echoServerPath} from '../helpers/servers.js';

// AFL++ end to end (DESIGN §6b): afl-fuzz drives a server through `pdi comux config --afl`.
const scratch = mkdtempSync(path.join(tmpdir(), 'pdi-comux-afl-'));
test.after.always(() => {
	rmSync(scratch, {recursive: true, force: true});
});

/** The `export NAME='VALUE'` lines of `pdi comux config --afl` as variables. */
async function aflEnvironment(config: string): Promise<Record<string, string>> {
	const printed = await pdi(['comux', 'config', '--afl', '-o', config]);
	if (printed.code !== 0) {
		throw new Error(printed.stderr);
	}

	const variables: Record<string, string> = {};
	for (const match of printed.stdout.matchAll(/^export (\w+)='((?:[^']|'\\'')*)'$/gm)) {
		variables[match[1]!] = match[2]!.replaceAll('\'\\\'\'', '\'');
	}

	return variables;
}

type Campaign = {code: number; output: string; stats: {runTime: string; execsPerSec: string; execsDone: string; edgesFound: string}; crashes: string[]};

/** One afl-fuzz run (no UI, one core, stops at the first crash or after `seconds`). */
async function fuzz(name: string, variables: Record<string, string>, aflArgs: string[], server: string[], seconds: number): Promise<Campaign> {
	const seeds = path.join(scratch, `${name}-seeds`);
	const out = path.join(scratch, `${name}-out`);
	mkdirSync(seeds);
	writeFileSync(path.join(seeds, 'two.comux'), comux().conn(0, 'hello\n', {awaitResponse: true, noShutdown: true}).conn(1, 'world\n', {awaitResponse: true}).bytes());
	const environment = {
		...process.env, ...variables, ECHO_QUIET: '1', AFL_NO_UI: '1', AFL_SKIP_CPUFREQ: '1', AFL_NO_AFFINITY: '1', AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES: '1', AFL_BENCH_UNTIL_CRASH: '1',
	};
	const {code, output} = await new Promise<{code: number; output: string}>(resolve => {
		execFile('afl-fuzz', [...aflArgs, '-V', String(seconds), '-t', '2000', '-i', seeds, '-o', out, '--', ...server], {env: environment, timeout: (seconds + 60) * 1000, maxBuffer: 64 * 1024 * 1024}, (error, stdout, stderr) => {
			resolve({code: error ? (typeof error.code === 'number' ? error.code : 128) : 0, output: stdout + stderr});
		});
	});
	// afl-fuzz -n writes straight into OUT, an instrumented campaign into OUT/default.
	const results = readdirSync(out).includes('default') ? path.join(out, 'default') : out;
	// The last line of plot_data: relative_time, ..., execs_per_sec, total_execs, edges_found.
	const plot = readFileSync(path.join(results, 'plot_data'), 'utf8').trim().split('\n').at(-1)!.split(/,\s*/);
	// fuzzer_stats, written when afl-fuzz ends, has the final count; plot_data's last line may be seconds older.
	const statsFile = path.join(results, 'fuzzer_stats');
	const final = existsSync(statsFile) ? /^execs_done\s*:\s*(\d+)$/m.exec(readFileSync(statsFile, 'utf8'))?.[1] : undefined;
	const stats = {runTime: plot[0]!, execsPerSec: plot[10]!, execsDone: final ?? plot[11]!, edgesFound: plot[12]!};
	const crashes = readdirSync(path.join(results, 'crashes')).filter(file => file.startsWith('id:')).map(file => path.join(results, 'crashes', file));

	return {code, output, stats, crashes};
}

test.serial('afl-fuzz with pdi comux config --afl finds a crash that needs a second connection in an afl-clang-fast server within 5 minutes (-V 300), and pdi comux run reproduces it', async t => {
	const server = path.join(scratch, 'echoserver-afl');
	execFileSync('afl-clang-fast', ['-O1', '-DECHO_PLANTED_BUG', '-o', server, path.join(root, 'test/fixtures/echo/echoserver.c')], {env: {...process.env, AFL_QUIET: '1'}, stdio: ['ignore', 'ignore', 'pipe']});
	const variables = await aflEnvironment(path.join(scratch, 'comux.cfg'));
	t.is(variables['PDI_COMUX_FORK'], 'afl');
	t.is(variables['AFL_DEFER_FORKSRV'], '1');
	const campaign = await fuzz('planted', variables, [], [server, 'epoll', '0'], 300);
	t.is(campaign.code, 0, campaign.output.slice(-3000));
	t.log(`${campaign.stats.execsDone} executions, ${campaign.stats.execsPerSec} per second, ${campaign.stats.runTime} s`);
	t.true(campaign.crashes.length > 0, 'afl-fuzz found no crash in 5 minutes');
	const crash = campaign.crashes[0]!;
	t.true(parseComux(readFileSync(crash)).numConns >= 2, 'the crashing input holds two connections');
	const replay = await pdi(['comux', 'run', crash, '--', server, 'epoll', '0'], {env: {...process.env, ECHO_QUIET: '1'}});
	t.is(replay.code, 134, replay.stderr); // SIGABRT: the planted abort()
});

test.serial('an afl-clang-fast server started through a wrapper (sh -c \'exec SERVER\', AFL_SKIP_BIN_CHECK) keeps its deferred fork server, its coverage and its crashes', async t => {
	const server = path.join(scratch, 'echoserver-wrapped');
	execFileSync('afl-clang-fast', ['-O1', '-DECHO_PLANTED_BUG', '-o', server, path.join(root, 'test/fixtures/echo/echoserver.c')], {env: {...process.env, AFL_QUIET: '1'}, stdio: ['ignore', 'ignore', 'pipe']});
	const variables = await aflEnvironment(path.join(scratch, 'wrapped.cfg'));
	const campaign = await fuzz('wrapped', {...variables, AFL_SKIP_BIN_CHECK: '1'}, [], ['/bin/sh', '-c', `exec ${server} epoll 0`], 60);
	t.is(campaign.code, 0, campaign.output.slice(-3000));
	// AFL_BENCH_UNTIL_CRASH ends the campaign at its first crash, which the mutator may find within a few dozen inputs.
	t.true(Number(campaign.stats.execsDone) >= (campaign.crashes.length > 0 ? 10 : 100), `${campaign.stats.execsDone} executions`);
	t.true(Number(campaign.stats.edgesFound) > 0, 'coverage reaches afl-fuzz');
	t.true(campaign.crashes.length > 0, 'afl-fuzz found no crash in 60 s');
});

test.serial('an uninstrumented server under afl-fuzz -n with AFL_DUMB_FORKSRV is served by pdi\'s own fork server at its first accept', async t => {
	const variables = await aflEnvironment(path.join(scratch, 'dumb.cfg'));
	const campaign = await fuzz('dumb', {...variables, AFL_DUMB_FORKSRV: '1'}, ['-n'], [echoServerPath, 'poll', '0'], 10);
	t.is(campaign.code, 0, campaign.output.slice(-3000));
	t.regex(campaign.output, /fork server is up/i);
	t.true(Number(campaign.stats.execsDone) >= 100, `${campaign.stats.execsDone} executions`);
	t.is(campaign.crashes.length, 0);
});

test.serial('an invalid seed, or one without a chunk, stops an instrumented campaign at its dry run with afl-fuzz\'s \'No instrumentation detected\', and the seed check docs/comux.md gives names it first', async t => {
	const directory = path.join(scratch, 'checked');
	const seeds = path.join(directory, 'seeds');
	mkdirSync(seeds, {recursive: true});
	writeFileSync(path.join(seeds, 'get.comux'), comux().conn(0, 'hello\n', {awaitResponse: true}).bytes());
	writeFileSync(path.join(seeds, 'get.txt'), 'GET / HTTP/1.0\r\n\r\n');
	writeFileSync(path.join(seeds, 'empty.comux'), comux().bytes());
	// The check, as docs/comux.md writes it, run by bash in a directory with seeds/.
	const markdown = readFileSync(path.join(root, 'docs/comux.md'), 'utf8');
	const check = [...markdown.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map(match => match[1] ?? '').find(text => text.includes('for seed in seeds/'));
	t.truthy(check, 'docs/comux.md gives a seed check');
	const checked = await new Promise<{stdout: string; stderr: string}>(resolve => {
		execFile('/bin/bash', ['-c', check!.replaceAll('npx pdi', `${JSON.stringify(process.execPath)} ${JSON.stringify(path.join(root, 'dist/cli/pdi.js'))}`)], {cwd: directory, timeout: 60_000}, (_error, stdout, stderr) => {
			resolve({stdout, stderr});
		});
	});
	t.is(checked.stdout, 'seeds/empty.comux: no chunk\n');
	t.is(checked.stderr, 'pdi: seeds/get.txt: bad magic at byte 0\n');
	// What that check spares: afl-fuzz runs each seed as it is, and the rejected one has no coverage.
	const server = path.join(scratch, 'echoserver-seeds');
	execFileSync('afl-clang-fast', ['-O1', '-o', server, path.join(root, 'test/fixtures/echo/echoserver.c')], {env: {...process.env, AFL_QUIET: '1'}, stdio: ['ignore', 'ignore', 'pipe']});
	const variables = await aflEnvironment(path.join(scratch, 'seeds.cfg'));
	const environment = {...process.env, ...variables, ECHO_QUIET: '1', AFL_NO_UI: '1', AFL_SKIP_CPUFREQ: '1', AFL_NO_AFFINITY: '1', AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES: '1'};
	// One campaign per bad seed, each beside the good one.
	for (const bad of ['get.txt', 'empty.comux']) {
		const pair = path.join(directory, `seeds-${bad}`);
		mkdirSync(pair);
		for (const name of ['get.comux', bad]) {
			writeFileSync(path.join(pair, name), readFileSync(path.join(seeds, name)));
		}

		const output = await new Promise<string>(resolve => {
			execFile('afl-fuzz', ['-V', '5', '-t', '2000', '-i', pair, '-o', path.join(directory, `out-${bad}`), '--', server, 'epoll', '0'], {env: environment, timeout: 120_000, maxBuffer: 64 * 1024 * 1024}, (_error, stdout, stderr) => {
				resolve(stdout + stderr);
			});
		});
		t.regex(output, /No instrumentation detected/, bad);
	}
});
