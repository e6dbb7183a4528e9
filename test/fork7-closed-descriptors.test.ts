import {readFileSync, rmSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {pdi} from './helpers/cli.js';
import {compileC, scratchDirectory} from './helpers/files.js';

// Programs that close every descriptor they did not open (closefrom, close_range, a daemon's loop) and then get the
// same numbers again for files of their own: the core's copy of stderr (fd 10 and up) and its log file were such
// numbers, so its lines at exit went into the program's file, and a forked child's fork handler closed the
// program's descriptor. The core now checks that the descriptor is still the one it opened (docs/launching.md).
const scratch = scratchDirectory('pdi-fork7-fds-');

// Closes 3 and up, opens its data file until it holds fd 10, then (with "fork") writes to it from a child.
const program = compileC(scratch, 'closeall', String.raw`
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
int main(int argc, char **argv) {
	closefrom(3);
	int fd = -1;
	for (int i = 0; i < 8; i++) fd = open(argv[1], O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (argc > 2 && strcmp(argv[2], "fork") == 0) {
		pid_t child = fork();
		if (child == 0) _exit(dprintf(fd, "child wrote to fd %d\n", fd) < 0 ? 3 : 0);
		int status;
		waitpid(child, &status, 0);
		printf("child status %d\n", WEXITSTATUS(status));
	} else {
		dprintf(fd, "data of fd %d\n", fd);
	}
	return 0;
}
`);

// A rule on a function the program never calls: the core warns at exit, after the program has reused fd 10.
function writeConfig(name: string, options = ''): string {
	const file = path.join(scratch, name);
	writeFileSync(file, `${options}rules:\n  - act: {object: $main, function: getpid, do: {count: true}}\n`);
	return file;
}

const warning = (config: string) => `pdi: warning: ${config}:${config.endsWith('log.yaml') ? 4 : 2}: act getpid: no object matching '$main' imported it while the program ran: the rule saw no call\n`;

test('the warning at exit goes to stderr, not into the file the program opened on the number of the core\'s stderr copy', async t => {
	const config = writeConfig('warn.yaml');
	const data = path.join(scratch, 'data-1.txt');
	const run = await pdi(['run', '-c', config, '--', program, data]);
	t.is(run.code, 0, run.stderr);
	t.is(readFileSync(data, 'utf8'), 'data of fd 10\n');
	t.is(run.stderr, warning(config));
});

test('a forked child keeps the descriptor the program opened on the number of the core\'s stderr copy', async t => {
	const config = writeConfig('warn.yaml');
	const data = path.join(scratch, 'data-2.txt');
	const run = await pdi(['run', '-c', config, '--', program, data, 'fork']);
	t.is(run.code, 0, run.stderr);
	t.is(run.stdout, 'child status 0\n');
	t.is(readFileSync(data, 'utf8'), 'child wrote to fd 10\n');
	t.is(run.stderr, warning(config));
});

test('a log file the program closed is opened again for the lines at exit, and the program\'s file of that number is left alone', async t => {
	const log = path.join(scratch, 'pdi.log');
	rmSync(log, {force: true});
	const config = writeConfig('log.yaml', `options:\n  log: {file: ${log}}\n`);
	const data = path.join(scratch, 'data-3.txt');
	const run = await pdi(['run', '-c', config, '--', program, data]);
	t.is(run.code, 0, run.stderr);
	t.is(readFileSync(data, 'utf8'), 'data of fd 10\n');
	t.is(readFileSync(log, 'utf8'), warning(config));
	t.is(run.stderr, '');
});

test('the bundled count and act backends write their reports at exit to stderr, not into the files the program opened on the numbers of their stderr copies', async t => {
	// Opens its data file until it holds fd 14, past the copies of the core (10) and of both backends.
	const opener = compileC(scratch, 'closeall14', String.raw`
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
int main(int argc, char **argv) {
	(void)argc;
	closefrom(3);
	int fd = -1;
	for (int i = 0; i < 12; i++) fd = open(argv[1], O_WRONLY | O_CREAT | O_APPEND, 0644);
	dprintf(fd, "data of fd %d\n", fd);
	return 0;
}
`);
	const count = path.join(scratch, 'count.yaml');
	writeFileSync(count, 'backends: [{name: c, library: count}]\nrules:\n  - relink: {object: $main, function: open, backend: c, wrapper: count_open}\n');
	const counted = path.join(scratch, 'data-4.txt');
	const run = await pdi(['run', '-c', count, '--', opener, counted]);
	t.is(run.code, 0, run.stderr);
	t.is(readFileSync(counted, 'utf8'), 'data of fd 14\n');
	t.is(run.stderr, 'pdi-count: open 12\n');
	// The act backend by hand (docs/act.md): PDI_ACT_VERBOSE prints the counts on the stderr the process started with.
	const act = path.join(scratch, 'act.cfg');
	writeFileSync(act, 'backend a = act\ncallback $main * a\n');
	const acted = path.join(scratch, 'data-5.txt');
	const verbose = await pdi(['run', '-c', act, '--', opener, acted], {env: {...process.env, PDI_ACT_VERBOSE: '1', PDI_ACT_RULES: '$main dprintf count'}});
	t.is(verbose.code, 0, verbose.stderr);
	t.is(readFileSync(acted, 'utf8'), 'data of fd 14\n');
	t.regex(verbose.stderr, /^pdi: act rule .*dprintf\): 1 call\(s\) seen, 1 fired$/m);
});

test('where strings are read through a probe pipe (qemu-user, seccomp), a program that closed every descriptor and reopened files on its numbers keeps them: the act backend makes a pipe of its own again, and its argument condition still matches', async t => {
	// Closes 3 and up, opens 12 files (3 to 14, over the numbers of the core's copy of stderr and of the pipe),
	// then opens /etc/hostname, which the rule's condition reads.
	const program = compileC(scratch, 'closeprobe', String.raw`
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
int main(int argc, char **argv) {
	(void)argc;
	closefrom(3);
	char name[4096];
	for (int i = 0; i < 12; i++) {
		snprintf(name, sizeof name, "%s.%d", argv[1], i);
		open(name, O_RDWR | O_CREAT | O_TRUNC, 0644);
	}
	int fd = open("/etc/hostname", O_RDONLY);
	printf("%d\n", fd);
	return 0;
}
`);
	const act = path.join(scratch, 'probe.cfg');
	writeFileSync(act, 'backend a = act\ncallback $main * a\n');
	const files = path.join(scratch, 'probed');
	const run = await pdi(['run', '-c', act, '--', program, files], {env: {...process.env, PDI_ACT_VERBOSE: '1', PDI_ACT_PROBE: 'pipe', PDI_ACT_RULES: '$main open arg0~"/etc/host*" count'}});
	t.is(run.code, 0, run.stderr);
	t.is(run.stdout, '15\n');
	for (let i = 0; i < 12; i++) {
		t.is(readFileSync(`${files}.${i}`, 'utf8'), '', `file ${i} holds nothing of pdi's`);
	}

	t.regex(run.stderr, /^pdi: act rule .*open\): 13 call\(s\) seen, 1 fired$/m);
});

test('the count backend\'s PDI_COUNT_OUTPUT and the core\'s log file leave the program the numbers it gets without pdi, and the report reaches its file after a closefrom', async t => {
	// Was a bug: both were opened at 3, so the program's first file came at 4; after a closefrom the count report
	// went to stderr instead of its file.
	const opener = compileC(scratch, 'openone', String.raw`
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
int main(int argc, char **argv) {
	if (argc > 2 && strcmp(argv[2], "closefrom") == 0)
		closefrom(3);
	int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	dprintf(fd, "data of fd %d\n", fd);
	return 0;
}
`);
	const count = path.join(scratch, 'count-file.yaml');
	writeFileSync(count, 'backends: [{name: c, library: count}]\nrules:\n  - relink: {object: $main, function: open, backend: c, wrapper: count_open}\n');
	for (const closing of [[], ['closefrom']]) {
		const report = path.join(scratch, `count-report-${closing.length}.txt`);
		const data = path.join(scratch, `data-6-${closing.length}.txt`);
		rmSync(report, {force: true});
		const run = await pdi(['run', '-c', count, '--', opener, data, ...closing], {env: {...process.env, PDI_COUNT_OUTPUT: report}});
		t.is(run.code, 0, run.stderr);
		t.is(run.stderr, '');
		t.is(readFileSync(data, 'utf8'), 'data of fd 3\n');
		t.is(readFileSync(report, 'utf8'), 'pdi-count: open 1\n');
	}

	const log = path.join(scratch, 'pdi-6.log');
	rmSync(log, {force: true});
	const config = writeConfig('second-log.yaml', `options:\n  log: {file: ${log}}\n`);
	const data = path.join(scratch, 'data-7.txt');
	const run = await pdi(['run', '-c', config, '--', opener, data]);
	t.is(run.code, 0, run.stderr);
	t.is(readFileSync(data, 'utf8'), 'data of fd 3\n');
	t.is(readFileSync(log, 'utf8'), warning(config));
});
