/**
 * Relink benchmark: the cost of one call through a pdi relink wrapper, compared with a bare call and with the
 * classic LD_PRELOAD + dlsym(RTLD_NEXT) wrapper, plus the start-up cost of the preload core with 10 relink rules.
 *
 *     npm run bench:relink            # table on stdout (progress on stderr)
 *     npm run bench:relink -- --json  # the same numbers as JSON
 *
 * See README.md in this directory for what is measured and how to read it.
 */
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {
	builder, buildBenchprog, reportHead, type ReportHead, callgrind, cleanEnv, fail, imports, interleave, kilo, main, medianRunMs, ms, parseField, progress, run,
	signedMs, sizes, tableLines, triangular, type Sizes,
} from '../lib/harness.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.join(here, 'out');

/** Calls per timed run (divided by 100 with --quick); runs of benchprog 0 per start-up variant. */
const callsPerRun = 20_000_000;
const startupRuns = 30;
/** Calls of the correctness checks. */
const checkN = 1000;
/** What every wrapper adds to bench_target's result. */
const wrapperDelta = 1000n;

/** The libc functions benchprog imports that the start-up config relinks (wrap_<name> in startup-backend.so). */
const startupFunctions = ['strtol', 'strcmp', 'getenv', 'strlen', 'clock_gettime', 'malloc', 'fwrite', 'fputs', 'fflush', 'free'] as const;

type Mode = 'bare' | 'classic' | 'pdi';
const modes: readonly Mode[] = ['bare', 'classic', 'pdi'];

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
	const b = builder(out);
	const benchprog = buildBenchprog(b, 'bench-backend.so');
	b.gcc('-fPIC', '-shared', '-o', b.target('classic.so'), path.join(here, 'classic.c'));
	b.backend('startup-backend.so', path.join(here, 'startup-backend.c'));
	const rules10 = startupFunctions.map(name => `relink $main ${name} startup wrap_${name}\n`).join('');
	return {
		benchprog,
		classic: b.target('classic.so'),
		backend: b.target('bench-backend.so'),
		startupBackend: b.target('startup-backend.so'),
		preload: b.preload,
		config: b.config('rules', `backend bench = ${b.target('bench-backend.so')}\nrelink $main bench_target bench bench_wrapper\n`),
		config10: b.config('rules10', `backend startup = ${b.target('startup-backend.so')}\n${rules10}`),
	};
}

/** benchprog must really import (through its PLT/GOT) every function the configs relink, or a rule would be void. */
function checkImports(files: Files): void {
	const imported = imports(files.benchprog);
	for (const name of ['bench_target', ...startupFunctions]) {
		if (!imported.has(name)) {
			fail(`benchprog does not import ${name} (the compiler turned the call into something else); imports: ${[...imported].join(' ')}`);
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
	// Each wrapper adds wrapperDelta per call.
	return triangular(n) + (wrapped ? wrapperDelta * BigInt(n) : 0n);
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

/** Correctness before any measurement: each mode computes what it should, also under valgrind. */
function checkModes(files: Files, work: string): void {
	for (const mode of modes) {
		const where = `benchprog ${checkN} check (${mode})`;
		const {stdout, stderr} = run(files.benchprog, [String(checkN), 'check'], modeEnv(files, mode));
		checkSum(stdout, mode, where);
		if (stderr !== '') {
			progress(`note: ${where} wrote to stderr:\n${stderr}`);
		}

		checkSum(callgrind(files.benchprog, mode, modeEnv(files, mode), [String(checkN), 'check'], work).stdout, mode, `${where} under callgrind`);
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

type Report = ReportHead<Mode, ModeResult> & {
	calls: number;
	startup: {
		runs: number;
		medianMs: Record<StartupVariant, number>;
		pdi1OverBareMs: number;
		pdi10OverBareMs: number;
		/** Instructions of the whole `benchprog 0` process (loader, preload core, backend, rules, exit), from callgrind. */
		instructions: Record<StartupVariant, number>;
	};
};

function measure(files: Files, work: string, size: Sizes): Report {
	const {timedRounds, callsDivisor, callgrindN1, callgrindN2, warmups, runs} = size;
	const calls = callsPerRun / callsDivisor;
	progress(`timing: ${timedRounds} rounds x ${modes.length} modes, N=${calls}`);
	const nsRuns: Record<Mode, number[]> = {bare: [], classic: [], pdi: []};
	interleave(timedRounds, modes.length, index => {
		const mode = modes[index] ?? fail('mode index');
		const {stdout} = run(files.benchprog, [String(calls)], modeEnv(files, mode));
		nsRuns[mode].push(Number(parseField(stdout, 'ns_per_call', `benchprog ${calls} (${mode})`)));
	});

	progress(`callgrind: N=${callgrindN1} and N=${callgrindN2} per mode`);
	const results = {} as Record<Mode, ModeResult>;
	for (const mode of modes) {
		const ir1 = callgrind(files.benchprog, mode, modeEnv(files, mode), [String(callgrindN1), 'quiet'], work).ir;
		const ir2 = callgrind(files.benchprog, mode, modeEnv(files, mode), [String(callgrindN2), 'quiet'], work).ir;
		results[mode] = {
			nsPerCall: Math.min(...nsRuns[mode]),
			nsPerCallRuns: nsRuns[mode],
			instrPerCall: Number(ir2 - ir1) / (callgrindN2 - callgrindN1),
			ir: {n1: String(ir1), n2: String(ir2)},
		};
	}

	progress(`start-up: ${runs} runs of benchprog 0 per variant`);
	const variants: readonly StartupVariant[] = ['bare', 'pdi1', 'pdi10'];
	const startupEnv: Record<StartupVariant, NodeJS.ProcessEnv> = {
		bare: {...modeEnv(files, 'bare'), BENCHPROG_TAG: ''},
		pdi1: {...modeEnv(files, 'pdi'), BENCHPROG_TAG: ''},
		pdi10: {...modeEnv(files, 'pdi'), PDI_CONFIG: files.config10, BENCHPROG_TAG: ''},
	};
	const medianMs = medianRunMs(variants, warmups, runs, variant => run(files.benchprog, ['0'], startupEnv[variant]));

	progress('start-up: callgrind of benchprog 0 per variant');
	const instructions = {} as Record<StartupVariant, number>;
	for (const variant of variants) {
		instructions[variant] = Number(callgrind(files.benchprog, `startup-${variant}`, startupEnv[variant], ['0'], work).ir);
	}

	return {
		...reportHead(size, results),
		calls,
		startup: {
			runs,
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
	const {medianMs, pdi1OverBareMs, pdi10OverBareMs, instructions} = report.startup;
	return [
		`relink benchmark (${report.arch}, N=${report.calls}, best of ${report.rounds}; instr/call from callgrind, N=${report.callgrind.n2} minus N=${report.callgrind.n1})`,
		...tableLines(header, rows),
		`start-up (benchprog 0, median of ${report.startup.runs}): bare ${ms(medianMs.bare)}, pdi with 1 rule ${ms(medianMs.pdi1)} (${signedMs(pdi1OverBareMs)}), pdi with 10 rules ${ms(medianMs.pdi10)} (${signedMs(pdi10OverBareMs)})`,
		`start-up instructions (callgrind, whole process): bare ${kilo(instructions.bare)}, pdi with 1 rule ${kilo(instructions.pdi1)} (+${kilo(instructions.pdi1 - instructions.bare)}), pdi with 10 rules ${kilo(instructions.pdi10)} (+${kilo(instructions.pdi10 - instructions.bare)})`,
	].join('\n');
}

main({
	name: 'relink',
	measure(work, options): Report {
		progress('building into bench/relink/out/');
		const files = build();
		checkImports(files);
		progress('checking that each mode computes what it should');
		checkModes(files, work);
		return measure(files, work, sizes(options, startupRuns));
	},
	table: formatTable,
});
