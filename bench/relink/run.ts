/**
 * Relink benchmark: the cost of one call through a pdi relink wrapper, compared with a bare call and with the
 * classic LD_PRELOAD + dlsym(RTLD_NEXT) wrapper, plus the start-up cost of the preload core with 10 relink rules.
 *
 *     npm run bench:relink            # table on stdout (progress on stderr)
 *     npm run bench:relink -- --json  # the same numbers as JSON
 *
 * See README.md in this directory for what is measured and how to read it.
 */
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {machine, tmpdir} from 'node:os';
import path from 'node:path';
import process from 'node:process';
import {fileURLToPath} from 'node:url';
import {pdiPaths} from '../../src/ts/index.js';
import {BenchError, fail, interleave, median, parseField, progress, runChecked, type Result} from '../lib/harness.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.join(here, 'out');

/** Calls per timed run, timed runs per mode (the best is kept). */
const callsPerRun = 20_000_000;
const timedRounds = 5;
/** The two loop lengths whose instruction counts are subtracted. */
const callgrindN1 = 100_000;
const callgrindN2 = 200_000;
/** Start-up: unmeasured warm-up runs, then measured runs per variant (the median is kept). */
const startupWarmups = 3;
const startupRuns = 30;
/** Calls of the correctness checks. */
const checkN = 1000;
/** What every wrapper adds to bench_target's result. */
const wrapperDelta = 1000n;

/** The libc functions benchprog imports that the start-up config relinks (wrap_<name> in startup-backend.so). */
const startupFunctions = ['strtol', 'strcmp', 'getenv', 'strlen', 'clock_gettime', 'malloc', 'fwrite', 'fputs', 'fflush', 'free'] as const;

type Mode = 'bare' | 'classic' | 'pdi';
const modes: readonly Mode[] = ['bare', 'classic', 'pdi'];

/** The environment of this process without anything that would change how benchprog is loaded. */
function cleanEnv(): NodeJS.ProcessEnv {
	const env = {...process.env};
	for (const key of Object.keys(env)) {
		if (key === 'LD_PRELOAD' || key === 'LD_LIBRARY_PATH' || key.startsWith('PDI_') || key === 'BENCHPROG_TAG') {
			delete env[key];
		}
	}

	return env;
}

function run(file: string, args: readonly string[], env: NodeJS.ProcessEnv = cleanEnv()): Result {
	return runChecked(file, args, env);
}

type Files = {
	benchprog: string;
	classic: string;
	backend: string;
	startupBackend: string;
	preload: string;
	/** Relinks bench_target in $main to bench_wrapper. */
	config: string;
	/** Relinks the 10 libc functions of startupFunctions in $main. */
	config10: string;
};

function build(): Files {
	const {preload, include} = pdiPaths();
	mkdirSync(out, {recursive: true});
	const source = (name: string) => path.join(here, name);
	const shared = (name: string) => path.join(here, '../lib', name);
	const target = (name: string) => path.join(out, name);
	const gcc = (...args: string[]) => run('gcc', ['-O2', '-Wall', '-Wextra', '-Werror', ...args]);

	gcc('-fPIC', '-shared', '-Wl,-soname,libtarget.so', '-o', target('libtarget.so'), shared('target.c'));
	gcc('-o', target('benchprog'), shared('benchprog.c'), `-L${out}`, '-ltarget', '-Wl,-rpath,$ORIGIN');
	gcc('-fPIC', '-shared', '-o', target('classic.so'), source('classic.c'));
	for (const [backend, file] of [['bench-backend', shared('wrapper-backend.c')], ['startup-backend', source('startup-backend.c')]] as const) {
		gcc('-fPIC', '-shared', '-fvisibility=hidden', `-I${include}`, '-o', target(`${backend}.so`), file);
	}

	const files: Files = {
		benchprog: target('benchprog'),
		classic: target('classic.so'),
		backend: target('bench-backend.so'),
		startupBackend: target('startup-backend.so'),
		preload,
		config: target('pdi.cfg'),
		config10: target('pdi10.cfg'),
	};

	// The config text dialect: the config file names a command file, which declares the backend and the rules.
	writeFileSync(target('rules.cmd'), `backend bench = ${files.backend}\nrelink $main bench_target bench bench_wrapper\n`);
	writeFileSync(files.config, 'config = rules.cmd\n');
	const rules10 = startupFunctions.map(name => `relink $main ${name} startup wrap_${name}\n`).join('');
	writeFileSync(target('rules10.cmd'), `backend startup = ${files.startupBackend}\n${rules10}`);
	writeFileSync(files.config10, 'config = rules10.cmd\n');
	return files;
}

/** benchprog must really import (through its PLT/GOT) every function the configs relink, or a rule would be void. */
function checkImports(files: Files): void {
	const {stdout} = run('nm', ['-D', '--undefined-only', files.benchprog]);
	const imported = new Set(stdout.split('\n').map(line => line.trim().split(/\s+/).at(-1)?.replace(/@.*/, '')));
	for (const name of ['bench_target', ...startupFunctions]) {
		if (!imported.has(name)) {
			fail(`benchprog does not import ${name} (the compiler turned the call into something else); imports:\n${stdout}`);
		}
	}
}

function modeEnv(files: Files, mode: Mode): NodeJS.ProcessEnv {
	const env = cleanEnv();
	if (mode === 'classic') {
		env.LD_PRELOAD = files.classic;
	} else if (mode === 'pdi') {
		env.LD_PRELOAD = files.preload;
		env.PDI_CONFIG = files.config;
	}

	return env;
}

function expectedSum(n: number, wrapped: boolean): bigint {
	const calls = BigInt(n);
	// bench_target(i) = i + 1 for i = 0 .. n-1; each wrapper adds wrapperDelta per call.
	return (calls * (calls + 1n)) / 2n + (wrapped ? wrapperDelta * calls : 0n);
}

function checkSum(stdout: string, mode: Mode, where: string): void {
	const sum = BigInt(parseField(stdout, 'sum', where));
	const expected = expectedSum(checkN, mode !== 'bare');
	if (sum !== expected) {
		const bare = expectedSum(checkN, false);
		const why = mode !== 'bare' && sum === bare ? ': the interposition did not happen' : '';
		fail(`${where}: sum=${sum}, expected ${expected}${why}`);
	}
}

/** Runs benchprog under callgrind; returns the instructions executed by the whole process (Ir) and its output. */
function callgrind(files: Files, label: string, env: NodeJS.ProcessEnv, args: readonly string[], work: string): {ir: bigint; stdout: string} {
	const outFile = path.join(work, `callgrind-${label}-${args.join('-')}.out`);
	const {stdout} = run('valgrind', ['-q', '--tool=callgrind', `--callgrind-out-file=${outFile}`, files.benchprog, ...args], env);
	const text = readFileSync(outFile, 'utf8');
	const match = /^(?:summary|totals):\s+(\d+)/m.exec(text);
	const ir = match?.[1];
	if (ir === undefined) {
		fail(`no summary:/totals: line in ${outFile}`);
	}

	return {ir: BigInt(ir), stdout};
}

/** Correctness before any measurement: each mode computes what it should, also under valgrind. */
function checkModes(files: Files, work: string): void {
	for (const mode of modes) {
		const where = `benchprog ${checkN} check (${mode})`;
		const {stdout, stderr} = run(files.benchprog, [String(checkN), 'check'], modeEnv(files, mode));
		checkSum(stdout, mode, where);
		if (stderr !== '') {
			progress(`note: ${where} wrote to stderr:\n${stderr}`);
		}

		checkSum(callgrind(files, mode, modeEnv(files, mode), [String(checkN), 'check'], work).stdout, mode, `${where} under callgrind`);
	}

	// The 10-rule config: every wrapper must have been called (the backend reports a bit mask at exit).
	const env = {...modeEnv(files, 'bare'), LD_PRELOAD: files.preload, PDI_CONFIG: files.config10, PDI_BENCH_REPORT: '1', BENCHPROG_TAG: ''};
	const {stderr} = run(files.benchprog, ['0'], env);
	const mask = /startup-backend: called=(0x[0-9a-f]+|0)/.exec(stderr)?.[1];
	const all = (1 << startupFunctions.length) - 1;
	if (mask === undefined || Number(mask) !== all) {
		const missing = startupFunctions.filter((_, bit) => mask === undefined || (Number(mask) & (1 << bit)) === 0);
		fail(`benchprog 0 with the 10-rule config: wrappers not called: ${missing.join(', ')}\n--- stderr\n${stderr}`);
	}
}

type ModeResult = {
	nsPerCall: number;
	nsPerCallRuns: number[];
	instrPerCall: number;
	ir: {n1: string; n2: string};
};

type StartupVariant = 'bare' | 'pdi1' | 'pdi10';

type Report = {
	arch: string;
	calls: number;
	rounds: number;
	callgrind: {n1: number; n2: number};
	modes: Record<Mode, ModeResult>;
	startup: {
		runs: number;
		medianMs: Record<StartupVariant, number>;
		pdi1OverBareMs: number;
		pdi10OverBareMs: number;
		/** Instructions of the whole `benchprog 0` process (loader, preload core, backend, rules, exit), from callgrind. */
		instructions: Record<StartupVariant, number>;
	};
};

function measure(files: Files, work: string): Report {
	progress(`timing: ${timedRounds} rounds x ${modes.length} modes, N=${callsPerRun}`);
	const nsRuns: Record<Mode, number[]> = {bare: [], classic: [], pdi: []};
	interleave(timedRounds, modes.length, index => {
		const mode = modes[index] ?? fail('mode index');
		const {stdout} = run(files.benchprog, [String(callsPerRun)], modeEnv(files, mode));
		nsRuns[mode].push(Number(parseField(stdout, 'ns_per_call', `benchprog ${callsPerRun} (${mode})`)));
	});

	progress(`callgrind: N=${callgrindN1} and N=${callgrindN2} per mode`);
	const results = {} as Record<Mode, ModeResult>;
	for (const mode of modes) {
		const ir1 = callgrind(files, mode, modeEnv(files, mode), [String(callgrindN1), 'quiet'], work).ir;
		const ir2 = callgrind(files, mode, modeEnv(files, mode), [String(callgrindN2), 'quiet'], work).ir;
		results[mode] = {
			nsPerCall: Math.min(...nsRuns[mode]),
			nsPerCallRuns: nsRuns[mode],
			instrPerCall: Number(ir2 - ir1) / (callgrindN2 - callgrindN1),
			ir: {n1: String(ir1), n2: String(ir2)},
		};
	}

	progress(`start-up: ${startupRuns} runs of benchprog 0 per variant`);
	const variants: readonly StartupVariant[] = ['bare', 'pdi1', 'pdi10'];
	const startupEnv: Record<StartupVariant, NodeJS.ProcessEnv> = {
		bare: {...modeEnv(files, 'bare'), BENCHPROG_TAG: ''},
		pdi1: {...modeEnv(files, 'pdi'), BENCHPROG_TAG: ''},
		pdi10: {...modeEnv(files, 'pdi'), PDI_CONFIG: files.config10, BENCHPROG_TAG: ''},
	};
	const startupMs: Record<StartupVariant, number[]> = {bare: [], pdi1: [], pdi10: []};
	const spawnOnce = (variant: StartupVariant): number => {
		const start = process.hrtime.bigint();
		run(files.benchprog, ['0'], startupEnv[variant]);
		return Number(process.hrtime.bigint() - start) / 1e6;
	};

	interleave(startupWarmups, variants.length, index => spawnOnce(variants[index] ?? fail('variant index')));
	interleave(startupRuns, variants.length, index => {
		const variant = variants[index] ?? fail('variant index');
		startupMs[variant].push(spawnOnce(variant));
	});
	const medianMs = {bare: median(startupMs.bare), pdi1: median(startupMs.pdi1), pdi10: median(startupMs.pdi10)};

	progress('start-up: callgrind of benchprog 0 per variant');
	const instructions = {} as Record<StartupVariant, number>;
	for (const variant of variants) {
		instructions[variant] = Number(callgrind(files, `startup-${variant}`, startupEnv[variant], ['0'], work).ir);
	}

	return {
		arch: machine(),
		calls: callsPerRun,
		rounds: timedRounds,
		callgrind: {n1: callgrindN1, n2: callgrindN2},
		modes: results,
		startup: {
			runs: startupRuns,
			medianMs,
			pdi1OverBareMs: medianMs.pdi1 - medianMs.bare,
			pdi10OverBareMs: medianMs.pdi10 - medianMs.bare,
			instructions,
		},
	};
}

function formatTable(report: Report): string {
	const {bare, classic} = report.modes;
	const header = ['mode', 'ns/call', 'instr/call', 'vs bare', 'vs classic'];
	const rows = modes.map(mode => {
		const result = report.modes[mode];
		return [
			mode,
			result.nsPerCall.toFixed(2),
			result.instrPerCall.toFixed(1),
			`${(result.nsPerCall / bare.nsPerCall).toFixed(2)}x`,
			mode === 'bare' ? '-' : `${(result.nsPerCall / classic.nsPerCall).toFixed(2)}x`,
		];
	});
	const widths = header.map((title, column) => Math.max(title.length, ...rows.map(row => (row[column] ?? '').length)));
	const line = (cells: readonly string[]) =>
		cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0))).join('   ');
	const {medianMs, pdi1OverBareMs, pdi10OverBareMs, instructions} = report.startup;
	const kilo = (value: number) => `${(value / 1000).toFixed(0)}k`;
	const ms = (value: number) => `${value.toFixed(2)} ms`;
	const signed = (value: number) => `${value >= 0 ? '+' : '-'}${ms(Math.abs(value))}`;
	return [
		`relink benchmark (${report.arch}, N=${report.calls}, best of ${report.rounds}; instr/call from callgrind, N=${report.callgrind.n2} minus N=${report.callgrind.n1})`,
		line(header),
		...rows.map(row => line(row)),
		`start-up (benchprog 0, median of ${report.startup.runs}): bare ${ms(medianMs.bare)}, pdi with 1 rule ${ms(medianMs.pdi1)} (${signed(pdi1OverBareMs)}), pdi with 10 rules ${ms(medianMs.pdi10)} (${signed(pdi10OverBareMs)})`,
		`start-up instructions (callgrind, whole process): bare ${kilo(instructions.bare)}, pdi with 1 rule ${kilo(instructions.pdi1)} (+${kilo(instructions.pdi1 - instructions.bare)}), pdi with 10 rules ${kilo(instructions.pdi10)} (+${kilo(instructions.pdi10 - instructions.bare)})`,
	].join('\n');
}

function main(): void {
	const json = process.argv.slice(2).includes('--json');
	const work = mkdtempSync(path.join(tmpdir(), 'pdi-bench-relink-'));
	try {
		progress('building into bench/relink/out/');
		const files = build();
		checkImports(files);
		progress('checking that each mode computes what it should');
		checkModes(files, work);
		const report = measure(files, work);
		process.stdout.write(json ? `${JSON.stringify(report, null, '\t')}\n` : `${formatTable(report)}\n`);
	} finally {
		rmSync(work, {recursive: true, force: true});
	}
}

try {
	main();
} catch (error) {
	if (error instanceof BenchError) {
		process.stderr.write(`bench:relink: FAILED: ${error.message}\n`);
		process.exitCode = 1;
	} else {
		throw error;
	}
}
