/* Shared by the benchmarks: the command line and main wrapper, building the
 * shared programs, running the measured programs in a clean environment and
 * under callgrind, failing loudly, timing, and the table helpers. */
import {spawn, spawnSync} from 'node:child_process';
import {appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs';
import {constants, machine, tmpdir} from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {pdiPaths} from '../../src/ts/index.js';

export type Result = {
	status: number;
	stdout: string;
	stderr: string;
};

export class BenchError extends Error {}

export function fail(message: string): never {
	throw new BenchError(message);
}

export function progress(message: string): void {
	process.stderr.write(`${message}\n`);
}

export function parseField(text: string, field: string, where: string): string {
	const match = new RegExp(`^${field}=(\\S+)$`, 'm').exec(text);
	const value = match?.[1];
	if (value === undefined) {
		fail(`no ${field}= in the output of ${where}:\n${text}`);
	}

	return value;
}

export function median(values: readonly number[]): number {
	const sorted = [...values].sort((a, b) => a - b);
	const middle = Math.floor(sorted.length / 2);
	const upper = sorted[middle] ?? Number.NaN;
	return sorted.length % 2 === 1 ? upper : ((sorted[middle - 1] ?? Number.NaN) + upper) / 2;
}

/** Runs `jobs` round-robin, `rounds` times, starting each round one job further so no job is always first. */
export function interleave(rounds: number, count: number, job: (index: number) => void): void {
	for (let round = 0; round < rounds; round++) {
		for (let step = 0; step < count; step++) {
			job((round + step) % count);
		}
	}
}

/** 1 + 2 + … + n: what benchprog's bench_target(i) = i + 1 adds up to over i = 0 .. n-1. */
export function triangular(n: number): bigint {
	const calls = BigInt(n);
	return (calls * (calls + 1n)) / 2n;
}

/** The environment of this process without anything that would change how a measured program is loaded. */
export function cleanEnv(): NodeJS.ProcessEnv {
	const env = {...process.env};
	for (const key of Object.keys(env)) {
		if (['LD_PRELOAD', 'LD_AUDIT', 'LD_LIBRARY_PATH', 'LD_BIND_NOW', 'BENCHPROG_TAG'].includes(key) || key.startsWith('PDI_')) {
			delete env[key];
		}
	}

	return env;
}

/** Runs `file` to its end; anything but exit status 0 fails the benchmark with the program's output. */
export function run(file: string, args: readonly string[], env: NodeJS.ProcessEnv = cleanEnv()): Result {
	const result = spawnSync(file, args, {env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024});
	if (result.error) {
		fail(`cannot run ${file}: ${result.error.message}`);
	}

	const status = result.status ?? -1;
	if (status !== 0) {
		const how = result.signal ? `was killed by ${result.signal}` : `exited with status ${status}`;
		fail(`${[file, ...args].join(' ')} ${how}\n--- stdout\n${result.stdout}--- stderr\n${result.stderr}`);
	}

	return {status, stdout: result.stdout, stderr: result.stderr};
}

/** Runs `program` under callgrind; returns the instructions executed by the whole process (Ir) and its output. */
export function callgrind(program: string, label: string, env: NodeJS.ProcessEnv, args: readonly string[], work: string): {ir: bigint} & Result {
	const outFile = path.join(work, `callgrind-${label}-${args.join('-')}.out`);
	const result = run('valgrind', ['-q', '--tool=callgrind', `--callgrind-out-file=${outFile}`, program, ...args], env);
	const text = readFileSync(outFile, 'utf8');
	const ir = /^(?:summary|totals):\s+(\d+)/m.exec(text)?.[1];
	if (ir === undefined) {
		fail(`no summary:/totals: line in ${outFile}`);
	}

	return {ir: BigInt(ir), ...result};
}

/** The names a program imports (nm -D --undefined-only). */
export function imports(program: string): Set<string> {
	const {stdout} = run('nm', ['-D', '--undefined-only', program]);
	return new Set(stdout.split('\n').map(line => line.trim().split(/\s+/).at(-1)?.replace(/@.*/, '') ?? ''));
}

/**
 * Wall-clock milliseconds of whole runs, per variant: `warmups` unmeasured rounds, then `runs` measured ones,
 * interleaved; returns the median of each variant.
 */
export function medianRunMs<V extends string>(variants: readonly V[], warmups: number, runs: number, spawn: (variant: V) => void): Record<V, number> {
	const once = (variant: V): number => {
		const start = process.hrtime.bigint();
		spawn(variant);
		return Number(process.hrtime.bigint() - start) / 1e6;
	};

	const times = new Map<V, number[]>(variants.map(variant => [variant, []]));
	const at = (index: number): V => variants[index] ?? fail('variant index');
	interleave(warmups, variants.length, index => once(at(index)));
	interleave(runs, variants.length, index => times.get(at(index))?.push(once(at(index))));
	return Object.fromEntries(variants.map(variant => [variant, median(times.get(variant) ?? [])])) as Record<V, number>;
}

/** What a benchmark builds with, all into its own out/ folder. */
export type Builder = {
	out: string;
	/** A file of out/. */
	target: (name: string) => string;
	/** A file of bench/lib/. */
	shared: (name: string) => string;
	/** The compiler, with warnings as errors. */
	gcc: (...args: string[]) => void;
	/** A backend: a shared library that sees pdi's public header. */
	backend: (output: string, source: string, ...flags: string[]) => void;
	/** Writes `name`.cmd and a `name`.cfg (the text dialect) that names it after `options`; returns the .cfg. */
	config: (name: string, commands: string, options?: string) => string;
	preload: string;
};

const lib = path.dirname(fileURLToPath(import.meta.url));

/** Characters the dynamic loader takes literally in LD_PRELOAD and LD_AUDIT, and the text dialect without quotes. */
const loaderSafeName = /^[\w./+,@%=-]+$/;
const links = new Map<string, string>();

/**
 * `directory` as the loader and a config's `backend` line can name it: itself, or, for a checkout under a path with a
 * blank, ':' or '$' (which the loader splits LD_PRELOAD at: every mode would silently measure the bare call), a link
 * to it in a directory of /tmp that goes when the benchmark ends.
 */
function loaderSafeDirectory(directory: string): string {
	if (loaderSafeName.test(directory)) {
		return directory;
	}

	let link = links.get(directory);
	if (link === undefined) {
		const parent = mkdtempSync('/tmp/pdi-bench-link-');
		removeAtEnd(parent);
		link = path.join(parent, 'to');
		symlinkSync(directory, link);
		links.set(directory, link);
	}

	return link;
}

/** `file` through {@link loaderSafeDirectory}. */
export function loaderSafeFile(file: string): string {
	return path.join(loaderSafeDirectory(path.dirname(file)), path.basename(file));
}

/**
 * Where a benchmark builds: `out`, or for a checkout under a path the loader splits, a directory of /tmp removed when
 * the benchmark ends (uftrace names the programs it records by their real path, and records nothing of one that has
 * a blank in it, so a link would not do).
 */
function buildDirectory(out: string): string {
	if (loaderSafeName.test(out)) {
		mkdirSync(out, {recursive: true});
		return out;
	}

	const outside = mkdtempSync('/tmp/pdi-bench-out-');
	removeAtEnd(outside);
	progress(`the checkout's path has a blank, ':' or '$', which the loader splits LD_PRELOAD at: building into ${outside} instead (removed at the end)`);
	return outside;
}

export function builder(checkoutOut: string, compiler = 'gcc'): Builder {
	const {preload, include} = pdiPaths();
	const out = buildDirectory(checkoutOut);
	const target = (name: string) => path.join(out, name);
	const gcc = (...args: string[]) => {
		run(compiler, ['-O2', '-Wall', '-Wextra', '-Werror', ...args]);
	};

	return {
		out,
		target,
		shared: name => path.join(lib, name),
		gcc,
		backend: (output, source, ...flags) => gcc('-fPIC', '-shared', '-fvisibility=hidden', `-I${include}`, ...flags, '-o', target(output), source),
		config(name, commands, options = '') {
			writeFileSync(target(`${name}.cmd`), commands);
			writeFileSync(target(`${name}.cfg`), `${options}config = ${name}.cmd\n`);
			return target(`${name}.cfg`);
		},
		preload: loaderSafeFile(preload),
	};
}

/**
 * The programs both call benchmarks measure: libtarget.so (bench_target), benchprog (linked lazily, so that
 * LD_AUDIT sees its calls) and the relink wrapper `wrapperName` (bench_wrapper, +1000). Returns benchprog.
 */
export function buildBenchprog(build: Builder, wrapperName: string): string {
	const {gcc, target, shared} = build;
	gcc('-fPIC', '-shared', '-Wl,-soname,libtarget.so', '-o', target('libtarget.so'), shared('target.c'));
	// Lazy binding (Debian's default, spelled out): glibc calls la_pltenter/la_pltexit only for calls through a lazy PLT.
	gcc('-o', target('benchprog'), shared('benchprog.c'), `-L${build.out}`, '-ltarget', '-Wl,-rpath,$ORIGIN', '-Wl,-z,lazy');
	build.backend(wrapperName, shared('wrapper-backend.c'));
	return target('benchprog');
}

/** Why a goal that compares against `tool`, which is not installed (its rows read n/a), has no verdict: not a NaN factor. */
export function notMeasured(tool: string): string {
	return `not measured (${tool} is not installed)`;
}

/** Why no goal of a --quick run has a verdict: 1/100 of the calls and 3 runs give numbers that mean nothing. */
export const quickNotJudged = 'not judged (--quick measures nothing)';

/** An aligned text table: the first column to the left, the others to the right. */
export function tableLines(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string[] {
	const widths = header.map((title, column) => Math.max(title.length, ...rows.map(row => (row[column] ?? '').length)));
	const line = (cells: readonly string[]) =>
		cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0))).join('   ');
	return [header, ...rows].map(row => line(row));
}

export const ms = (value: number): string => `${value.toFixed(2)} ms`;
export const signedMs = (value: number): string => `${value >= 0 ? '+' : '-'}${ms(Math.abs(value))}`;
export const kilo = (value: number): string => `${(value / 1000).toFixed(0)}k`;

/** The command line every benchmark takes: `--json` for machines, `--quick` for a short run that only shows it works. */
export type Options = {json: boolean; quick: boolean};

/** The flags of `main`'s benchmarks, with what `--help` says of each. */
export const standardFlags = {
	'--json': 'the report as JSON on stdout (progress stays on stderr)',
	'--quick': 'every build and check on a few calls: shows it works, measures nothing (its goals are not judged)',
} as const;

/**
 * The flags given, each one of `accepted` (flag: what it does). `--help` prints the usage and ends with status 0; any
 * other argument is a usage error (status 2): a mistyped `--quick` must not start the long full run.
 */
export function parseFlags(name: string, accepted: Readonly<Record<string, string>>, args = process.argv.slice(2)): Set<string> {
	const flags = {...accepted, '--help': 'this text'};
	if (args.includes('--help')) {
		const width = Math.max(...Object.keys(flags).map(flag => flag.length));
		const lines = Object.entries(flags).map(([flag, what]) => `  ${flag.padEnd(width)}  ${what}`);
		process.stdout.write(`usage: npm run bench:${name} -- ${Object.keys(accepted).map(flag => `[${flag}]`).join(' ')}\n${lines.join('\n')}\n`);
		process.exit(0);
	}

	const unknown = args.find(arg => !Object.hasOwn(flags, arg));
	if (unknown !== undefined) {
		usageError(name, `unknown argument "${unknown}" (accepted: ${Object.keys(flags).join(', ')})`);
	}

	return new Set(args);
}

/** A mistake in how the benchmark was started: one line and status 2, before anything is built or measured. */
export function usageError(name: string, message: string): never {
	process.stderr.write(`bench:${name}: ${message}\n`);
	process.exit(2);
}

/** The environment variable `variable` as a positive integer, `fallback` when it is not set. */
export function positiveIntegerEnv(name: string, variable: string, fallback: number): number {
	const text = process.env[variable];
	if (text === undefined) {
		return fallback;
	}

	const value = Number(text);
	if (!/^\s*\d+\s*$/.test(text) || !Number.isSafeInteger(value) || value < 1) {
		usageError(name, `${variable} must be a positive integer (got ${JSON.stringify(text)})`);
	}

	return value;
}

/** Set in the worker process: its scratch folder, made and finally removed by the supervisor. */
const workVariable = 'PDI_BENCH_WORK';
/** In the scratch folder: the folders made elsewhere (the /tmp ones above), one JSON string a line. */
const madeElsewhere = '.remove-at-end';
let currentWork: string | undefined;

/** Removes `made` when the run ends, however it ends: the supervisor reads the record even after a signal. */
export function removeAtEnd(made: string): void {
	if (currentWork === undefined) {
		process.on('exit', () => {
			rmSync(made, {recursive: true, force: true});
		});
		return;
	}

	appendFileSync(path.join(currentWork, madeElsewhere), `${JSON.stringify(made)}\n`);
}

/** Removes `work` and what it records: only this run's own folders, never another run's /tmp/pdi-bench-*. */
function removeScratch(work: string): void {
	let record = '';
	try {
		record = readFileSync(path.join(work, madeElsewhere), 'utf8');
	} catch {
		// Nothing was made elsewhere (or the folder is gone already).
	}

	for (const line of record.split('\n').filter(Boolean)) {
		rmSync(JSON.parse(line) as string, {recursive: true, force: true});
	}

	rmSync(work, {recursive: true, force: true});
}

// SIGQUIT too (Ctrl-\): its default action would end this process alone and leave the worker's session running.
const endingSignals = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'] as const;

/**
 * Runs the benchmark in a worker process of its own process group, and waits. The measuring is synchronous (one
 * spawnSync after another for minutes), so a signal handler in that process would only run at its end: instead this
 * process, always idle, takes SIGINT, SIGTERM, SIGHUP and SIGQUIT, ends the worker's whole group (the programs it measures
 * too), removes the scratch folders and ends with 128 + the signal's number.
 */
function supervise(name: string, work: string): void {
	const worker = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
		detached: true,
		stdio: ['ignore', 'inherit', 'inherit'],
		env: {...process.env, [workVariable]: work},
	});
	let stopping: (typeof endingSignals)[number] | undefined;
	const end = (status: number) => {
		// What the worker started and left behind when it was stopped (a measured program that ignores the signal).
		if (stopping !== undefined) {
			killGroup(worker.pid, 'SIGKILL');
		}

		removeScratch(work);
		process.exit(status);
	};

	for (const signal of endingSignals) {
		process.on(signal, () => {
			stopping ??= signal;
			killGroup(worker.pid, signal);
			// A program that ignores the signal does not keep the run (and its scratch folders) alive.
			setTimeout(() => killGroup(worker.pid, 'SIGKILL'), 5000).unref();
		});
	}

	worker.on('error', error => {
		process.stderr.write(`bench:${name}: FAILED: cannot start the worker process: ${error.message}\n`);
		end(1);
	});
	worker.on('exit', (status, signal) => {
		if (stopping !== undefined) {
			process.stderr.write(`bench:${name}: stopped by ${stopping}; its scratch folders are removed\n`);
			end(128 + constants.signals[stopping]);
		}

		if (signal !== null) {
			process.stderr.write(`bench:${name}: FAILED: its worker process was killed by ${signal}\n`);
			end(128 + constants.signals[signal]);
		}

		end(status ?? 1);
	});
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
	try {
		process.kill(-(pid ?? 0), signal);
	} catch {
		// The group has ended already.
	}
}

/**
 * Runs `body` in the worker process with a fresh scratch folder (see {@link supervise}); in the process the user
 * started, this returns at once and that process ends with the worker. A BenchError becomes one FAILED line and
 * status 1.
 */
export async function runBenchmark(name: string, body: (work: string) => void | Promise<void>): Promise<void> {
	const work = process.env[workVariable];
	if (work === undefined) {
		supervise(name, mkdtempSync(path.join(tmpdir(), `pdi-bench-${name.replaceAll(':', '-')}-`)));
		return;
	}

	currentWork = work;
	// The normal end; after a signal the supervisor removes them.
	process.on('exit', () => {
		removeScratch(work);
	});
	try {
		await body(work);
	} catch (error) {
		if (!(error instanceof BenchError)) {
			throw error;
		}

		process.stderr.write(`bench:${name}: FAILED: ${error.message}\n`);
		process.exitCode = 1;
	}

	// Not kept alive by what a failed run left open (a fork server, a timer).
	process.exit();
}

/** How much a benchmark measures. */
export type Sizes = {
	/** Timed runs per mode (the best is kept); modes are interleaved. */
	timedRounds: number;
	/** Calls per timed run are divided by this: 1, or 100 with --quick. */
	callsDivisor: number;
	/** The two loop lengths whose instruction counts under callgrind are subtracted. */
	callgrindN1: number;
	callgrindN2: number;
	/** Whole-process runs (start-up, install): unmeasured warm-ups, then measured runs per variant (the median is kept). */
	warmups: number;
	runs: number;
};

/** What every benchmark's report starts with: where it ran, how much it measured, and one result per mode. */
export type ReportHead<M extends string, R> = {
	arch: string;
	rounds: number;
	callgrind: {n1: number; n2: number};
	modes: Record<M, R>;
};

export function reportHead<M extends string, R>(size: Sizes, modes: Record<M, R>): ReportHead<M, R> {
	return {arch: machine(), rounds: size.timedRounds, callgrind: {n1: size.callgrindN1, n2: size.callgrindN2}, modes};
}

/** The sizes of a full run with `runs` whole-process runs per variant, or of a --quick one. */
export function sizes(options: Options, runs: number): Sizes {
	return options.quick
		? {timedRounds: 1, callsDivisor: 100, callgrindN1: 1000, callgrindN2: 2000, warmups: 0, runs: 3}
		: {timedRounds: 5, callsDivisor: 1, callgrindN1: 100_000, callgrindN2: 200_000, warmups: 3, runs};
}

export type Benchmark<R> = {
	/** bench:NAME, and the prefix of its scratch folder. */
	name: string;
	/** Builds, checks and measures in `work`, a scratch folder removed afterwards. */
	measure: (work: string, options: Options) => R;
	table: (report: R) => string;
};

/** Runs a benchmark as a program: its report on stdout, a BenchError as one FAILED line and exit status 1. */
export function main<R>(benchmark: Benchmark<R>): void {
	const flags = parseFlags(benchmark.name, standardFlags);
	const options = {json: flags.has('--json'), quick: flags.has('--quick')};
	void runBenchmark(benchmark.name, work => {
		const report = benchmark.measure(work, options);
		process.stdout.write(options.json ? `${JSON.stringify(report, null, '\t')}\n` : `${benchmark.table(report)}\n`);
	});
}
