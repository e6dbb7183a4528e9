// A harness that runs a program with stdio 'ignore' heard nothing of a rule that never took effect (a misspelt
// function): pdi's lines went to the program's stderr only. runProgram() now gives them as `warnings`.
import test from 'ava';
import {runProgram, type PdiConfig} from '../src/ts/index.js';

const misspelt: PdiConfig = {rules: [{act: {object: '$main', function: 'opne', do: {return: -1, errno: 'ENOENT'}}}]};
const warning = 'pdi: warning: rules[0]: act opne: no object matching \'$main\' imported it while the program ran: the rule saw no call';

test('runProgram() gives pdi\'s warnings from the program\'s processes, with stdio ignored', async t => {
	const alone = await runProgram('cat', ['/etc/hostname'], {config: misspelt, stdio: 'ignore'});
	t.is(alone.status, 0);
	t.deepEqual(alone.warnings, [warning]);
	// dash ends by _exit: the verdict of its two processes is said once, by pdi, and lands among the warnings too.
	const shell = await runProgram('sh', ['-c', 'cat /etc/hostname; cat /etc/hostname'], {config: misspelt, stdio: 'ignore'});
	t.deepEqual(shell.warnings, [warning]);
});

test('runProgram() gives no warnings for a config whose rules all took effect, nor without a config', async t => {
	const working = await runProgram('cat', ['/etc/hostname'], {config: {rules: [{act: {object: '$main', function: 'close', do: {count: true}}}]}, stdio: 'ignore'});
	t.deepEqual(working.warnings, []);
	const bare = await runProgram('true', [], {stdio: 'ignore'});
	t.deepEqual(bare.warnings, []);
});
