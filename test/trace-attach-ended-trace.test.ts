// A pdi trace killed without detaching leaves its trace in the program, inert: the next attach (pdi trace -p, pdi attach)
// closes it, as its own end would have, and takes its place.
import {spawn} from 'node:child_process';
import {readFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {cliPath, pdi, startPdi} from './helpers/cli.js';
import {compileC, scratchDirectory} from './helpers/files.js';
import {until} from './helpers/until.js';

const scratch = scratchDirectory('pdi trace ended trace ');
const looping = compileC(scratch, 'looping', `#include <string.h>
#include <unistd.h>
int main(void) {
  const char *volatile text = "x";
  for (int i = 0; i < 3000; i++) {
    if (strlen(text) != 1)
      return 1;
    usleep(10000);
  }
  return 0;
}
`);

test('pdi trace -p of a process whose pdi trace was killed replaces that trace, and the process runs on after the detach', async t => {
	const output = path.join(scratch, 'first.txt');
	const first = spawn(process.execPath, [cliPath, 'trace', '-o', output, '--', looping], {stdio: 'ignore'});
	t.teardown(() => first.kill('SIGKILL'));
	t.true(await until(() => readFileSync(output, {encoding: 'utf8', flag: 'a+'}).includes('strlen'), 20_000));
	const program = Number(readFileSync(output, 'utf8').split(' ', 1)[0]);
	t.teardown(() => {
		try {
			process.kill(program, 'SIGKILL');
		} catch {}
	});
	// While its pdi trace runs, the trace is that one's.
	const refused = await pdi(['trace', '-p', String(program), '-e', 'strlen']);
	t.deepEqual([refused.code, refused.stderr], [2, `pdi: process ${program} is traced already (by pdi trace, trace() or observe()): one trace at a time in a process, and nothing was changed in it; its calls are in that trace\n`]);
	first.kill('SIGKILL');
	await new Promise(resolve => first.once('exit', resolve));
	// Before: refused, "keeps the trace of a pdi trace that has ended (...): restart it to trace it again".
	for (const round of ['second', 'third']) {
		const again = path.join(scratch, `${round}.txt`);
		const attached = startPdi(['trace', '-p', String(program), '-e', 'strlen', '-o', again]);
		t.true(await until(() => readFileSync(again, {encoding: 'utf8', flag: 'a+'}).includes('looping!strlen("x") = 1'), 20_000), attached.stderr());
		attached.child.kill('SIGINT');
		t.is(await attached.exited, 0, attached.stderr());
		t.regex(attached.stderr(), /pdi: detached from process \d+/);
		t.notRegex(attached.stderr(), /warning|error/);
		// Only what -e names: the call in flight when the attach closed the killed trace (usleep) was written into the
		// new trace, unfiltered.
		const lines = readFileSync(again, 'utf8').trim().split('\n');
		t.deepEqual(lines.filter(line => !line.includes('looping!strlen("x") = 1')), [], round);
	}

	const lines = readFileSync(output, 'utf8').split('\n').length;
	process.kill(program, 0);
	t.is(readFileSync(output, 'utf8').split('\n').length, lines, 'the killed trace wrote nothing more');
});
