/**
 * Callback benchmark: the cost of one call through a pdi callback (empty pre and post hooks), compared with a bare
 * call, a pdi relink wrapper, glibc's LD_AUDIT pltenter/pltexit, uftrace and ltrace; plus the time pdi takes to
 * install a callback on an object with 1200 imports.
 *
 *     npm run bench:callback            # table on stdout (progress on stderr)
 *     npm run bench:callback -- --json  # the same numbers as JSON
 *
 * See README.md in this directory for what is measured and how to read it.
 */
import {spawnSync} from 'node:child_process';
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {machine, tmpdir} from 'node:os';
import path from 'node:path';
import process from 'node:process';
import {fileURLToPath} from 'node:url';
import {pdiPaths} from '../../src/ts/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.join(here, 'out');

/** Timed runs per mode (the best is kept); modes are interleaved. */
const timedRounds = 5;
/** The two loop lengths whose instruction counts are subtracted. */
const callgrindN1 = 100_000;
const callgrindN2 = 200_000;
/** Calls of the correctness checks. */
const checkN = 1000;
/** What the relink wrapper adds to bench_target's result. */
const wrapperDelta = 1000n;
/** The install measurement: functions of libmany.so that manyprog imports, and its runs. */
const manyFunctions = 1200;
const installWarmups = 3;
const installRuns = 20;
/** The goals checked at the end (a missed goal is reported, it does not fail the run). */
const goalInstrPerCall = 60;
const goalSpeedupOverAudit = 5;
const goalInstallMs = 1;

type Mode = 'direct' | 'relink' | 'callback' | 'audit' | 'uftrace' | 'ltrace';
const modes: readonly Mode[] = ['direct', 'relink', 'callback', 'audit', 'uftrace', 'ltrace'];

type ModeInfo = {
	/** The name in the table. */
	label: string;
	/** Calls per timed run: fewer for the slow modes, so that the whole benchmark stays around a minute. */
	calls: number;
	/** Whether instructions per call are counted (callgrind cannot run under uftrace or ltrace). */
	callgrind: boolean;
	/** An optional external tool the mode runs benchprog under. */
	tool?: string;
};

const modeInfo: Record<Mode, ModeInfo> = {
	direct: {label: 'direct', calls: 20_000_000, callgrind: true},
	relink: {label: 'relink', calls: 20_000_000, callgrind: true},
	callback: {label: 'callback', calls: 20_000_000, callgrind: true},
	audit: {label: 'LD_AUDIT', calls: 2_000_000, callgrind: true},
	uftrace: {label: 'uftrace', calls: 1_000_000, callgrind: false, tool: 'uftrace'},
	ltrace: {label: 'ltrace', calls: 20_000, callgrind: false, tool: 'ltrace'},
};

type Result = {
	status: number;
	stdout: string;
	stderr: string;
};

class BenchError extends Error {}

function fail(message: string): never {
	throw new BenchError(message);
}

function progress(message: string): void {
	process.stderr.write(`${message}\n`);
}

/** The environment of this process without anything that would change how benchprog is loaded. */
function cleanEnv(): NodeJS.ProcessEnv {
	const env = {...process.env};
	for (const key of Object.keys(env)) {
		if (['LD_PRELOAD', 'LD_AUDIT', 'LD_LIBRARY_PATH', 'LD_BIND_NOW'].includes(key) || key.startsWith('PDI_')) {
			delete env[key];
		}
	}

	return env;
}

function run(file: string, args: readonly string[], env: NodeJS.ProcessEnv = cleanEnv()): Result {
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

/** Whether `tool` can be started at all (installed and on PATH). */
function installed(tool: string): boolean {
	return spawnSync(tool, ['--version'], {encoding: 'utf8'}).error === undefined;
}

type Files = {
	benchprog: string;
	preload: string;
	audit: string;
	auditCount: string;
	/** relink $main bench_target -> relink-backend.so's bench_wrapper. */
	relinkConfig: string;
	/** callback $main * with empty-backend.so (instruments bench_target, empty hooks). */
	callbackConfig: string;
	/** callback $main * with count-backend.so (the same sites, hooks that count). */
	countConfig: string;
	manyprog: string;
	/** all-backend.so declared, no rule: everything of pdi but the callback. */
	manyNoRuleConfig: string;
	/** callback $main * with all-backend.so (every import). */
	manyCallbackConfig: string;
	/** The same at log_level = info, for the check (the core logs the number of slots). */
	manyCallbackInfoConfig: string;
};

/** libmany.c (f0 .. f<n-1>) and manyprog.c, which calls each of them once through its PLT. */
function writeManySources(libmany: string, manyprog: string): void {
	const functions = Array.from({length: manyFunctions}, (_, i) => i);
	const header = '/* Generated by bench/callback/run.ts. */\n';
	writeFileSync(libmany, header + functions.map(i => `int f${i}(int x) { return x + ${i}; }\n`).join(''));
	writeFileSync(
		manyprog,
		[
			header,
			'#include <stdio.h>\n\n',
			functions.map(i => `int f${i}(int x);\n`).join(''),
			'\nint main(void) {\n\tlong long sum = 0;\n',
			functions.map(i => `\tsum += f${i}((int)(sum & 7));\n`).join(''),
			'\tprintf("sum=%lld\\n", sum);\n\treturn 0;\n}\n',
		].join(''),
	);
}

function build(): Files {
	const {preload, include} = pdiPaths();
	mkdirSync(out, {recursive: true});
	const source = (name: string) => path.join(here, name);
	const target = (name: string) => path.join(out, name);
	const gcc = (...args: string[]) => run('gcc', ['-O2', '-Wall', '-Wextra', '-Werror', ...args]);
	const backend = (name: string, from: string, ...defines: string[]) =>
		gcc('-fPIC', '-shared', '-fvisibility=hidden', `-I${include}`, ...defines, '-o', target(name), source(from));

	gcc('-fPIC', '-shared', '-Wl,-soname,libtarget.so', '-o', target('libtarget.so'), source('target.c'));
	// Lazy binding (Debian's default, spelled out): glibc calls la_pltenter/la_pltexit only for calls through a lazy PLT.
	gcc('-o', target('benchprog'), source('benchprog.c'), `-L${out}`, '-ltarget', '-Wl,-rpath,$ORIGIN', '-Wl,-z,lazy');
	backend('relink-backend.so', 'relink-backend.c');
	backend('empty-backend.so', 'empty-backend.c');
	backend('count-backend.so', 'empty-backend.c', '-DBENCH_COUNT');
	backend('all-backend.so', 'empty-backend.c', '-DBENCH_ALL');
	gcc('-fPIC', '-shared', '-o', target('audit.so'), source('audit.c'));
	gcc('-fPIC', '-shared', '-DBENCH_COUNT', '-o', target('audit-count.so'), source('audit.c'));

	writeManySources(target('libmany.c'), target('manyprog.c'));
	gcc('-fPIC', '-shared', '-Wl,-soname,libmany.so', '-o', target('libmany.so'), target('libmany.c'));
	gcc('-o', target('manyprog'), target('manyprog.c'), `-L${out}`, '-lmany', '-Wl,-rpath,$ORIGIN', '-Wl,-z,lazy');

	// The config text dialect: the config file names a command file, which declares the backend and the rules.
	const config = (name: string, commands: string, options = '') => {
		writeFileSync(target(`${name}.cmd`), commands);
		writeFileSync(target(`${name}.cfg`), `${options}config = ${name}.cmd\n`);
		return target(`${name}.cfg`);
	};

	const callbackRules = (backendFile: string) => `backend b = ${target(backendFile)}\ncallback $main * b\n`;
	const stubs = 'cb_max_stubs = 4096\n';
	return {
		benchprog: target('benchprog'),
		preload,
		audit: target('audit.so'),
		auditCount: target('audit-count.so'),
		relinkConfig: config('relink', `backend b = ${target('relink-backend.so')}\nrelink $main bench_target b bench_wrapper\n`),
		callbackConfig: config('callback', callbackRules('empty-backend.so'), stubs),
		countConfig: config('count', callbackRules('count-backend.so'), stubs),
		manyprog: target('manyprog'),
		manyNoRuleConfig: config('many-norule', `backend b = ${target('all-backend.so')}\n`, stubs),
		manyCallbackConfig: config('many-callback', callbackRules('all-backend.so'), stubs),
		manyCallbackInfoConfig: config('many-callback-info', callbackRules('all-backend.so'), `${stubs}log_level = info\n`),
	};
}

/** The names a program imports (nm -D --undefined-only). */
function imports(program: string): Set<string> {
	const {stdout} = run('nm', ['-D', '--undefined-only', program]);
	return new Set(stdout.split('\n').map(line => line.trim().split(/\s+/).at(-1)?.replace(/@.*/, '') ?? ''));
}

/** benchprog must import bench_target and manyprog every f<i>, or a rule would be void. */
function checkImports(files: Files): void {
	if (!imports(files.benchprog).has('bench_target')) {
		fail('benchprog does not import bench_target (the compiler turned the call into something else)');
	}

	const many = imports(files.manyprog);
	const missing = Array.from({length: manyFunctions}, (_, i) => `f${i}`).filter(name => !many.has(name));
	if (missing.length > 0) {
		fail(`manyprog does not import ${missing.length} of f0 .. f${manyFunctions - 1} (${missing.slice(0, 5).join(', ')} ...)`);
	}
}

type Invocation = {
	file: string;
	args: string[];
	env: NodeJS.ProcessEnv;
};

/**
 * How benchprog runs in `mode` with `args`. `counting` picks the counting variants (count-backend.so,
 * audit-count.so) for the checks; `work` holds uftrace's data directory and ltrace's output file.
 */
function invocation(files: Files, mode: Mode, args: readonly string[], work: string, counting = false): Invocation {
	const env = cleanEnv();
	const bench = {file: files.benchprog, args: [...args], env};
	switch (mode) {
		case 'direct': {
			return bench;
		}

		case 'relink':
		case 'callback': {
			env.LD_PRELOAD = files.preload;
			env.PDI_CONFIG = mode === 'relink' ? files.relinkConfig : counting ? files.countConfig : files.callbackConfig;
			return bench;
		}

		case 'audit': {
			env.LD_AUDIT = counting ? files.auditCount : files.audit;
			return bench;
		}

		case 'uftrace': {
			return {file: 'uftrace', args: ['record', '--force', '-d', uftraceData(work), files.benchprog, ...args], env};
		}

		case 'ltrace': {
			return {file: 'ltrace', args: ['-o', ltraceOutput(work), '-e', 'bench_target', files.benchprog, ...args], env};
		}
	}
}

const uftraceData = (work: string) => path.join(work, 'uftrace.data');
const ltraceOutput = (work: string) => path.join(work, 'ltrace.out');

/** Runs benchprog once in `mode`; uftrace's data directory is removed before and after. */
function runMode(files: Files, mode: Mode, args: readonly string[], work: string, counting = false, report = false): Result {
	const {file, args: argv, env} = invocation(files, mode, args, work, counting);
	if (report) {
		env.PDI_BENCH_REPORT = '1';
	}

	rmSync(uftraceData(work), {recursive: true, force: true});
	return run(file, argv, env);
}

function parseField(text: string, field: string, where: string): string {
	const match = new RegExp(`^${field}=(\\S+)$`, 'm').exec(text);
	const value = match?.[1];
	if (value === undefined) {
		fail(`no ${field}= in the output of ${where}:\n${text}`);
	}

	return value;
}

/** bench_target(i) = i + 1 for i = 0 .. n-1, so the results add up to n(n+1)/2 (and the arguments to n(n-1)/2). */
function expectedSum(n: number): bigint {
	const calls = BigInt(n);
	return (calls * (calls + 1n)) / 2n;
}

function checkSum(stdout: string, mode: Mode, where: string): void {
	const sum = BigInt(parseField(stdout, 'sum', where));
	const expected = expectedSum(checkN) + (mode === 'relink' ? wrapperDelta * BigInt(checkN) : 0n);
	if (sum !== expected) {
		const why = mode === 'relink' && sum === expectedSum(checkN) ? ': the relink wrapper did not run' : '';
		fail(`${where}: sum=${sum}, expected ${expected}${why}`);
	}
}

/** The `name: key=value ...` line a backend or audit library prints at exit (PDI_BENCH_REPORT). */
function reportLine(stderr: string, name: string, where: string): Record<string, bigint> {
	const line = new RegExp(`^${name}: (.*)$`, 'm').exec(stderr)?.[1];
	if (line === undefined) {
		fail(`${where}: no "${name}:" report on stderr (the library was not loaded or did not finish)\n--- stderr\n${stderr}`);
	}

	const fields: Record<string, bigint> = {};
	for (const [, key, value] of line.matchAll(/(\w+)=(\d+)/g)) {
		if (key !== undefined && value !== undefined) {
			fields[key] = BigInt(value);
		}
	}

	return fields;
}

function expectFields(fields: Record<string, bigint>, expected: Record<string, bigint>, where: string): void {
	for (const [key, value] of Object.entries(expected)) {
		if (fields[key] !== value) {
			fail(`${where}: ${key}=${fields[key] ?? 'missing'}, expected ${value}`);
		}
	}
}

/** Runs benchprog under callgrind; returns the instructions executed by the whole process (Ir) and its output. */
function callgrind(program: string, label: string, env: NodeJS.ProcessEnv, args: readonly string[], work: string): {ir: bigint} & Result {
	const outFile = path.join(work, `callgrind-${label}-${args.join('-')}.out`);
	const result = run('valgrind', ['-q', '--tool=callgrind', `--callgrind-out-file=${outFile}`, program, ...args], env);
	const text = readFileSync(outFile, 'utf8');
	const match = /^(?:summary|totals):\s+(\d+)/m.exec(text);
	const ir = match?.[1];
	if (ir === undefined) {
		fail(`no summary:/totals: line in ${outFile}`);
	}

	return {ir: BigInt(ir), ...result};
}

/**
 * Correctness before any measurement: each mode really intercepts bench_target (natively and, for the modes measured
 * with callgrind, under valgrind too, so that the instruction counts are of the intercepted path).
 */
function checkModes(files: Files, available: readonly Mode[], work: string): void {
	const args = [String(checkN), 'check'];
	const n = BigInt(checkN);
	const argSum = expectedSum(checkN - 1);
	const resultSum = expectedSum(checkN);
	for (const mode of available) {
		const where = `benchprog ${checkN} check (${modeInfo[mode].label})`;
		const {stdout, stderr} = runMode(files, mode, args, work, false, true);
		checkSum(stdout, mode, where);
		const underCallgrind = (counting: boolean) => {
			const {file, args: argv, env} = invocation(files, mode, args, work, counting);
			if (file !== files.benchprog) {
				fail(`${mode} cannot run under callgrind`);
			}

			const result = callgrind(file, `check-${mode}${counting ? '-count' : ''}`, {...env, PDI_BENCH_REPORT: '1'}, argv.slice(), work);
			checkSum(result.stdout, mode, `${where} under callgrind`);
			return result;
		};

		switch (mode) {
			case 'direct':
			case 'relink': {
				underCallgrind(false);
				break;
			}

			case 'callback': {
				// empty-backend.so accepted exactly one site (bench_target); count-backend.so, with the same rule, sees
				// every call in pre and in post, with the right argument and return value.
				const sites = {sites: 1n};
				const counted = {sites: 1n, pre: n, post: n, args: argSum, rets: resultSum};
				expectFields(reportLine(stderr, 'empty-backend', where), sites, where);
				expectFields(reportLine(underCallgrind(false).stderr, 'empty-backend', `${where} under callgrind`), sites, where);
				const countWhere = `${where} with count-backend.so`;
				const counting = runMode(files, mode, args, work, true, true);
				checkSum(counting.stdout, mode, countWhere);
				expectFields(reportLine(counting.stderr, 'count-backend', countWhere), counted, countWhere);
				expectFields(reportLine(underCallgrind(true).stderr, 'count-backend', `${countWhere} under callgrind`), counted, countWhere);
				break;
			}

			case 'audit': {
				// The loader only warns when it cannot use an audit library: audit.so must report the objects it saw;
				// audit-count.so must see every call of bench_target in pltenter and in pltexit, and no other call.
				const objects = (fields: Record<string, bigint>, at: string) => {
					if ((fields.objects ?? 0n) < 3n) {
						fail(`${at}: the audit library saw ${fields.objects ?? 0n} objects (benchprog, libtarget.so and libc at least)`);
					}
				};

				const counted = {pltenter: n, pltexit: n, args: argSum, rets: resultSum, other: 0n};
				objects(reportLine(stderr, 'audit', where), where);
				objects(reportLine(underCallgrind(false).stderr, 'audit', `${where} under callgrind`), where);
				const countWhere = `${where} with audit-count.so`;
				const counting = runMode(files, mode, args, work, true, true);
				checkSum(counting.stdout, mode, countWhere);
				expectFields(reportLine(counting.stderr, 'audit-count', countWhere), counted, countWhere);
				expectFields(reportLine(underCallgrind(true).stderr, 'audit-count', `${countWhere} under callgrind`), counted, countWhere);
				break;
			}

			case 'uftrace': {
				// uftrace's own report of the recorded data: one line per function with its number of calls.
				const report = run('uftrace', ['report', '-d', uftraceData(work)], cleanEnv()).stdout;
				const calls = /(\d+)\s+bench_target\s*$/m.exec(report)?.[1];
				if (calls === undefined || BigInt(calls) !== n) {
					fail(`${where}: uftrace recorded ${calls ?? 'no'} calls of bench_target, expected ${checkN}\n--- uftrace report\n${report}`);
				}

				break;
			}

			case 'ltrace': {
				const traced = readFileSync(ltraceOutput(work), 'utf8').match(/bench_target\(/g)?.length ?? 0;
				if (traced !== checkN) {
					fail(`${where}: ltrace traced ${traced} calls of bench_target, expected ${checkN}`);
				}

				break;
			}
		}
	}
}

type InstallVariant = 'bare' | 'norule' | 'callback';
const installVariants: readonly InstallVariant[] = ['bare', 'norule', 'callback'];

function installEnv(files: Files, variant: InstallVariant): NodeJS.ProcessEnv {
	const env = cleanEnv();
	if (variant !== 'bare') {
		env.LD_PRELOAD = files.preload;
		env.PDI_CONFIG = variant === 'callback' ? files.manyCallbackConfig : files.manyNoRuleConfig;
	}

	return env;
}

/** manyprog computes the same sum in every variant, and the callback really instruments its 1200 imports. */
function checkInstall(files: Files, work: string): number {
	const sums = installVariants.map(variant => parseField(run(files.manyprog, [], installEnv(files, variant)).stdout, 'sum', `manyprog (${variant})`));
	if (new Set(sums).size !== 1) {
		fail(`manyprog computes different sums: ${installVariants.map((variant, i) => `${variant} ${sums[i]}`).join(', ')}`);
	}

	const log = path.join(work, 'many.log');
	const env = {...installEnv(files, 'callback'), PDI_CONFIG: files.manyCallbackInfoConfig, PDI_LOG: log, PDI_BENCH_REPORT: '1'};
	const {stderr} = run(files.manyprog, [], env);
	const text = readFileSync(log, 'utf8');
	const slots = /callback .* in \$main: (\d+) slot\(s\)/.exec(text)?.[1];
	if (slots === undefined || Number(slots) < manyFunctions) {
		fail(`manyprog with the callback: the core instrumented ${slots ?? 'no'} slots, expected at least ${manyFunctions}\n--- log\n${text}`);
	}

	expectFields(reportLine(stderr, 'all-backend', 'manyprog with the callback'), {sites: BigInt(slots)}, 'manyprog with the callback');
	return Number(slots);
}

function median(values: readonly number[]): number {
	const sorted = [...values].sort((a, b) => a - b);
	const middle = Math.floor(sorted.length / 2);
	const upper = sorted[middle] ?? Number.NaN;
	return sorted.length % 2 === 1 ? upper : ((sorted[middle - 1] ?? Number.NaN) + upper) / 2;
}

/** Runs `jobs` round-robin, `rounds` times, starting each round one job further so no job is always first. */
function interleave(rounds: number, count: number, job: (index: number) => void): void {
	for (let round = 0; round < rounds; round++) {
		for (let step = 0; step < count; step++) {
			job((round + step) % count);
		}
	}
}

type ModeResult = {
	label: string;
	calls: number;
	/** false: the mode's tool is not installed, and nothing was measured. */
	available: boolean;
	nsPerCall: number | null;
	nsPerCallRuns: number[];
	instrPerCall: number | null;
	ir: {n1: string; n2: string} | null;
};

type Goal = {
	what: string;
	met: boolean;
	/** What is missing: instructions, a factor of speed, milliseconds (0 when met). */
	missedBy: number;
	value: number;
	limit: number;
};

type Report = {
	arch: string;
	rounds: number;
	callgrind: {n1: number; n2: number};
	modes: Record<Mode, ModeResult>;
	install: {
		functions: number;
		sites: number;
		runs: number;
		medianMs: Record<InstallVariant, number>;
		/** callback minus norule: what installing the callback adds to the process. */
		installMs: number;
		callbackOverBareMs: number;
		/** Instructions of the whole manyprog process per variant, from callgrind. */
		instructions: Record<InstallVariant, number>;
	};
	goals: Goal[];
};

function measure(files: Files, available: readonly Mode[], sites: number, work: string): Report {
	progress(`timing: ${timedRounds} rounds x ${available.length} modes (${available.map(mode => `${modeInfo[mode].label} N=${modeInfo[mode].calls}`).join(', ')})`);
	const nsRuns: Record<Mode, number[]> = {direct: [], relink: [], callback: [], audit: [], uftrace: [], ltrace: []};
	interleave(timedRounds, available.length, index => {
		const mode = available[index] ?? fail('mode index');
		const {stdout} = runMode(files, mode, [String(modeInfo[mode].calls)], work);
		nsRuns[mode].push(Number(parseField(stdout, 'ns_per_call', `benchprog ${modeInfo[mode].calls} (${modeInfo[mode].label})`)));
	});

	progress(`callgrind: N=${callgrindN1} and N=${callgrindN2} per mode`);
	const results = {} as Record<Mode, ModeResult>;
	for (const mode of modes) {
		const {label, calls} = modeInfo[mode];
		const result: ModeResult = {label, calls, available: available.includes(mode), nsPerCall: null, nsPerCallRuns: nsRuns[mode], instrPerCall: null, ir: null};
		if (result.available) {
			result.nsPerCall = Math.min(...nsRuns[mode]);
		}

		if (result.available && modeInfo[mode].callgrind) {
			const ir = (n: number) => {
				const {file, env} = invocation(files, mode, [], work);
				return callgrind(file, mode, env, [String(n), 'quiet'], work).ir;
			};

			const ir1 = ir(callgrindN1);
			const ir2 = ir(callgrindN2);
			result.instrPerCall = Number(ir2 - ir1) / (callgrindN2 - callgrindN1);
			result.ir = {n1: String(ir1), n2: String(ir2)};
		}

		results[mode] = result;
	}

	progress(`install: ${installRuns} runs of manyprog per variant`);
	const installMs: Record<InstallVariant, number[]> = {bare: [], norule: [], callback: []};
	const spawnOnce = (variant: InstallVariant): number => {
		const start = process.hrtime.bigint();
		run(files.manyprog, [], installEnv(files, variant));
		return Number(process.hrtime.bigint() - start) / 1e6;
	};

	interleave(installWarmups, installVariants.length, index => spawnOnce(installVariants[index] ?? fail('variant index')));
	interleave(installRuns, installVariants.length, index => {
		const variant = installVariants[index] ?? fail('variant index');
		installMs[variant].push(spawnOnce(variant));
	});
	const medianMs = {bare: median(installMs.bare), norule: median(installMs.norule), callback: median(installMs.callback)};

	progress('install: callgrind of manyprog per variant');
	const instructions = {} as Record<InstallVariant, number>;
	for (const variant of installVariants) {
		instructions[variant] = Number(callgrind(files.manyprog, `install-${variant}`, installEnv(files, variant), [], work).ir);
	}

	const install = {
		functions: manyFunctions,
		sites,
		runs: installRuns,
		medianMs,
		installMs: medianMs.callback - medianMs.norule,
		callbackOverBareMs: medianMs.callback - medianMs.bare,
		instructions,
	};

	const callbackInstr = results.callback.instrPerCall ?? Number.NaN;
	const speedup = (results.audit.nsPerCall ?? Number.NaN) / (results.callback.nsPerCall ?? Number.NaN);
	const goals: Goal[] = [
		{what: `callback <= ${goalInstrPerCall} instructions per call`, value: callbackInstr, limit: goalInstrPerCall, met: callbackInstr <= goalInstrPerCall, missedBy: Math.max(0, callbackInstr - goalInstrPerCall)},
		{what: `callback >= ${goalSpeedupOverAudit}x faster than LD_AUDIT`, value: speedup, limit: goalSpeedupOverAudit, met: speedup >= goalSpeedupOverAudit, missedBy: speedup >= goalSpeedupOverAudit ? 0 : goalSpeedupOverAudit / speedup},
		{what: `callback install on ${sites} imports <= ${goalInstallMs} ms`, value: install.installMs, limit: goalInstallMs, met: install.installMs <= goalInstallMs, missedBy: Math.max(0, install.installMs - goalInstallMs)},
	];

	return {
		arch: machine(),
		rounds: timedRounds,
		callgrind: {n1: callgrindN1, n2: callgrindN2},
		modes: results,
		install,
		goals,
	};
}

function formatNs(value: number): string {
	return value >= 1000 ? value.toFixed(0) : value.toFixed(2);
}

function formatTable(report: Report): string {
	const {direct, callback} = report.modes;
	const ratio = (value: number, base: number | null) => (base === null ? '-' : `${(value / base).toFixed(2)}x`);
	const header = ['mode', 'N', 'ns/call', 'instr/call', 'vs direct', 'vs callback'];
	const rows: string[][] = [];
	const notes: string[] = [];
	for (const mode of modes) {
		const result = report.modes[mode];
		if (result.nsPerCall === null) {
			notes.push(`${result.label.padEnd(8)}   n/a (not installed)`);
			continue;
		}

		rows.push([
			result.label,
			String(result.calls),
			formatNs(result.nsPerCall),
			result.instrPerCall === null ? '-' : result.instrPerCall.toFixed(1),
			ratio(result.nsPerCall, direct.nsPerCall),
			ratio(result.nsPerCall, callback.nsPerCall),
		]);
	}

	const widths = header.map((title, column) => Math.max(title.length, ...rows.map(row => (row[column] ?? '').length)));
	const line = (cells: readonly string[]) =>
		cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0))).join('   ');
	const {install} = report;
	const ms = (value: number) => `${value.toFixed(2)} ms`;
	const signed = (value: number) => `${value >= 0 ? '+' : '-'}${ms(Math.abs(value))}`;
	const kilo = (value: number) => `${(value / 1000).toFixed(0)}k`;
	const goalLine = (goal: Goal, unit: (value: number) => string, missed: (value: number) => string) =>
		`goal: ${goal.what}: ${goal.met ? 'goal met' : `goal missed by ${missed(goal.missedBy)}`} (${unit(goal.value)})`;
	const [instrGoal, speedGoal, installGoal] = report.goals;
	return [
		`callback benchmark (${report.arch}; ns/call: best of ${report.rounds} runs of N calls; instr/call from callgrind, N=${report.callgrind.n2} minus N=${report.callgrind.n1})`,
		line(header),
		...rows.map(row => line(row)),
		...notes,
		`install (manyprog: ${install.functions} imported functions, ${install.sites} callback sites; median of ${install.runs}): bare ${ms(install.medianMs.bare)}, pdi without rules ${ms(install.medianMs.norule)}, pdi with the callback ${ms(install.medianMs.callback)}: install ${signed(install.installMs)} (${signed(install.callbackOverBareMs)} over bare)`,
		`install instructions (callgrind, whole process): bare ${kilo(install.instructions.bare)}, pdi without rules ${kilo(install.instructions.norule)}, pdi with the callback ${kilo(install.instructions.callback)} (+${kilo(install.instructions.callback - install.instructions.norule)} over without rules)`,
		...(instrGoal ? [goalLine(instrGoal, value => `${value.toFixed(1)} instructions per call`, value => `${value.toFixed(1)} instructions`)] : []),
		...(speedGoal ? [goalLine(speedGoal, value => `LD_AUDIT/callback = ${value.toFixed(2)}x`, value => `a factor of ${value.toFixed(2)}`)] : []),
		...(installGoal ? [goalLine(installGoal, value => ms(value), value => ms(value))] : []),
	].join('\n');
}

function main(): void {
	const json = process.argv.slice(2).includes('--json');
	const work = mkdtempSync(path.join(tmpdir(), 'pdi-bench-callback-'));
	try {
		const available = modes.filter(mode => {
			const {tool} = modeInfo[mode];
			const ok = tool === undefined || installed(tool);
			if (!ok) {
				progress(`${tool} is not installed: the ${modeInfo[mode].label} row is n/a`);
			}

			return ok;
		});
		progress('building into bench/callback/out/');
		const files = build();
		checkImports(files);
		progress('checking that each mode intercepts bench_target');
		checkModes(files, available, work);
		const sites = checkInstall(files, work);
		const report = measure(files, available, sites, work);
		process.stdout.write(json ? `${JSON.stringify(report, null, '\t')}\n` : `${formatTable(report)}\n`);
	} finally {
		rmSync(work, {recursive: true, force: true});
	}
}

try {
	main();
} catch (error) {
	if (error instanceof BenchError) {
		process.stderr.write(`bench:callback: FAILED: ${error.message}\n`);
		process.exitCode = 1;
	} else {
		throw error;
	}
}
