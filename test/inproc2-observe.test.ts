import {spawnSync} from 'node:child_process';
import {writeFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {observe, PdiError} from '../src/ts/index.js';
import {scratchDirectory} from './helpers/files.js';

test.serial('an error in the file of the prototypes option names the option before the file\'s place, and leaves no observation open', t => {
	const directory = scratchDirectory('pdi-inproc2-prototypes-');
	const file = path.join(directory, 'bad.h');
	writeFileSync(file, 'int ok(int a);\nint point_x(struct point p);\n');
	// Before the fix: "FILE:2:13: 'struct point' passed by value ...", without the option's name.
	t.throws(() => observe({prototypes: file}, () => undefined), {instanceOf: PdiError, message: `prototypes: ${file}:2:13: 'struct point' passed by value cannot be decoded (pass a pointer, or declare it void *)`});
	const missing = path.join(directory, 'missing.h');
	t.throws(() => observe({prototypes: missing}, () => undefined), {instanceOf: PdiError, message: `prototypes: ${missing}: no such file or directory`});
	observe({functions: 'getpid'}, () => undefined).close();
});

const unseen = (name: string) => new RegExp(`^pdi: trace: ${name}: process ${process.pid} has no call site of it to trace \\(`);

test.serial('observe() hands the trace backend\'s notices to onNotice at close(): a function named plainly that this process has no call site of', t => {
	const notices: string[] = [];
	const observation = observe({functions: ['getpid', 'no_such_function_xyz']}, () => undefined, message => notices.push(message));
	process.kill(process.pid, 0);
	t.deepEqual(notices, []);
	observation.close();
	// Before the fix the backend's notice went nowhere (observe() had no place for it, and there was no onNotice).
	t.is(notices.length, 1, notices.join('\n'));
	t.regex(notices[0]!, unseen('no_such_function_xyz'));
	observation.close();
	t.is(notices.length, 1);
});

test.serial('observe() without onNotice writes the notices to stderr, as pdi trace does; an onNotice that is not a function is refused', t => {
	t.throws(() => observe({}, () => undefined, 'log' as never), {instanceOf: PdiError, message: 'onNotice: expected a function, got \'log\''});
	const script = [
		`import {observe} from ${JSON.stringify(path.resolve('dist/ts/index.js'))};`,
		'observe({functions: [\'no_such_function_xyz\']}, () => {}).close();',
		'process.stderr.write(\'closed\\n\');',
	].join('\n');
	const {status, stderr} = spawnSync(process.execPath, ['--input-type=module', '-e', script], {encoding: 'utf8'});
	t.is(status, 0, stderr);
	const lines = stderr.split('\n');
	t.is(lines.length, 3, stderr);
	t.regex(lines[0]!, /^pdi: trace: no_such_function_xyz: process \d+ has no call site of it to trace \(/);
	t.is(lines[1], 'closed');
});
