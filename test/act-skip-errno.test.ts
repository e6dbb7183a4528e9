import {writeFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {pdi} from './helpers/cli.js';
import {compileC, scratchDirectory} from './helpers/files.js';

// A rule that skips a call without errno= leaves errno as the caller had it (docs/act.md). A string condition read
// its argument past the end of its page (an argv string at the top of the stack is one), that read failed with
// EFAULT, and the EFAULT reached the program: `cat FILE` under `arg0~"..." return=-1` said "Bad address".
const scratch = scratchDirectory('pdi-act-skip-errno-');
const program = compileC(scratch, 'opens', `#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
int main(void) {
	long page = sysconf(_SC_PAGESIZE);
	char *pages = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (pages == MAP_FAILED || mprotect(pages + page, page, PROT_NONE) != 0)
		return 2;
	const char *name = "/etc/hostname";
	char *at_end = pages + page - strlen(name) - 1;
	strcpy(at_end, name);
	for (int round = 0; round < 2; round++) {
		errno = round == 0 ? 0 : EINTR;
		int fd = open(at_end, O_RDONLY);
		printf("open %d errno %d\\n", fd, errno);
	}
	return 0;
}
`, ['-O2']);

test('a skip without errno= leaves the caller\'s errno, also when the string condition read up to an unmapped page', async t => {
	const config = path.join(scratch, 'opens.cfg');
	writeFileSync(config, 'act $main open arg0~"/etc/host*" return=-1\n');
	const result = await pdi(['run', '-c', config, '--', program]);
	t.is(result.code, 0, result.stderr);
	t.is(result.stdout, 'open -1 errno 0\nopen -1 errno 4\n');
	const delayed = path.join(scratch, 'delayed.cfg');
	writeFileSync(delayed, 'act $main open arg0~"/etc/host*" delay=1ms return=-1\n');
	const slow = await pdi(['run', '-c', delayed, '--', program]);
	t.is(slow.stdout, 'open -1 errno 0\nopen -1 errno 4\n', slow.stderr);
});
