import {spawn, spawnSync, type ChildProcess} from 'node:child_process';
import {chmodSync, existsSync, mkdirSync, readFileSync, readlinkSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {setTimeout as delay} from 'node:timers/promises';
import test from 'ava';
import {cliPath} from './helpers/cli.js';
import {scratchDirectory, temporaryEntries} from './helpers/files.js';

const scratch = scratchDirectory('pdi-leftovers-');
const config = path.join(scratch, 'empty.yaml');
writeFileSync(config, 'rules: []\n');

/** `pdi run` of a shell that notes its PID in `pidFile` and sleeps, with `tmp` as TMPDIR; resolves once it runs. */
async function startRun(tmp: string, pidFile: string): Promise<ChildProcess> {
	const child = spawn(process.execPath, [cliPath, 'run', '-c', config, '--', '/bin/sh', '-c', `echo $$ > ${pidFile}; exec sleep 60`], {env: {...process.env, TMPDIR: tmp}, stdio: 'ignore'});
	for (let waited = 0; !existsSync(pidFile) || readFileSync(pidFile, 'utf8') === ''; waited++) {
		if (waited > 300) {
			throw new Error('the program did not start');
		}

		await delay(50);
	}

	return child;
}

async function ended(child: ChildProcess): Promise<void> {
	if (child.exitCode === null && child.signalCode === null) {
		await new Promise(resolve => child.once('exit', resolve));
	}
}

test('the temporary directory of a pdi killed by SIGKILL is removed by the next pdi, a live pdi\'s and another PID namespace\'s are not', async t => {
	const tmp = path.join(scratch, 'tmp');
	mkdirSync(tmp);
	const killed = await startRun(tmp, path.join(scratch, 'killed.pid'));
	const live = await startRun(tmp, path.join(scratch, 'live.pid'));
	const programs = ['killed.pid', 'live.pid'].map(name => Number(readFileSync(path.join(scratch, name), 'utf8')));
	try {
		const made = temporaryEntries(tmp).sort();
		t.is(made.length, 2);
		killed.kill('SIGKILL');
		await ended(killed);
		const leftover = made.find(name => name.includes(`-${killed.pid}_`))!;
		t.regex(leftover, /^pdi-run-\d+_[\da-z]+_[A-Za-z\d]{6}$/);
		t.true(existsSync(path.join(tmp, leftover)), 'SIGKILL leaves the directory');
		// Of a dead process with another PID namespace's mark: its maker may run there, unseen.
		const foreign = `pdi-run-${killed.pid}_zz_abcdef`;
		mkdirSync(path.join(tmp, foreign));

		const next = spawnSync(process.execPath, [cliPath, 'run', '-c', config, '--', 'true'], {env: {...process.env, TMPDIR: tmp}, encoding: 'utf8'});
		t.is(next.status, 0, next.stderr);
		t.deepEqual(temporaryEntries(tmp).sort(), made.filter(name => name !== leftover).concat(foreign).sort());
	} finally {
		for (const pid of programs) {
			try {
				process.kill(pid, 'SIGKILL');
			} catch {}
		}

		live.kill('SIGTERM');
		await ended(live);
	}

	t.deepEqual(temporaryEntries(tmp), [`pdi-run-${killed.pid}_zz_abcdef`]);
});

test('a relative TMPDIR gives the program absolute paths, so a child it executes after a cd is still instrumented (was: `... is gone`, uninstrumented)', t => {
	const cwd = path.join(scratch, 'relative');
	mkdirSync(path.join(cwd, 'tmp'), {recursive: true});
	const run = spawnSync(process.execPath, [cliPath, 'run', '-c', config, '--', 'sh', '-c', 'echo "$PDI_CONFIG"; cd /; sh -c "echo child"'], {cwd, env: {...process.env, TMPDIR: 'tmp'}, encoding: 'utf8'});
	t.is(run.status, 0, run.stderr);
	t.is(run.stderr, '');
	t.regex(run.stdout, new RegExp(`^${path.join(cwd, 'tmp')}/pdi-run-\\w+/pdi\\.cfg\\nchild\\n$`));
	t.deepEqual(temporaryEntries(path.join(cwd, 'tmp')), []);
});

test('a leftover that cannot be removed stops the removal of no other', t => {
	const tmp = path.join(scratch, 'stuck');
	mkdirSync(tmp);
	const namespace = Number(/\d+/.exec(readlinkSync('/proc/self/ns/pid'))![0]).toString(36);
	const dead = spawnSync('true').pid;
	const names = ['aaaaaa', 'bbbbbb', 'cccccc', 'dddddd'].map(suffix => `pdi-run-${dead}_${namespace}_${suffix}`);
	for (const name of names) {
		mkdirSync(path.join(tmp, name, 'sub'), {recursive: true});
		writeFileSync(path.join(tmp, name, 'sub', 'file'), '');
	}

	// Without CAP_DAC_OVERRIDE even root cannot empty a directory it may not write.
	const locked = path.join(tmp, names[1]!, 'sub');
	chmodSync(locked, 0o555);
	try {
		const dropped = '-dac_override,-dac_read_search';
		const run = spawnSync('setpriv', [`--inh-caps=${dropped}`, `--bounding-set=${dropped}`, '--', process.execPath, cliPath, 'run', '-c', config, '--', 'true'], {env: {...process.env, TMPDIR: tmp}, encoding: 'utf8'});
		t.is(run.status, 0, run.stderr);
		t.deepEqual(temporaryEntries(tmp), [names[1]]);
	} finally {
		chmodSync(locked, 0o755);
	}
});
