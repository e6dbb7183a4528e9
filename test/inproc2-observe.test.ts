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
