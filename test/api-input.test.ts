import {readdirSync} from 'node:fs';
import test from 'ava';
import {ConfigError} from '../src/ts/config/config-error.js';
import {PdiError, shown} from '../src/ts/errors.js';
import {attach, inspectProgram, runProgram, spawn, trace} from '../src/ts/index.js';
import {scratchDirectory, temporaryEntries} from './helpers/files.js';

/** Runs `body` with TMPDIR set to a fresh directory, which it returns for a look at what was left there. */
async function inTemporaryDirectory(body: () => Promise<void> | void): Promise<string[]> {
	const temporary = scratchDirectory('pdi-api-input-');
	const {TMPDIR: former} = process.env;
	process.env['TMPDIR'] = temporary;
	try {
		await body();
	} finally {
		if (former === undefined) {
			delete process.env['TMPDIR'];
		} else {
			process.env['TMPDIR'] = former;
		}
	}

	return temporaryEntries(temporary);
}

test.serial('a command that is not a string and arguments that are not an array of strings are a PdiError naming them, from spawn(), runProgram(), inspectProgram() and trace(), with nothing left behind', async t => {
	const left = await inTemporaryDirectory(async () => {
		const cases: Array<[command: unknown, args: unknown, message: string]> = [
			[5, [], 'command: expected a program name, got 5'],
			[undefined, [], 'command: expected a program name, got undefined'],
			['/bin/true', 'x', 'args: expected an array of strings, got \'x\''],
			['/bin/true', null, 'args: expected an array of strings, got null'],
			// The options where the arguments belong, as Node's spawn(command, options) would take them.
			['/bin/true', {stdio: 'inherit'}, 'args: expected an array of strings, got {"stdio":"inherit"}'],
			['/bin/true', ['a', 5], 'args[1]: expected a string, got 5'],
		];
		for (const [command, args, message] of cases) {
			const what = `${String(command)} ${JSON.stringify(args)}`;
			t.throws(() => spawn({}, command as string, args as string[]), {instanceOf: PdiError, message}, what);
			t.throws(() => trace(command as string, args as string[], {stdio: 'ignore'}), {instanceOf: PdiError, message}, what);
			await t.throwsAsync(runProgram(command as string, args as string[], {stdio: 'ignore'}), {instanceOf: PdiError, message}, what);
			await t.throwsAsync(inspectProgram(command as string, args as string[]), {instanceOf: PdiError, message}, what);
		}
	});
	t.deepEqual(left, []);
});

test.serial('inspectProgram() refuses an option it does not know and a value of the wrong type with a PdiError naming it, before anything starts, as runProgram() does', async t => {
	const cases: Array<[options: unknown, message: RegExp | string]> = [
		[{import: 'libc.so.6'}, /^unknown option 'import' \(did you mean 'imports'\?\); the options are imports, run, env, cwd, timeout, configs, onReport$/],
		[{imports: 5}, 'imports: expected an object pattern ($main, a soname or file name, a path or a glob), got 5'],
		[{run: 'yes'}, 'run: expected true or false, got \'yes\''],
		[{timeout: -1}, 'timeout: expected a number of milliseconds (1 to 2147483647), got -1'],
		[{timeout: '100'}, 'timeout: expected a number of milliseconds (1 to 2147483647), got \'100\''],
		[{configs: 'pdi.yaml'}, 'configs: expected an array of config file names, got \'pdi.yaml\''],
		[{run: true, onReport: 'print'}, 'onReport: expected a function, got \'print\''],
		[null, 'options: expected an object, got null'],
	];
	const left = await inTemporaryDirectory(async () => {
		for (const [options, message] of cases) {
			await t.throwsAsync(inspectProgram('/bin/true', [], options as never), {instanceOf: PdiError, message}, JSON.stringify(options));
		}
	});
	t.deepEqual(left, []);
	// Options left out are fine.
	const {exitCode} = await inspectProgram('/bin/true', [], {imports: undefined, run: true});
	t.is(exitCode, 0);
});

test.serial('spawn() refuses options that are not an object, a cwd or env of the wrong type, and a Node spawn option of the wrong type with a PdiError naming the option, not the program, with nothing left behind', async t => {
	const cases: Array<[options: unknown, message: RegExp | string]> = [
		['x', 'options: expected an object (Node\'s spawn options), got \'x\''],
		[null, 'options: expected an object (Node\'s spawn options), got null'],
		[{cwd: 5}, 'cwd: expected a directory name, got 5'],
		[{env: 'PATH=/bin'}, 'env: expected an object of variables, got \'PATH=/bin\''],
		[{env: null}, 'env: expected an object of variables, got null'],
		// Node's own checks, after pdi's: its message names the option.
		[{shell: 5}, /^The "options\.shell" property must be .*Received type number \(5\)$/],
		[{detached: 'yes'}, /^The "options\.detached" property must be of type boolean/],
	];
	const left = await inTemporaryDirectory(() => {
		for (const [options, message] of cases) {
			t.throws(() => spawn({rules: [{act: {function: 'open', do: {count: true}}}]}, '/bin/true', [], options as never), {instanceOf: PdiError, message}, JSON.stringify(options));
		}
	});
	t.deepEqual(left, []);
});

test.serial('spawn() refuses a config that is null or undefined (a lost argument) with a ConfigError, as interpose() does, instead of running the program without interpositions', async t => {
	const directory = scratchDirectory('pdi-api-spawn-null-');
	const marker = `${directory}/ran`;
	const left = await inTemporaryDirectory(() => {
		for (const config of [null, undefined]) {
			t.throws(() => spawn(config as never, '/bin/touch', [marker], {stdio: 'ignore'}), {instanceOf: ConfigError, message: `config: expected a config object, got ${String(config)}`});
		}
	});
	t.deepEqual(left, []);
	// Give a program that did start the time to make its file.
	await new Promise(resolve => setTimeout(resolve, 300));
	t.deepEqual(readdirSync(directory), [], 'the program never ran');
});

test('attach() refuses an option it does not know and a value of the wrong type with a PdiError naming it, before it looks at the process', async t => {
	// A process id that no process has: the options are refused first.
	const pid = 0x7F_FF_FF_FF;
	const cases: Array<[options: unknown, message: RegExp | string]> = [
		[{configfiles: ['a.yaml']}, /^unknown option 'configfiles' \(did you mean 'configFiles'\?\); the options are configFiles, variables, thread$/],
		[{configFiles: 'a.yaml'}, 'configFiles: expected an array of config file names, got \'a.yaml\''],
		[{variables: {PDI_COUNT_OUTPUT: 5}}, 'variables: expected an object of variables with string values, got {"PDI_COUNT_OUTPUT":5}'],
		[{thread: 'main'}, 'thread: expected a thread id (a positive whole number), got \'main\''],
		[null, 'options: expected an object, got null'],
	];
	for (const [options, message] of cases) {
		await t.throwsAsync(attach(pid, {}, options as never), {instanceOf: PdiError, message}, JSON.stringify(options));
	}

	await t.throwsAsync(attach(pid, {}, {variables: {}}), {instanceOf: PdiError, message: `no such process: ${pid}`});
});

test('attach() refuses a pid that is not a process id with a PdiError quoting it, as pdi attach does, and takes no \'05\' for process 5', async t => {
	// Before: 'abc is not a process id', ' is not a process id' for '', and '05' attached to process 5.
	for (const pid of ['abc', '', '05', ' 7', 0, -3, 1.5, 2 ** 31, Number.NaN, null]) {
		await t.throwsAsync(attach(pid as never, {}), {instanceOf: PdiError, message: `pid: expected a process id (an integer from 1 to 2147483647), got ${shown(pid)}`}, String(pid));
	}
});

test('attach() refuses a config that is null (a lost argument) with a ConfigError, as spawn() and interpose() do, before it looks at the process', async t => {
	// Before: null was taken for an empty config, and the process got a session that installed nothing.
	await t.throwsAsync(attach(process.pid, null as never), {instanceOf: ConfigError, message: 'config: expected a config object, got null'});
	// Left out, the config comes from configFiles; with neither there is nothing to install.
	await t.throwsAsync(attach(process.pid), {instanceOf: PdiError, message: 'attach: no config to install'});
});

test('runProgram() and trace() name stdio when an entry of it is wrong, and take every form Node takes', async t => {
	// Before, Node's own words without the option: 'Asynchronous forks do not support Buffer, TypedArray, DataView or string input: 'bogus''.
	for (const stdio of [['pipe', 'bogus'], 'bogus', [0, 1.5, 2]] as const) {
		const expected = {instanceOf: PdiError, message: `stdio: expected 'pipe', 'inherit', 'ignore' or an array of them, file descriptors, streams or null (Node's stdio option), got ${shown(stdio)}`};

		await t.throwsAsync(runProgram('/bin/true', [], {stdio: stdio as never}), expected, JSON.stringify(stdio));
		t.throws(() => trace('/bin/true', [], {stdio: stdio as never}), expected, JSON.stringify(stdio));
	}

	for (const [name, stdio] of [['fds', ['ignore', 1, 2]], ['nulls', [null, undefined, 'pipe']], ['a stream', ['ignore', process.stderr, 'inherit']], ['a name', 'ignore']] as const) {
		t.is((await runProgram('/bin/true', [], {stdio: stdio as never})).status, 0, name);
	}
});
