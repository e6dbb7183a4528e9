import {readFileSync, rmSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import test, {type ExecutionContext} from 'ava';
import {pdi, type CliResult} from './helpers/cli.js';
import {compileC, scratchDirectory} from './helpers/files.js';

// The trace backend declared in a config (not pdi trace, whose lines go through a shared-memory ring) writes each
// line itself, to its copy of stderr or to PDI_TRACE_OUTPUT. A program that closes every descriptor it did not open
// and opens files of its own on those numbers must get the numbers it gets without pdi and find no trace line in
// its files (docs/config.md, docs/launching.md "Programs that close every descriptor"). Was a bug: after a
// closefrom(3) the first line's failed write made a copy of stderr at 10, so the program's 8th file came at 11 and
// received the lines written to 10; PDI_TRACE_OUTPUT, opened at 3, wrote into the program's first file.
const scratch = scratchDirectory('pdi-trace-closefrom-');

// Closes 3 and up (closefrom, close_range with "range", nothing with "dup2"), opens PREFIX.0 to PREFIX.11, with
// "dup2" puts PREFIX.0 on every descriptor above them (pdi's), then writes "file N" into each and says its numbers.
const program = compileC(scratch, 'closeall', String.raw`
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
int main(int argc, char **argv) {
	const char *mode = argc > 2 ? argv[2] : "";
	if (strcmp(mode, "range") == 0)
		close_range(3, ~0U, 0);
	else if (strcmp(mode, "dup2") != 0)
		closefrom(3);
	int fd[12];
	for (int i = 0; i < 12; i++) {
		char name[4096];
		snprintf(name, sizeof name, "%s.%d", argv[1], i);
		fd[i] = open(name, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	}
	if (strcmp(mode, "dup2") == 0) {
		int found[64], count = 0;
		DIR *directory = opendir("/proc/self/fd");
		struct dirent *entry;
		while (directory != NULL && (entry = readdir(directory)) != NULL && count < 64) {
			int number = atoi(entry->d_name);
			if (number > fd[11] && number != dirfd(directory))
				found[count++] = number;
		}
		if (directory != NULL)
			closedir(directory);
		for (int i = 0; i < count; i++)
			dup2(fd[0], found[i]);
		printf("taken %d\n", count);
	}
	for (int i = 0; i < 12; i++)
		dprintf(fd[i], "file %d\n", i);
	printf("fds %d..%d\n", fd[0], fd[11]);
	return 0;
}
`);

const config = path.join(scratch, 'trace.yaml');
writeFileSync(config, 'backends: [{name: t, library: trace}]\nrules:\n  - callback: {object: $main, backend: t}\n');

async function run(name: string, mode: string, output?: string): Promise<{run: CliResult; prefix: string}> {
	const prefix = path.join(scratch, name);
	const env = {...process.env};
	delete env.PDI_TRACE_OUTPUT;
	if (output !== undefined) {
		rmSync(output, {force: true});
		env.PDI_TRACE_OUTPUT = output;
	}

	return {run: await pdi(['run', '-c', config, '--', program, prefix, ...mode ? [mode] : []], {env}), prefix};
}

// The program's numbers and files as without pdi, and the trace lines of its calls, the last ones included. Without
// a closefrom (dup2), the core's copy of stderr holds 10 (docs/config.md), so the program's last file is 15.
function checkProgram(t: ExecutionContext, result: {run: CliResult; prefix: string}, lines: string, mode: string): void {
	const last = mode === 'dup2' ? 15 : 14;
	t.is(result.run.code, 0, result.run.stderr);
	t.regex(result.run.stdout, mode === 'dup2' ? /^taken [1-9]\d*\nfds 3\.\.15\n$/ : /^fds 3\.\.14\n$/);
	for (let i = 0; i < 12; i++) {
		t.is(readFileSync(`${result.prefix}.${i}`, 'utf8'), `file ${i}\n`, `file ${i} holds the program's line alone`);
	}

	t.regex(lines, mode === 'dup2' ? /^\d+ \d+ {2}closeall!dup2\(3, \d+\) = \d+$/m : /^\d+ \d+ {2}closeall!(closefrom|close_range)\(/m);
	t.regex(lines, new RegExp(`closeall!open\\(.*\\) = ${last}$`, 'm'));
	t.regex(lines, new RegExp(`closeall!dprintf\\(${last}, .*\\) = 8$`, 'm'));
	t.regex(lines, /closeall!printf\("fds %d\.\.%d\\n", \.\.\.\) = 10\n$/);
}

for (const mode of ['', 'range', 'dup2']) {
	const described = mode === 'range' ? 'close_range' : mode === 'dup2' ? 'dup2 onto the numbers of pdi\'s descriptors' : 'closefrom';
	test(`a program that runs ${described} keeps its numbers and files, and the trace lines go to stderr`, async t => {
		const result = await run(`stderr-${mode || 'closefrom'}`, mode);
		checkProgram(t, result, result.run.stderr, mode);
	});

	test(`a program that runs ${described} keeps its numbers and files, and the trace lines go to PDI_TRACE_OUTPUT`, async t => {
		const output = path.join(scratch, `out-${mode || 'closefrom'}.txt`);
		const result = await run(`file-${mode || 'closefrom'}`, mode, output);
		checkProgram(t, result, readFileSync(output, 'utf8'), mode);
		t.is(result.run.stderr, '');
	});
}
