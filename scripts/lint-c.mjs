#!/usr/bin/env node
// npm run lint, the C half: every C file under src/native/ and include/ is formatted
// as .clang-format says (clang-format --dry-run --Werror), and every source of
// binding.gyp compiles without a warning under -Wall -Wextra -Werror with the flags
// of the native build. Files of scripts/lint-pending.mjs are reported, not failed,
// for the format; never for warnings.
//
//   node scripts/lint-c.mjs            # check
//   node scripts/lint-c.mjs --fix      # format every file that is not pending
import {spawn, spawnSync} from 'node:child_process';
import {readdirSync, readFileSync} from 'node:fs';
import {createRequire} from 'node:module';
import {availableParallelism} from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {isPending} from './lint-pending.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// Written by scripts/config-header.ts, not by hand.
const generated = new Set(['src/native/config/options.generated.h']);

function cFiles(directory) {
	return readdirSync(path.join(root, directory), {recursive: true, withFileTypes: true})
		.filter(entry => entry.isFile() && /\.(c|h|cc)$/.test(entry.name))
		.map(entry => path.relative(root, path.join(entry.parentPath, entry.name)))
		.filter(file => !generated.has(file))
		.sort();
}

function requireTool(tool, debianPackage) {
	if (spawnSync(tool, ['--version']).error !== undefined) {
		console.error(`lint-c: ${tool} is not installed (apt-get install -y ${debianPackage})`);
		process.exit(1);
	}
}

/** clang-format over every file; returns the number of files that fail. */
function checkFormat(fix) {
	requireTool('clang-format', 'clang-format');
	const files = [...cFiles('src/native'), ...cFiles('include')];
	const strict = files.filter(file => !isPending(file));
	if (fix) {
		spawnSync('clang-format', ['-i', ...strict], {cwd: root, stdio: 'inherit'});
	}

	let failed = 0;
	const waiting = [];
	for (const file of files) {
		const result = spawnSync('clang-format', ['--dry-run', '--Werror', file], {cwd: root, encoding: 'utf8'});
		if (result.status === 0) {
			continue;
		}

		if (isPending(file)) {
			waiting.push(file);
		} else {
			failed++;
			process.stderr.write(result.stderr);
			console.error(`${file}: not formatted: run clang-format -i ${file}`);
		}
	}

	if (waiting.length > 0) {
		console.log(`pending: ${waiting.length} C files not formatted yet (scripts/lint-pending.mjs): ${waiting.join(' ')}`);
	}

	return failed;
}

/** The node headers the addon builds against: node-gyp's nodedir, or those of this node. */
function nodeInclude() {
	let nodedir = path.resolve(path.dirname(process.execPath), '..');
	try {
		nodedir = /"nodedir": "([^"]+)"/.exec(readFileSync(path.join(root, 'build/config.gypi'), 'utf8'))?.[1] ?? nodedir;
	} catch {}

	return path.join(nodedir, 'include/node');
}

function run(command, args) {
	return new Promise(resolve => {
		const child = spawn(command, args, {cwd: root, stdio: ['ignore', 'inherit', 'inherit']});
		child.on('close', status => resolve(status === 0));
	});
}

/** Compiles every source of binding.gyp (the one list) with warnings as errors; returns the number that fail. */
function checkWarnings() {
	const gyp = JSON.parse(readFileSync(path.join(root, 'binding.gyp'), 'utf8'));
	const expand = list => list.flatMap(entry => gyp.variables[/^<@\((\w+)\)$/.exec(entry)?.[1]] ?? [entry]);
	const sources = [...new Set(gyp.targets.flatMap(target => expand(target.sources)))];
	const {cflags, cflags_c: cflagsC, cflags_cc: cflagsCc} = gyp.target_defaults;
	const common = ['-O2', '-fPIC', '-DNDEBUG', ...cflags, '-Werror', '-Iinclude', '-c', '-o', '/dev/null'];
	const addonApi = createRequire(import.meta.url)('node-addon-api').include_dir;
	const jobs = sources.filter(file => !file.endsWith('.S')).map(file => (file.endsWith('.cc')
		? ['g++', [...common, '-std=gnu++17', ...cflagsCc, `-I${addonApi}`, `-isystem${nodeInclude()}`, '-DNAPI_VERSION=9', '-DNODE_ADDON_API_DISABLE_DEPRECATED', file]]
		: ['gcc', [...common, ...cflagsC, file]]));
	let failed = 0;
	const worker = async () => {
		for (let job = jobs.shift(); job !== undefined; job = jobs.shift()) {
			if (!await run(...job)) {
				failed++;
				console.error(`${job[1].at(-1)}: does not compile without warnings (-Wall -Wextra -Werror)`);
			}
		}
	};

	return Promise.all(Array.from({length: Math.min(availableParallelism(), 4)}, worker)).then(() => failed);
}

const fix = process.argv.includes('--fix');
const failed = checkFormat(fix) + await checkWarnings();
if (failed > 0) {
	console.error(`lint-c: ${failed} C file(s) to fix`);
	process.exit(1);
}
