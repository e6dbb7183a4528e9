import {spawn} from 'node:child_process';
import {rmSync} from 'node:fs';
import test from 'ava';
import {temporaryDirectory} from '../src/ts/launch/temporary.js';
import {scratchDirectory} from './helpers/files.js';

test('removing a temporary directory that a program outliving pdi still fills never throws (Node printed a stack trace as it exited)', async t => {
	const directory = temporaryDirectory('pdi-busy-', scratchDirectory('pdi-busy-parent-'));
	const writer = spawn('sh', ['-c', 'i=0; while :; do : > "$0/file$i" 2>/dev/null || exit 0; i=$((i+1)); done', directory.path], {stdio: 'ignore'});
	const exited = new Promise(resolve => writer.once('exit', resolve));
	t.teardown(async () => {
		writer.kill('SIGKILL');
		await exited;
		rmSync(directory.path, {recursive: true, force: true});
	});
	await new Promise(resolve => setTimeout(resolve, 200));
	t.notThrows(() => {
		directory.remove();
	});
});
