/**
 * Trace benchmark: `pdi trace` against uftrace and ltrace. Part 1: what recording and writing every call of a
 * call-heavy loop costs per call (benchprog's bench_target through the PLT), with a check that no event is lost, and
 * what `pdi trace -c` costs on the same loop.
 * Part 2: the wall time of a whole traced run of a python3 workload, with a summary at the end.
 *
 *     npm run bench:trace            # table on stdout (progress on stderr)
 *     npm run bench:trace -- --json  # the same numbers as JSON
 *     npm run bench:trace -- --quick # 1/100 of the calls, 1 run each: shows it works, measures nothing
 *
 * See README.md in this directory for what is measured and how to read it.
 */
import {spawnSync} from 'node:child_process';
import {closeSync, existsSync, openSync, readFileSync, readSync, rmSync} from 'node:fs';
import {machine} from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {builder, buildBenchprog, cleanEnv, fail, main, median, ms, parseField, progress, run, tableLines, triangular, notMeasured, quickNotJudged, type Options, type Result} from '../lib/harness.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const out = path.join(here, 'out');
/** The built CLI (`npm run build`), run with this Node. */
const cli = path.join(root, 'dist/cli/pdi.js');
/** Debian's interpreter, not a pyenv shim that PATH may put first. */
const python = '/usr/bin/python3';
/** About 0.3 s untraced here: the start-up and the json module make about 88,000 library calls, the loop almost none. */
const pythonScript = 'import json; sum(i * i for i in range(6_000_000)); json.dumps(list(range(1000)))';
/** Calls of the correctness checks. */
const checkN = 1000;
/** A traced python3 run must have seen at least this many calls, or the tool traced nothing useful. */
const minPythonCalls = 1000;
/** Goals printed at the end (a missed goal does not fail the run). */
const goalOverUftrace = 2;
const goalOverLtrace = 100;

type Tracer = 'pdi' | 'uftrace' | 'ltrace';
const tracers: readonly Tracer[] = ['pdi', 'uftrace', 'ltrace'];
/** Part 1 also runs `pdi trace -c` (what part 2 measures) on the loop: pdiSummary. */
type LoopTool = Tracer | 'pdiSummary';
const loopTools: readonly LoopTool[] = ['pdi', 'pdiSummary', 'uftrace', 'ltrace'];
const loopLabels: Record<LoopTool | 'bare', string> = {bare: 'bare', pdi: 'pdi --json', pdiSummary: 'pdi -c', uftrace: 'uftrace', ltrace: 'ltrace'};

/** How much is measured: the full run, or --quick. */
type Size = {
	/** Calls of benchprog's loop for bare, pdi and uftrace; ltrace (about 180 µs per call here) gets fewer. */
	calls: number;
	ltraceCalls: number;
	loopRounds: number;
	pythonRounds: number;
	/** ltrace takes about 14 s per python3 run here: fewer runs. */
	pythonLtraceRounds: number;
};

function size(options: Options): Size {
	return options.quick
		? {calls: 10_000, ltraceCalls: 100, loopRounds: 1, pythonRounds: 1, pythonLtraceRounds: 1}
		: {calls: 1_000_000, ltraceCalls: 10_000, loopRounds: 3, pythonRounds: 5, pythonLtraceRounds: 3};
}

/** Whether `tool` can be started at all (installed and on PATH). */
function installed(tool: string): boolean {
	return spawnSync(tool, ['--version'], {encoding: 'utf8'}).error === undefined;
}

/** Runs `jobs[i]` `rounds[i]` times, interleaved: each round starts one job further, and a job stops when its rounds are done. */
function interleaveRounds(rounds: readonly number[], job: (index: number) => void): void {
	const count = rounds.length;
	for (let round = 0; round < Math.max(...rounds); round++) {
		for (let step = 0; step < count; step++) {
			const index = (round + step) % count;
			if (round < (rounds[index] ?? 0)) {
				job(index);
			}
		}
	}
}

/** Runs a command to its end (status 0) and measures its wall time around the spawn. */
function timed(file: string, args: readonly string[]): Result & {ms: number} {
	const start = process.hrtime.bigint();
	const result = run(file, args, cleanEnv());
	return {...result, ms: Number(process.hrtime.bigint() - start) / 1e6};
}

/** The `pdi: trace: N event(s) of process P were lost` lines pdi prints on its stderr: any fails the benchmark. */
function checkNothingLost(stderr: string, where: string): void {
	const lost = stderr.split('\n').filter(line => /^pdi: trace: \d+ event\(s\) .* were lost/.test(line));
	if (lost.length > 0) {
		fail(`${where}: pdi lost events:\n${lost.join('\n')}`);
	}
}

/** Occurrences of `needle` in a file, read in chunks (pdi's JSON of a million calls is hundreds of MB). */
function countInFile(file: string, needle: string): number {
	const pattern = Buffer.from(needle);
	const chunk = Buffer.alloc(16 * 1024 * 1024);
	const fd = openSync(file, 'r');
	let count = 0;
	// The last bytes of a chunk are kept before the next one, so a match across the boundary is seen once.
	let carry = Buffer.alloc(0);
	try {
		for (let read = readSync(fd, chunk); read > 0; read = readSync(fd, chunk)) {
			const text = Buffer.concat([carry, chunk.subarray(0, read)]);
			let at = 0;
			for (let found = text.indexOf(pattern, at); found !== -1; found = text.indexOf(pattern, at)) {
				count++;
				at = found + pattern.length;
			}

			carry = Buffer.from(text.subarray(Math.max(at, text.length - pattern.length + 1)));
		}
	} finally {
		closeSync(fd);
	}

	return count;
}

type Files = {benchprog: string; work: string};

const pdiJson = (work: string) => path.join(work, 'pdi.json');
const pdiSummary = (work: string) => path.join(work, 'pdi-summary.txt');
const uftraceData = (work: string) => path.join(work, 'uftrace.data');
const ltraceOutput = (work: string) => path.join(work, 'ltrace.out');

/** The command that runs `program args` under `tracer` recording every call, or bare. */
function loopCommand(files: Files, tracer: LoopTool | 'bare', args: readonly string[]): {file: string; args: string[]} {
	const {benchprog, work} = files;
	switch (tracer) {
		case 'bare': {
			return {file: benchprog, args: [...args]};
		}

		case 'pdi': {
			return {file: process.execPath, args: [cli, 'trace', '--json', '-o', pdiJson(work), '--', benchprog, ...args]};
		}

		case 'pdiSummary': {
			return {file: process.execPath, args: [cli, 'trace', '-c', '-o', pdiSummary(work), '--', benchprog, ...args]};
		}

		case 'uftrace': {
			return {file: 'uftrace', args: ['record', '--force', '-d', uftraceData(work), benchprog, ...args]};
		}

		case 'ltrace': {
			return {file: 'ltrace', args: ['-o', ltraceOutput(work), '-e', 'bench_target', benchprog, ...args]};
		}
	}
}

/** Calls of bench_target in uftrace's recorded data, from `uftrace report` (one line per function). */
function uftraceCalls(data: string, function_: string): {calls: number; report: string} {
	const report = run('uftrace', ['report', '-d', data]).stdout;
	const calls = new RegExp(`(\\d+)\\s+${function_}\\s*$`, 'm').exec(report)?.[1];
	return {calls: calls === undefined ? 0 : Number(calls), report};
}

/** Events of bench_target the tracer wrote in the last run (each tool's own output), then its output removed. */
function loopEvents(files: Files, tracer: LoopTool, stderr: string, where: string): number {
	const {work} = files;
	switch (tracer) {
		case 'pdi': {
			checkNothingLost(stderr, where);
			const events = countInFile(pdiJson(work), '"function":"bench_target"');
			rmSync(pdiJson(work), {force: true});
			return events;
		}

		case 'pdiSummary': {
			// The calls column of bench_target's line in the table.
			checkNothingLost(stderr, where);
			const events = Number(/^bench_target\s+(\d+)\s/m.exec(readFileSync(pdiSummary(work), 'utf8'))?.[1] ?? 0);
			rmSync(pdiSummary(work), {force: true});
			return events;
		}

		case 'uftrace': {
			const {calls} = uftraceCalls(uftraceData(work), 'bench_target');
			rmSync(uftraceData(work), {recursive: true, force: true});
			return calls;
		}

		case 'ltrace': {
			const events = countInFile(ltraceOutput(work), 'bench_target(');
			rmSync(ltraceOutput(work), {force: true});
			return events;
		}
	}
}

/** Each tracer sees every call of bench_target with its argument and result, before anything is timed. */
function checkLoop(files: Files, available: readonly LoopTool[]): void {
	const args = [String(checkN), 'check'];
	const sum = triangular(checkN);
	for (const tracer of available) {
		const where = `benchprog ${checkN} check under ${loopLabels[tracer]}`;
		const command = loopCommand(files, tracer, args);
		const result = run(command.file, command.args, cleanEnv());
		if (BigInt(parseField(result.stdout, 'sum', where)) !== sum) {
			fail(`${where}: benchprog's sum is not ${sum}: the traced call changed its result`);
		}

		if (tracer === 'pdi') {
			// The decoded events themselves: bench_target(i) = i + 1 for i = 0 .. N-1.
			const events = readFileSync(pdiJson(files.work), 'utf8').trim().split('\n').map(line => JSON.parse(line) as {function: string; args: unknown[]; ret: unknown});
			const calls = events.filter(event => event.function === 'bench_target');
			const rets = calls.reduce((total, event) => total + BigInt(Number(event.ret)), 0n);
			const argSum = calls.reduce((total, event) => total + BigInt(Number.parseInt(String(event.args[0]), 16)), 0n);
			if (calls.length !== checkN || rets !== sum || argSum !== triangular(checkN - 1)) {
				fail(`${where}: ${calls.length} bench_target events (expected ${checkN}), results adding up to ${rets} (expected ${sum}), arguments to ${argSum} (expected ${triangular(checkN - 1)})`);
			}
		}

		const events = loopEvents(files, tracer, result.stderr, where);
		if (events !== checkN) {
			fail(`${where}: ${events} calls of bench_target recorded, expected ${checkN}`);
		}
	}
}

type LoopRow = 'bare' | 'bareLtrace' | LoopTool;

type LoopResult = {
	label: string;
	calls: number;
	/** false: the tool is not installed, and nothing was measured. */
	available: boolean;
	/** benchprog's own time around its loop, per call: median of the runs, and each run's. */
	inLoopNs: number | null;
	inLoopRuns: number[];
	/** In-loop ns per call minus the bare run's (null for the bare rows). */
	overheadNs: number | null;
	/** Whole run (the tool's start and finish included), around the spawn: median, and each run's. */
	wallMs: number | null;
	wallRuns: number[];
	/** (wall of the traced run − wall of a bare run with the same N) / N. */
	wallNsPerCall: number | null;
	/** bench_target events each traced run recorded (each is checked equal to `calls`). */
	events: number[];
};

/** Part 1: benchprog's loop bare and under each tracer, interleaved; every traced run is checked for lost events. */
function measureLoop(files: Files, available: readonly LoopTool[], sz: Size): Record<LoopRow, LoopResult> {
	const rows: Array<{row: LoopRow; tracer: LoopTool | 'bare'; calls: number}> = [
		{row: 'bare', tracer: 'bare', calls: sz.calls},
		{row: 'bareLtrace', tracer: 'bare', calls: sz.ltraceCalls},
		...available.map(tracer => ({row: tracer, tracer, calls: tracer === 'ltrace' ? sz.ltraceCalls : sz.calls})),
	];
	const label = (row: LoopRow) => loopLabels[row === 'bareLtrace' ? 'bare' : row];
	const runs = new Map<LoopRow, {inLoop: number[]; wall: number[]; events: number[]}>(rows.map(({row}) => [row, {inLoop: [], wall: [], events: []}]));
	progress(`part 1: ${sz.loopRounds} rounds of benchprog (${rows.map(({row, calls}) => `${label(row)} N=${calls}`).join(', ')})`);
	interleaveRounds(rows.map(() => sz.loopRounds), index => {
		const {row, tracer, calls} = rows[index] ?? fail('row index');
		const where = `benchprog ${calls} under ${label(row)}`;
		const command = loopCommand(files, tracer, [String(calls)]);
		const result = timed(command.file, command.args);
		const record = runs.get(row) ?? fail('row');
		record.inLoop.push(Number(parseField(result.stdout, 'ns_per_call', where)));
		record.wall.push(result.ms);
		if (tracer !== 'bare') {
			const events = loopEvents(files, tracer, result.stderr, where);
			if (events !== calls) {
				fail(`${where}: ${events} calls of bench_target recorded, expected ${calls}: events were lost`);
			}

			record.events.push(events);
		}
	});

	const results = {} as Record<LoopRow, LoopResult>;
	const all: readonly LoopRow[] = ['bare', 'bareLtrace', ...loopTools];
	for (const row of all) {
		const record = runs.get(row);
		const calls = row === 'ltrace' || row === 'bareLtrace' ? sz.ltraceCalls : sz.calls;
		results[row] = {
			label: label(row), calls, available: record !== undefined, inLoopNs: record ? median(record.inLoop) : null, inLoopRuns: record?.inLoop ?? [],
			overheadNs: null, wallMs: record ? median(record.wall) : null, wallRuns: record?.wall ?? [], wallNsPerCall: null, events: record?.events ?? [],
		};
	}

	for (const tracer of available) {
		const result = results[tracer];
		const bare = tracer === 'ltrace' ? results.bareLtrace : results.bare;
		result.overheadNs = (result.inLoopNs ?? Number.NaN) - (bare.inLoopNs ?? Number.NaN);
		result.wallNsPerCall = (((result.wallMs ?? Number.NaN) - (bare.wallMs ?? Number.NaN)) * 1e6) / result.calls;
	}

	return results;
}

type PythonRow = 'bare' | Tracer;

type PythonResult = {
	label: string;
	/** What runs (uftrace: two commands, their times added). */
	command: string;
	available: boolean;
	runs: number;
	/** Median wall time of the whole traced run and summary, and each run's. */
	wallMs: number | null;
	wallRuns: number[];
	/** uftrace only: the medians of its record and of its report. */
	recordMs?: number;
	reportMs?: number;
	/** Library calls the tool counted (median of the runs; python3's own count varies a little between runs). */
	calls: number | null;
};

const pythonSummary = (work: string) => path.join(work, 'summary.txt');

/** One traced python3 run: its wall time (uftrace: record + report) and the calls its summary counted. */
function pythonRun(tracer: PythonRow, work: string): {ms: number; recordMs?: number; reportMs?: number; calls: number | null} {
	const program = [python, '-c', pythonScript];
	const summary = pythonSummary(work);
	const where = `${python} under ${tracer}`;
	const enough = (calls: number) => (calls >= minPythonCalls ? calls : fail(`${where}: ${calls} calls counted, expected at least ${minPythonCalls}`));
	const total = (text: string, pattern: RegExp) => enough(Number(pattern.exec(text)?.[1] ?? fail(`${where}: no total line in its summary:\n${text}`)));
	switch (tracer) {
		case 'bare': {
			return {ms: timed(python, program.slice(1)).ms, calls: null};
		}

		case 'pdi': {
			const result = timed(process.execPath, [cli, 'trace', '-c', '-o', summary, '--', ...program]);
			checkNothingLost(result.stderr, where);
			return {ms: result.ms, calls: total(readFileSync(summary, 'utf8'), /^total\s+(\d+)\s/m)};
		}

		case 'ltrace': {
			const result = timed('ltrace', ['-c', '-o', summary, ...program]);
			return {ms: result.ms, calls: total(readFileSync(summary, 'utf8'), /^100\.00\s+\S+\s+(\d+)\s+total$/m)};
		}

		case 'uftrace': {
			rmSync(uftraceData(work), {recursive: true, force: true});
			const record = timed('uftrace', ['record', '--force', '-d', uftraceData(work), ...program]);
			const report = timed('uftrace', ['report', '-d', uftraceData(work)]);
			// Calls column of every function line; linux:schedule lines are pre-emptions, not calls.
			const lines = [...report.stdout.matchAll(/^\s*\S+ \S+\s+\S+ \S+\s+(\d+)\s+(\S+)\s*$/gm)].filter(match => !match[2]?.startsWith('linux:'));
			return {ms: record.ms + report.ms, recordMs: record.ms, reportMs: report.ms, calls: enough(lines.reduce((sum, match) => sum + Number(match[1]), 0))};
		}
	}
}

const pythonCommands: Record<PythonRow, string> = {
	bare: 'python3',
	pdi: 'pdi trace -c',
	ltrace: 'ltrace -c',
	uftrace: 'uftrace record --force + uftrace report',
};

/** Part 2: whole runs of the python3 workload, bare and under each tool, interleaved (one unmeasured run each first). */
function measurePython(work: string, available: readonly Tracer[], sz: Size): Record<PythonRow, PythonResult> {
	const rows: readonly PythonRow[] = ['bare', ...available];
	const rounds = rows.map(row => (row === 'ltrace' ? sz.pythonLtraceRounds : sz.pythonRounds));
	progress(`part 2: python3 (${rows.map((row, i) => `${row} x${rounds[i]}`).join(', ')}), after one unmeasured run of each but ltrace`);
	for (const row of rows.filter(row => row !== 'ltrace')) {
		pythonRun(row, work);
	}

	const runs = new Map(rows.map(row => [row, [] as Array<ReturnType<typeof pythonRun>>]));
	interleaveRounds(rounds, index => {
		const row = rows[index] ?? fail('row index');
		runs.get(row)?.push(pythonRun(row, work));
	});

	const results = {} as Record<PythonRow, PythonResult>;
	for (const row of ['bare', ...tracers] as const) {
		const list = runs.get(row) ?? [];
		const available = runs.has(row);
		const calls = list.map(one => one.calls).filter(value => value !== null);
		results[row] = {
			label: row, command: pythonCommands[row], available, runs: list.length,
			wallMs: available ? median(list.map(one => one.ms)) : null, wallRuns: list.map(one => one.ms), calls: calls.length > 0 ? median(calls) : null,
		};
		if (row === 'uftrace' && available) {
			results[row].recordMs = median(list.map(one => one.recordMs ?? Number.NaN));
			results[row].reportMs = median(list.map(one => one.reportMs ?? Number.NaN));
		}
	}

	return results;
}

/** `met` null: not judged, for the reason in `notJudged` (the table's words). */
type Goal = {what: string; met: boolean | null; notJudged?: string; value: number; limit: number; tool?: Tracer};

type Report = {
	arch: string;
	date: string;
	loop: {rounds: number; modes: Record<LoopRow, LoopResult>};
	python: {script: string; modes: Record<PythonRow, PythonResult>};
	goals: Goal[];
};

function goals(loop: Record<LoopRow, LoopResult>, pdiRuns: number, quick: boolean): Goal[] {
	const pdi = loop.pdi.overheadNs ?? Number.NaN;
	const speedup = (tracer: Tracer, limit: number): Goal => {
		const value = (loop[tracer].overheadNs ?? Number.NaN) / pdi;
		const goal = {what: `pdi per call >= ${limit}x faster than ${tracer}`, value, limit, met: value >= limit, tool: tracer};
		const notJudged = Number.isNaN(value) ? notMeasured(tracer) : quick ? quickNotJudged : undefined;
		return notJudged === undefined ? goal : {...goal, met: null, notJudged};
	};

	// A lost event fails the run before this point, so reaching it means none was lost (a check, judged in --quick too).
	return [speedup('uftrace', goalOverUftrace), speedup('ltrace', goalOverLtrace), {what: `no lost event (${pdiRuns} timed pdi runs of ${loop.pdi.calls} calls)`, value: 0, limit: 0, met: true}];
}

const formatNs = (value: number | null): string => (value === null ? '-' : value >= 1000 ? value.toFixed(0) : value.toFixed(1));
const ratio = (value: number | null, base: number | null): string => (value === null || base === null ? '-' : `${(value / base).toFixed(2)}x`);

function loopTable(report: Report): string[] {
	const {modes} = report.loop;
	const header = ['tool', 'N', 'in-loop ns/call', 'overhead ns/call', 'wall', 'wall ns/call', 'events/run', 'vs pdi'];
	const rows: string[][] = [];
	const notes: string[] = [];
	for (const row of ['bare', 'bareLtrace', ...loopTools] as const) {
		const result = modes[row];
		if (!result.available) {
			notes.push(`${result.label}   n/a (not installed)`);
			continue;
		}

		const events = result.events.length > 0 ? String(Math.min(...result.events)) : '-';
		rows.push([result.label, String(result.calls), formatNs(result.inLoopNs), formatNs(result.overheadNs), result.wallMs === null ? '-' : ms(result.wallMs), formatNs(result.wallNsPerCall), events, row.startsWith('bare') ? '-' : ratio(result.overheadNs, modes.pdi.overheadNs)]);
	}

	return [
		`part 1: every call of benchprog's loop recorded (${report.arch}, ${report.date}; median of ${report.loop.rounds} runs; overhead = in-loop ns/call minus bare's; wall ns/call = (wall - bare wall) / N)`,
		...tableLines(header, rows),
		...notes,
	];
}

function pythonTable(report: Report): string[] {
	const {modes, script} = report.python;
	const header = ['tool', 'runs', 'wall', 'vs bare', 'vs pdi', 'calls counted'];
	const rows: string[][] = [];
	const notes: string[] = [];
	for (const row of ['bare', ...tracers] as const) {
		const result = modes[row];
		if (!result.available) {
			notes.push(`${result.command}   n/a (not installed)`);
			continue;
		}

		rows.push([result.command, String(result.runs), result.wallMs === null ? '-' : ms(result.wallMs), ratio(result.wallMs, modes.bare.wallMs), row === 'bare' ? '-' : ratio(result.wallMs, modes.pdi.wallMs), result.calls === null ? '-' : String(result.calls)]);
	}

	const {recordMs, reportMs} = modes.uftrace;
	return [
		`part 2: whole run of ${python} -c '${script}' (median wall time)`,
		...tableLines(header, rows),
		...notes,
		...(recordMs !== undefined && reportMs !== undefined ? [`uftrace: record ${ms(recordMs)} + report ${ms(reportMs)}`] : []),
	];
}

function formatTable(report: Report): string {
	const goalLines = report.goals.map(goal => {
		if (goal.met === null) {
			return `goal: ${goal.what}: ${goal.notJudged}`;
		}

		const measured = goal.limit === 0 ? '0 events lost' : `${goal.value.toFixed(2)}x`;
		return `goal: ${goal.what}: ${goal.met ? 'goal met' : `goal missed by a factor of ${(goal.limit / goal.value).toFixed(2)}`} (${measured})`;
	});
	return ['trace benchmark', ...loopTable(report), '', ...pythonTable(report), '', ...goalLines].join('\n');
}

main({
	name: 'trace',
	measure(work, options): Report {
		if (!existsSync(cli)) {
			fail(`${cli} is missing: run npm run build first`);
		}

		const available = tracers.filter(tracer => {
			const ok = tracer === 'pdi' || installed(tracer);
			if (!ok) {
				progress(`${tracer} is not installed: its rows are n/a`);
			}

			return ok;
		});
		progress('building benchprog into bench/trace/out/');
		const files = {benchprog: buildBenchprog(builder(out), 'relink-backend.so'), work};
		progress('checking that each tracer records every call of bench_target');
		const availableLoop = loopTools.filter(tool => tool === 'pdiSummary' || available.includes(tool));
		checkLoop(files, availableLoop);
		const sz = size(options);
		const loop = measureLoop(files, availableLoop, sz);
		const pythonModes = measurePython(work, available, sz);
		return {
			arch: machine(),
			date: new Date().toISOString().slice(0, 10),
			loop: {rounds: sz.loopRounds, modes: loop},
			python: {script: pythonScript, modes: pythonModes},
			goals: goals(loop, loop.pdi.events.length, options.quick),
		};
	},
	table: formatTable,
});
