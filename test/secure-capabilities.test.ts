// A program with file capabilities (Debian's ping has cap_net_raw) runs in the loader's secure mode for a user that
// is not root, as a set-user-ID one does: the loader ignores LD_PRELOAD. pdi looked only at the set-ID bits, so
// `pdi inspect` let its main run (with ping: packets sent) and `pdi run`/`pdi trace` ran it without pdi, without a word.
import {execFile, execFileSync} from 'node:child_process';
import {chmodSync, copyFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {compileC, scratchDirectory} from './helpers/files.js';
import {copyBuiltPackage} from './helpers/package-copy.js';

const rootOnly = process.getuid?.() === 0 ? test.serial : test.skip;

/** A directory every user can pass through (a checkout may lie under a mode 0700 one, as CI's clone does). */
function openDirectory(prefix: string, mode = 0o755): string {
	const directory = scratchDirectory(prefix);
	chmodSync(directory, mode);
	return directory;
}

/** A copy of the built package that uid 65534 can run; the path of its CLI. */
function copiedCli(): string {
	return path.join(copyBuiltPackage('pdi-capabilities-package-', 0o755, 'copy'), 'dist/cli/pdi.js');
}

async function asNobody(args: readonly string[], env: NodeJS.ProcessEnv): Promise<{code: number; stdout: string; stderr: string}> {
	return new Promise(resolve => {
		execFile('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, ...args], {env}, (error, stdout, stderr) => {
			resolve({code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr});
		});
	});
}

rootOnly('a program with file capabilities is refused by pdi inspect and warned about by pdi run and trace, for a user that is not root', async t => {
	const directory = openDirectory('pdi-capabilities-');
	const program = compileC(directory, 'capmain', '#include <stdio.h>\nint main(void) { puts("main ran"); return 5; }\n');
	// security.capability as setcap writes it: revision 2 and the effective bit, then the permitted and inheritable words.
	const setter = compileC(directory, 'set-capability', `#include <stdint.h>
#include <stdlib.h>
#include <sys/xattr.h>
int main(int argc, char **argv) {
  (void)argc;
  uint32_t data[5] = {0x02000001, (uint32_t)atoi(argv[2]), (uint32_t)atoi(argv[3]), 0, 0};
  return setxattr(argv[1], "security.capability", data, sizeof data, 0) != 0;
}
`);
	// cap_net_raw+ep: gained. And +ie: nothing gained (this process's inheritable set is empty), but the effective bit
	// is set, and the kernel runs it in secure mode for that alone.
	const inheritable = `${program}-ie`;
	copyFileSync(program, inheritable);
	execFileSync(setter, [program, String(1 << 13), '0']);
	execFileSync(setter, [inheritable, '0', String(1 << 13)]);
	// Writable by every user, as /tmp is.
	const temporary = openDirectory('pdi-capabilities-tmp-', 0o1777);
	const env = {...process.env, TMPDIR: temporary};
	const cli = copiedCli();
	const reason = `${program} is a program with file capabilities (cap_net_raw): the loader runs it in secure mode, which ignores LD_PRELOAD`;

	const inspected = await asNobody([cli, 'inspect', '--', program], env);
	t.is(inspected.code, 2, inspected.stderr);
	t.is(inspected.stdout, '', 'main never ran');
	t.true(inspected.stderr.startsWith(`pdi: ${reason}`), inspected.stderr);

	for (const command of [['run', '--'], ['trace', '--']]) {
		const run = await asNobody([cli, ...command, program], env);
		t.is(run.code, 5, run.stderr);
		t.is(run.stdout, 'main ran\n');
		t.true(run.stderr.startsWith(`pdi: warning: ${reason}`), run.stderr);
	}

	const effectiveOnly = await asNobody([cli, 'inspect', '--', inheritable], env);
	t.is(effectiveOnly.code, 2, effectiveOnly.stderr);
	t.is(effectiveOnly.stdout, '', 'main never ran');
	t.true(effectiveOnly.stderr.startsWith(`pdi: ${inheritable} is a program with file capabilities (cap_net_raw): the loader runs it in secure mode`), effectiveOnly.stderr);

	// Root gains nothing by them (the kernel does not run it in secure mode then), and gets pdi as any program.
	const byRoot = await new Promise<string>(resolve => {
		execFile(process.execPath, [cli, 'trace', '-e', 'puts', '--', program], {env}, (_error, _stdout, stderr) => {
			resolve(stderr);
		});
	});
	t.regex(byRoot, /capmain!puts\("main ran"\) = \d+$/m);
});
