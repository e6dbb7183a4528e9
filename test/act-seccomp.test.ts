import {readFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {pdi} from './helpers/cli.js';
import {compileC, writeFiles} from './helpers/files.js';

// Runs a program with process_vm_readv refused (EPERM), as Docker's default seccomp profile and qemu-user (ENOSYS) do.
const refuseProcessVmReadv = `
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv) {
  struct sock_filter code[] = {
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_process_vm_readv, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog program = {sizeof code / sizeof code[0], code};
  if (argc < 2 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) != 0) {
    perror("seccomp");
    return 125;
  }
  execvp(argv[1], argv + 1);
  perror(argv[1]);
  return 127;
}
`;

test('an act rule whose condition matches a string argument holds where a seccomp filter refuses process_vm_readv, as Docker\'s default profile does', async t => {
	const directory = writeFiles({'act.yaml': [
		'rules:',
		'  - act:',
		'      object: $main',
		'      function: open',
		'      when: {arg: 0, matches: /etc/host*}',
		'      do: {return: -1, errno: ENOENT}',
	].join('\n')});
	const refusing = compileC(directory, 'refuse-process-vm-readv', refuseProcessVmReadv);
	const config = path.join(directory, 'act.yaml');
	// Before: the act backend read the string with process_vm_readv alone, so the condition never held: cat printed both files.
	const run = await pdi(['run', '-v', '-c', config, '--', refusing, 'cat', '/etc/hostname', '/etc/debian_version']);
	t.is(run.code, 1, run.stderr);
	t.is(run.stdout, readFileSync('/etc/debian_version', 'utf8'));
	t.regex(run.stderr, /cat: \/etc\/hostname: No such file or directory/);
	t.true(run.stderr.includes(`pdi: ${config}:2: act $main open: 2 call(s) seen, 1 fired`), run.stderr);
});
