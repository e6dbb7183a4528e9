/**
 * bench/callback on the other architectures: instructions per call of the
 * same benchprog, direct, through a relink wrapper, through a callback with
 * empty hooks and through one whose hooks count (count-backend.so: both
 * hooks, reading the argument and the result), on aarch64 and i386 (and
 * x86-64 for reference).
 *
 * callgrind does not run foreign binaries, so instructions are counted by
 * qemu-user itself: with `-singlestep -d nochain,exec` it logs one "Trace"
 * line per guest instruction executed; the difference between N2 and N1
 * calls, divided by N2 - N1, is exact like callgrind's (and it agrees with
 * callgrind on x86-64, which this script also reports).
 *
 * Run with `npm run bench:callback:arch` after `npm run test:arch` has built
 * the cross cores (it builds them itself otherwise).
 */
import {createReadStream, rmSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {createInterface} from 'node:readline';
import {fileURLToPath} from 'node:url';
import {builder, buildBenchprog, cleanEnv, fail, loaderSafeFile, parseFlags, run, runBenchmark} from '../lib/harness.js';

const flags = parseFlags('callback:arch', {'--json': 'the rows as JSON on stdout'});
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const n1 = 2000;
const n2 = 4000;
const arches = {
	x86_64: {gcc: 'gcc', qemu: 'qemu-x86_64', sysroot: '/'},
	aarch64: {gcc: 'aarch64-linux-gnu-gcc', qemu: 'qemu-aarch64', sysroot: path.join(root, 'build/arch/aarch64/sysroot')},
	i386: {gcc: 'i686-linux-gnu-gcc', qemu: 'qemu-i386', sysroot: path.join(root, 'build/arch/i386/sysroot')},
} as const;
type Arch = keyof typeof arches;
type Mode = 'direct' | 'relink' | 'callback' | 'count';

function build(arch: Arch): string {
	const b = builder(path.join(here, 'out', `arch-${arch}`), arches[arch].gcc);
	buildBenchprog(b, 'relink-backend.so');
	b.backend('empty-backend.so', path.join(here, 'empty-backend.c'));
	b.backend('count-backend.so', path.join(here, 'empty-backend.c'), '-DBENCH_COUNT');
	if (arch !== 'x86_64') {
		run(process.execPath, [path.join(root, 'scripts/build-arch.mjs'), arch], process.env);
	}

	return b.out;
}

function preload(arch: Arch): string {
	return loaderSafeFile(arch === 'x86_64' ? path.join(root, 'build/Release/pdi-preload.so') : path.join(root, 'build/arch', arch, 'pdi-preload.so'));
}

async function countLines(file: string): Promise<number> {
	let count = 0;
	for await (const line of createInterface({input: createReadStream(file)})) {
		if (line.startsWith('Trace')) {
			count++;
		}
	}

	return count;
}

/** qemu's -E arguments for `mode`: the core and the mode's config. */
function modeEnvironment(arch: Arch, out: string, mode: Mode, work: string): string[] {
	const env: string[] = [];
	if (mode !== 'direct') {
		const rules = mode === 'relink'
			? [`backend b = ${path.join(out, 'relink-backend.so')}`, 'relink $main bench_target b bench_wrapper']
			: [`backend b = ${path.join(out, mode === 'count' ? 'count-backend.so' : 'empty-backend.so')}`, 'callback $main * b'];
		writeFileSync(path.join(work, `${mode}.cmd`), rules.join('\n') + '\n');
		writeFileSync(path.join(work, `${mode}.cfg`), `config = ${mode}.cmd\n`);
		env.push('-E', `LD_PRELOAD=${preload(arch)}`, '-E', `PDI_CONFIG=${path.join(work, `${mode}.cfg`)}`);
	}

	return env;
}

/**
 * Fails the benchmark unless `mode` intercepts bench_target as it should: 1000 calls sum to 500500, or 1500500
 * through the relink wrapper (+1000 each). A core the loader did not preload would count the bare call in every row.
 */
function check(arch: Arch, out: string, mode: Mode, work: string): void {
	const {qemu, sysroot} = arches[arch];
	const {stdout} = run(qemu, ['-L', sysroot, ...modeEnvironment(arch, out, mode, work), path.join(out, 'benchprog'), '1000', 'check'], cleanEnv());
	const expected = mode === 'relink' ? '1500500' : '500500';
	if (!stdout.includes(`sum=${expected}`)) {
		fail(`benchprog 1000 check (${arch}, ${mode}): ${stdout.trim()}, expected sum=${expected}: the interposition did not happen`);
	}
}

async function instructions(arch: Arch, out: string, mode: Mode, calls: number, work: string): Promise<number> {
	const {qemu, sysroot} = arches[arch];
	const env = modeEnvironment(arch, out, mode, work);
	const log = path.join(work, `${arch}-${mode}-${calls}.log`);
	run(qemu, ['-L', sysroot, '-singlestep', '-d', 'nochain,exec', '-D', log, ...env, path.join(out, 'benchprog'), String(calls), 'quiet'], cleanEnv());
	const count = await countLines(log);
	rmSync(log);
	return count;
}

/** Issue #14's goal for the other architectures: a callback with empty hooks at most this many instructions per call. */
const goalInstrPerCall = 80;
type Row = {arch: Arch; mode: Mode; perCall: number};

function print(rows: readonly Row[]): void {
	const perCall = (arch: Arch, mode: Mode) => rows.find(row => row.arch === arch && row.mode === mode)?.perCall ?? Number.NaN;
	if (flags.has('--json')) {
		process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
		return;
	}

	process.stdout.write(`instructions per call under qemu-user (-singlestep -d nochain,exec; N=${n2} minus N=${n1})\n`);
	process.stdout.write('arch      direct   relink   callback   callback+count\n');
	for (const arch of Object.keys(arches) as Arch[]) {
		// Each number ends under the end of its column's title, one space plus the title's width from the last.
		const cell = (mode: Mode, width: number) => perCall(arch, mode).toFixed(1).padStart(width);
		process.stdout.write(`${arch.padEnd(8)}${cell('direct', 8)} ${cell('relink', 8)} ${cell('callback', 10)} ${cell('count', 16)}\n`);
	}

	for (const arch of ['aarch64', 'i386'] as const) {
		const value = perCall(arch, 'callback');
		const verdict = value <= goalInstrPerCall ? 'goal met' : `goal missed by ${(value - goalInstrPerCall).toFixed(1)} instructions per call`;
		process.stdout.write(`goal: ${arch} callback (empty hooks) <= ${goalInstrPerCall} instructions per call: ${verdict} (${value.toFixed(1)} instructions per call)\n`);
	}
}

await runBenchmark('callback:arch', async work => {
	const rows: Row[] = [];
	for (const arch of Object.keys(arches) as Arch[]) {
		const out = build(arch);
		for (const mode of ['direct', 'relink', 'callback', 'count'] as const) {
			check(arch, out, mode, work);
			const first = await instructions(arch, out, mode, n1, work);
			const second = await instructions(arch, out, mode, n2, work);
			rows.push({arch, mode, perCall: (second - first) / (n2 - n1)});
		}
	}

	print(rows);
});
