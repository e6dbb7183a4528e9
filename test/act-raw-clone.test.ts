import {writeFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {pdi} from './helpers/cli.js';
import {compileC, scratchDirectory} from './helpers/files.js';

// A child made by a raw clone (no CLONE_VM) runs no fork handler: everything pdi's act backend
// cached is its parent's, the process id it reads strings through included.
const directory = scratchDirectory('pdi-act-clone-');
const wanted = path.join(directory, 'wanted.txt');
writeFileSync(wanted, 'x');

const program = compileC(directory, 'rawclone', `
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
static char stack[65536];
static char file[4096] = "/no/such/file/in/the/parent";
static int child(void *wanted) {
  strcpy(file, wanted); /* only the child's copy holds the name the rule matches */
  int fd = open(file, O_RDONLY);
  printf("child: %s\\n", fd >= 0 ? "opened" : strerror(errno));
  fflush(stdout);
  return 0;
}
int main(int argc, char **argv) {
  (void)argc;
  int status;
  pid_t pid = clone(child, stack + sizeof stack, SIGCHLD, argv[1]);
  waitpid(pid, &status, 0);
  printf("parent: %s\\n", open(file, O_RDONLY) >= 0 ? "opened" : strerror(errno));
  return 0;
}
`, ['-O2']);

test('an act condition on a string argument reads the raw-clone child\'s own memory, not its parent\'s', async t => {
	const config = path.join(directory, 'act.yaml');
	writeFileSync(config, `rules:\n  - act: {object: $main, function: open, when: {arg: 0, matches: '*/wanted.txt'}, do: {return: -1, errno: EACCES}}\n`);
	const result = await pdi(['run', '-c', config, '--', program, wanted]);
	t.is(result.code, 0, result.stderr);
	t.is(result.stdout, 'child: Permission denied\nparent: No such file or directory\n');
});
