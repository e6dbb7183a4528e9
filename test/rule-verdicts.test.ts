// A program that runs others (a shell script, a wrapper that execs) opens the config in each of its processes. Each
// used to warn at its exit of the rules that met nothing in it: a rule that worked in one process was reported as
// void by every other one (`act getpid` under `sh -c 'python3 ...; cat'` six times, after it had fired). The
// processes now share what the rules met, and the warning is said once, for all of them (docs/config.md).
import path from 'node:path';
import test from 'ava';
import {pdi} from './helpers/cli.js';
import {compileC, scratchDirectory, writeFiles} from './helpers/files.js';

const scratch = scratchDirectory('pdi-rule-verdicts-');
const pidProgram = compileC(scratch, 'print-pid', '#include <stdio.h>\n#include <unistd.h>\nint main(void) { printf("%d\\n", (int)getpid()); return 0; }\n');
const config = path.join(writeFiles({'rules.yaml': [
	'rules:',
	'  - act: {object: print-pid, function: getpid, do: {return: 4242}}',
	'  - act: {function: no_such_function_anywhere, do: {count: true}}',
	'',
].join('\n')}), 'rules.yaml');

const voidRule = `pdi: warning: ${config}:3: act no_such_function_anywhere: no object matching '*' imported it while the program ran: the rule saw no call\n`;

for (const [shell, how] of [['sh', 'dash, which ends by _exit: pdi says it'], ['bash', 'bash, the last process to end, says it']] as const) {
	for (const [order, script] of [
		['first', `${pidProgram}; ls / >/dev/null; echo x | cat >/dev/null`],
		['last', `ls / >/dev/null; echo x | cat >/dev/null; ${pidProgram}`],
	] as const) {
		test(`a rule that acted in one process of a ${shell} script (run ${order}) is not reported by the others; one that met nothing anywhere is reported once (${how})`, async t => {
			const run = await pdi(['run', '-c', config, '--', shell, '-c', script]);
			t.is(run.code, 0, run.stderr);
			t.is(run.stdout, '4242\n');
			t.is(run.stderr, voidRule);
		});
	}
}

test('what a program image met counts after it execs another: a rule that only the first image met is not reported by the second', async t => {
	// bash calls getpid itself; ls, which it becomes, does not import it (before: ls warned that getpid was never imported).
	const getpid = path.join(writeFiles({'getpid.yaml': 'rules:\n  - act: {function: getpid, do: {count: true}}\n'}), 'getpid.yaml');
	const run = await pdi(['run', '-c', getpid, '--', 'bash', '-c', 'echo $$ >/dev/null; exec ls / >/dev/null']);
	t.is(run.code, 0, run.stderr);
	t.is(run.stderr, '');
	const none = await pdi(['run', '-c', getpid, '--', 'ls', '/']);
	t.regex(none.stderr, /^pdi: warning: \S+getpid\.yaml:2: act getpid: no object matching '\*' imported it while the program ran: the rule saw no call\n$/, 'ls alone does not import it');
});

test('a rule whose object no process loaded is reported once, naming the object, whatever each process loaded', async t => {
	const never = path.join(writeFiles({'never.yaml': 'rules:\n  - act: {object: libnever-loaded.so, function: open, do: {count: true}}\n'}), 'never.yaml');
	const run = await pdi(['run', '-c', never, '--', 'sh', '-c', 'ls / >/dev/null; cat /dev/null; ls /tmp >/dev/null']);
	t.is(run.code, 0, run.stderr);
	t.is(run.stderr, `pdi: warning: ${never}:2: act open: no object matching 'libnever-loaded.so' was loaded\n`);
});

test('a config\'s Warning lines and a log_file it cannot open are said once per launched program, not by each of its processes', async t => {
	const directory = writeFiles({'w.cfg': 'Warning migrating from pdi-tools\nlog_file = no-such-directory/pdi.log\n'});
	const run = await pdi(['run', '-c', path.join(directory, 'w.cfg'), '--', 'sh', '-c', 'ls / >/dev/null; cat /dev/null; sh -c "ls /tmp >/dev/null"']);
	t.is(run.code, 0, run.stderr);
	t.is(run.stderr, [
		`pdi: warning: log_file '${directory}/no-such-directory/pdi.log': cannot open it (No such file or directory): logging to stderr instead`,
		`pdi: warning: ${directory}/w.cfg:1:1: migrating from pdi-tools`,
		'',
	].join('\n'));
});
