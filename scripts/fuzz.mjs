#!/usr/bin/env node
// Fuzzes one of the native readers with AFL++ (docs/reliability.md, "Fuzzing the native readers"):
//
//     npm run fuzz -- --target comux|config|elf [--seconds N] [--timeout MS]
//
//   comux   the comux format reader (src/native/backends/comux-accept/comux.c)
//   config  the text dialect's reader (src/native/config), with Include and command files
//   elf     the core's reader of a mapped object (src/native/core: dynamic section, GNU/SysV
//           hash lookups with versions, every relocation slot, the JSON reports)
//
// It builds the harness of test/fuzz/harness/ with afl-clang-fast (through test/fuzz/Makefile.inc,
// into build/fuzz/afl/; persistent mode for afl-fuzz, a file-reading build for afl-tmin), starts from test/fuzz/<target>/seeds/ and regressions/ (the elf target's
// seeds are built from test/fuzz/elf/seed-src/ with gcc, into build/fuzz/gcc/), runs afl-fuzz for
// N seconds (default 60) in build/fuzz/<target>/, and prints what it did: execs, execs/s, corpus,
// crashes, hangs. Every crash and hang is minimized with afl-tmin and kept in
// test/fuzz/<target>/regressions/ as <crash|hang>-<signal>-<hash>, which npm test then replays
// (test/fuzz-regressions.test.ts); the exit status is 1 when anything was found, else 0.
//
// One fuzzer at a time: afl-fuzz takes a core of its own.
import {spawnSync} from 'node:child_process';
import {createHash} from 'node:crypto';
import {copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync} from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {parseArgs} from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const targets = ['comux', 'config', 'elf'];

function usage(message) {
	console.error(`fuzz: ${message}\nusage: npm run fuzz -- --target ${targets.join('|')} [--seconds N] [--timeout MS]`);
	process.exit(2);
}

function run(command, args, options = {}) {
	const result = spawnSync(command, args, {stdio: 'inherit', cwd: root, ...options});
	if (result.error)
		usage(`${command}: ${result.error.message}`);
	return result.status ?? 1;
}

function build(cc, out, goal) {
	const status = run('make', ['-s', '-f', 'test/fixtures/Makefile', `CC=${cc}`, `OUT=${out}`, '-j2', goal], {
		// afl-clang-fast prints a banner per file without it.
		env: {...process.env, AFL_QUIET: '1'},
	});
	if (status !== 0)
		usage(`building ${goal} with ${cc} failed`);
}

function copyDirectory(from, to) {
	if (!existsSync(from))
		return 0;
	let count = 0;
	for (const name of readdirSync(from)) {
		const file = path.join(from, name);
		if (statSync(file).isFile()) {
			copyFileSync(file, path.join(to, name));
			count++;
		}
	}
	return count;
}

function readStats(file) {
	const stats = {};
	if (!existsSync(file))
		return stats;
	for (const line of readFileSync(file, 'utf8').split('\n')) {
		const match = /^(\w+)\s*:\s*(.*)$/.exec(line);
		if (match)
			stats[match[1]] = match[2].trim();
	}
	return stats;
}

// AFL++ names a finding "id:000000,sig:11,src:...": the signal, or a hang.
function findingName(kind, file) {
	const signal = /sig:(\d+)/.exec(path.basename(file))?.[1];
	const hash = createHash('sha1').update(readFileSync(file)).digest('hex').slice(0, 10);
	return `${kind}-${kind === 'crash' && signal ? `sig${signal}` : 'timeout'}-${hash}`;
}

function keepFindings(target, fuzzerDir, tminHarness, timeout) {
	const regressions = path.join(root, 'test', 'fuzz', target, 'regressions');
	mkdirSync(regressions, {recursive: true});
	const kept = [];
	for (const [kind, folder] of [['crash', 'crashes'], ['hang', 'hangs']]) {
		const dir = path.join(fuzzerDir, folder);
		if (!existsSync(dir))
			continue;
		for (const name of readdirSync(dir).filter(n => n.startsWith('id:'))) {
			const input = path.join(dir, name);
			const output = path.join(regressions, findingName(kind, input));
			const hangMode = kind === 'hang' ? ['-H'] : [];
			const status = run('afl-tmin', [...hangMode, '-i', input, '-o', output, '-t', String(timeout), '-m', 'none', '--', tminHarness, '@@'], {
				env: {...process.env, AFL_QUIET: '1', AFL_NO_AFFINITY: '1'},
				stdio: ['ignore', 'ignore', 'inherit'],
			});
			// A finding afl-tmin cannot reproduce is kept as found.
			if (status !== 0 || !existsSync(output))
				copyFileSync(input, output);
			kept.push(path.relative(root, output));
		}
	}
	return kept;
}

const {values} = parseArgs({
	options: {
		target: {type: 'string'},
		seconds: {type: 'string', default: '60'},
		timeout: {type: 'string'},
	},
});
const target = values.target;
if (!targets.includes(target))
	usage(`--target must be one of ${targets.join(', ')}`);
const seconds = Number(values.seconds);
if (!Number.isInteger(seconds) || seconds < 1)
	usage('--seconds must be a whole number of seconds');
// The elf target maps and walks a whole object; the others read a few KB.
const timeout = Number(values.timeout ?? (target === 'elf' ? 500 : 200));
if (!Number.isInteger(timeout) || timeout < 10)
	usage('--timeout must be at least 10 (ms)');

const aflOut = path.join('build', 'fuzz', 'afl');
build('afl-clang-fast', aflOut, 'fuzz-harnesses');
// The persistent harness for afl-fuzz (inputs in shared memory), a file-reading one for afl-tmin.
const harness = path.join(root, aflOut, 'fuzz', `fuzz-${target}`);
const tminHarness = path.join(root, aflOut, 'fuzz', `tmin-${target}`);

const work = path.join(root, 'build', 'fuzz', target);
rmSync(work, {recursive: true, force: true});
const inputs = path.join(work, 'in');
const scratch = path.join(work, 'tmp');
mkdirSync(inputs, {recursive: true});
mkdirSync(scratch, {recursive: true});
let seeds = copyDirectory(path.join(root, 'test', 'fuzz', target, 'seeds'), inputs);
seeds += copyDirectory(path.join(root, 'test', 'fuzz', target, 'regressions'), inputs);
if (target === 'elf') {
	const gccOut = path.join('build', 'fuzz', 'gcc');
	build('gcc', gccOut, 'fuzz-elf-seeds');
	seeds += copyDirectory(path.join(root, gccOut, 'fuzz', 'elf-seeds'), inputs);
}
console.log(`fuzz: ${target}: ${seeds} seeds, ${seconds} s, ${timeout} ms per input`);

const started = Date.now();
const status = run('afl-fuzz', ['-i', inputs, '-o', path.join(work, 'out'), '-V', String(seconds), '-t', String(timeout), '-m', 'none', '--', harness], {
	env: {
		...process.env,
		AFL_NO_UI: '1',
		AFL_SKIP_CPUFREQ: '1',
		AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES: '1',
		AFL_NO_AFFINITY: '1',
		// The config harness makes its scratch directories here, not in /tmp.
		PDI_FUZZ_TMP: scratch,
	},
	stdio: ['ignore', 'ignore', 'inherit'],
});
const fuzzerDir = path.join(work, 'out', 'default');
const stats = readStats(path.join(fuzzerDir, 'fuzzer_stats'));
if (status !== 0 && stats.execs_done === undefined)
	usage(`afl-fuzz failed (status ${status})`);
rmSync(scratch, {recursive: true, force: true});

const kept = keepFindings(target, fuzzerDir, tminHarness, timeout);
const wall = Math.round((Date.now() - started) / 1000);
console.log(`fuzz: ${target}: ${stats.run_time ?? wall} s`);
console.log(`  execs done   ${stats.execs_done ?? '?'}`);
console.log(`  execs/s      ${stats.execs_per_sec ?? '?'}`);
console.log(`  corpus       ${stats.corpus_count ?? stats.paths_total ?? '?'} (from ${seeds} seeds)`);
console.log(`  coverage     ${stats.bitmap_cvg ?? '?'}`);
console.log(`  crashes      ${stats.saved_crashes ?? stats.unique_crashes ?? '?'}`);
console.log(`  hangs        ${stats.saved_hangs ?? stats.unique_hangs ?? '?'}`);
for (const file of kept)
	console.log(`  kept ${file}`);
process.exit(kept.length > 0 ? 1 : 0);
