import {execFile} from 'node:child_process';
import {writeFileSync} from 'node:fs';
import path from 'node:path';
import {promisify} from 'node:util';
import test from 'ava';
import {root} from './helpers/cli.js';
import {scratchDirectory} from './helpers/files.js';

// The terminal sends Ctrl-C to the whole foreground process group, which pdi and the program it runs share: the
// program got it once from the terminal, and pdi passed it on a second time (a program counting its interrupts saw
// two). pdi still passes on a signal sent to it alone.
const run = promisify(execFile);
const bin = path.join(root, 'bin/pdi');
const scratch = scratchDirectory('pdi-terminal-signals-');
const config = path.join(scratch, 'empty.yaml');
writeFileSync(config, '');

// The program: counts its SIGINTs for a second and a half after saying it is ready.
const counting = [
	'import signal, sys, time',
	'count = 0',
	'def interrupted(number, frame):',
	'    global count',
	'    count += 1',
	'signal.signal(signal.SIGINT, interrupted)',
	'print("ready", flush=True)',
	'end = time.time() + 1.5',
	'while time.time() < end:',
	'    time.sleep(0.05)',
	'print("SIGINT", count, flush=True)',
].join('\n');

// Runs argv[1:] on a new terminal, with argv[1] in its foreground process group; once it printed "ready", types
// Ctrl-C, or (with --kill PIDFILE) sends SIGINT to the process whose pid that file holds, that process alone.
const onTerminal = [
	'import os, pty, select, signal, sys, time',
	'kill = sys.argv[1] == "--kill"',
	'pid_file = sys.argv[2] if kill else None',
	'argv = sys.argv[3:] if kill else sys.argv[1:]',
	'child, terminal = pty.fork()',
	'if child == 0:',
	'    os.execvp(argv[0], argv)',
	'output, sent, deadline = b"", False, time.time() + 60',
	'while time.time() < deadline:',
	'    if select.select([terminal], [], [], 0.1)[0]:',
	'        try:',
	'            data = os.read(terminal, 4096)',
	'        except OSError:',
	'            break',
	'        if not data:',
	'            break',
	'        output += data',
	'    if b"ready" in output and not sent:',
	'        sent = True',
	'        if kill:',
	'            os.kill(int(open(pid_file).read()), signal.SIGINT)',
	'        else:',
	'            os.write(terminal, b"\\x03")',
	'os.waitpid(child, 0)',
	'sys.stdout.write(output.decode(errors="replace").replace("\\r", ""))',
].join('\n');

test('a Ctrl-C reaches a program under pdi run and pdi trace once, as without pdi', async t => {
	const bare = await run('python3', ['-c', onTerminal, 'python3', '-c', counting]);
	t.regex(bare.stdout, /SIGINT 1\n$/);
	for (const command of [['run', '-c', config], ['trace', '-o', '/dev/null']]) {
		const {stdout} = await run('python3', ['-c', onTerminal, bin, ...command, '--', 'python3', '-c', counting]);
		t.regex(stdout, /SIGINT 1\n$/, command.join(' '));
	}
});

test('a SIGINT sent to pdi alone is passed on to the program once', async t => {
	const pidFile = path.join(scratch, 'pdi.pid');
	// The shell writes its pid, then becomes pdi (exec): the pid is pdi's.
	const {stdout} = await run('python3', ['-c', onTerminal, '--kill', pidFile, 'sh', '-c', `echo $$ > ${pidFile}; exec "$0" run -c ${config} -- python3 -c '${counting}'`, bin]);
	t.regex(stdout, /SIGINT 1\n$/);
});

test('a Ctrl-C that ends the program under pdi run ends pdi by the signal too, so a shell loop running it stops, as without pdi', async t => {
	// Before, pdi exited with status 130: bash took that for a program that handled the Ctrl-C and ran the loop on.
	const loop = (command: string) => `for i in 1 2; do ${command} sh -c "echo ready; sleep 3"; echo "after $i"; done; echo finished`;
	const bare = await run('python3', ['-c', onTerminal, 'bash', '-c', loop('')]);
	t.notRegex(bare.stdout, /after|finished/);
	const {stdout} = await run('python3', ['-c', onTerminal, 'bash', '-c', loop(`"$0" run -c ${config} --`), bin]);
	t.notRegex(stdout, /after|finished/, stdout);
	// A program that handles the Ctrl-C and exits: the loop goes on, with and without pdi.
	const handled = `for i in 1; do "$0" run -c ${config} -- python3 -c '${counting}'; echo "after $i"; done`;
	t.regex((await run('python3', ['-c', onTerminal, 'bash', '-c', handled, bin])).stdout, /SIGINT 1\nafter 1\n$/);
});

test('a Ctrl-\\ reaches a program under pdi run once, as without pdi: pdi passes SIGQUIT on, but not the terminal\'s', async t => {
	const countingQuits = counting.replaceAll('SIGINT', 'SIGQUIT');
	const onTerminalQuit = onTerminal.replace('b"\\x03"', 'b"\\x1c"');
	t.not(onTerminalQuit, onTerminal);
	const bare = await run('python3', ['-c', onTerminalQuit, 'python3', '-c', countingQuits]);
	t.regex(bare.stdout, /SIGQUIT 1\n$/);
	const {stdout} = await run('python3', ['-c', onTerminalQuit, bin, 'run', '-c', config, '--', 'python3', '-c', countingQuits]);
	t.regex(stdout, /SIGQUIT 1\n$/, stdout);
});
