#!/usr/bin/env node
// npm run lint, the size rules: no source file under src/ over 600 lines, no C
// function over 80 lines (from universal-ctags' start and end lines). TypeScript
// functions are held to the same 80 lines by ESLint's max-lines-per-function
// (eslint.config.js). Files of scripts/lint-pending.mjs print `pending:` lines
// and do not fail the check.
import {spawnSync} from 'node:child_process';
import {readdirSync, readFileSync} from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {isPending} from './lint-pending.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const maxFileLines = 600;
const maxFunctionLines = 80;

const sources = readdirSync(path.join(root, 'src'), {recursive: true, withFileTypes: true})
	.filter(entry => entry.isFile() && /\.(c|h|cc|S|ts)$/.test(entry.name))
	.map(entry => path.relative(root, path.join(entry.parentPath, entry.name)))
	.sort();

const violations = [];
for (const file of sources) {
	const text = readFileSync(path.join(root, file), 'utf8');
	const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
	if (lines > maxFileLines) {
		violations.push({file, line: 1, message: `file is ${lines} lines (max ${maxFileLines})`});
	}
}

const cSources = sources.filter(file => /\.(c|cc)$/.test(file));
const ctags = spawnSync('ctags', ['--output-format=json', '--fields=+ne', '--kinds-C=f', '--kinds-C++=f', '-o', '-', ...cSources], {
	cwd: root,
	encoding: 'utf8',
	maxBuffer: 64 * 1024 * 1024,
});
if (ctags.error !== undefined || ctags.status !== 0) {
	console.error(`check-structure: universal-ctags did not run (apt-get install -y universal-ctags): ${ctags.error?.message ?? ctags.stderr}`);
	process.exit(1);
}

for (const line of ctags.stdout.split('\n')) {
	if (line === '') {
		continue;
	}

	const tag = JSON.parse(line);
	if (tag._type !== 'tag' || tag.kind !== 'function') {
		continue;
	}

	if (tag.end === undefined) {
		console.error(`check-structure: ctags gave no end line for ${tag.name} in ${tag.path} (a ctags built without the end field?)`);
		process.exit(1);
	}

	const length = tag.end - tag.line + 1;
	if (length > maxFunctionLines) {
		violations.push({file: tag.path, line: tag.line, message: `function ${tag.name} is ${length} lines (max ${maxFunctionLines})`});
	}
}

let failed = 0;
for (const {file, line, message} of violations.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line)) {
	if (isPending(file)) {
		console.log(`pending: ${file}:${line}: ${message}`);
	} else {
		console.log(`${file}:${line}: ${message}`);
		failed++;
	}
}

if (failed > 0) {
	process.exit(1);
}
