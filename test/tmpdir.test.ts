import {execFile, spawn} from 'node:child_process';
import {chmodSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {cliPath, pdi} from './helpers/cli.js';
import {scratchDirectory, temporaryEntries} from './helpers/files.js';
import {fixBackend, fixtures} from './helpers/preload.js';

// Every CLI command runs with a private TMPDIR of its own; afterwards it must be empty,
// whether the command succeeded, failed or was interrupted.
const program = path.join(fixtures, 'now-pie/fixprog');
const echo = path.join(fixtures, 'echo/echoserver');
const inputs = scratchDirectory('pdi-tmpdir-inputs-');
const rules = path.join(inputs, 'rules.yaml');
writeFileSync(rules, `backends:\n  - {name: fix, library: ${fixBackend}}\nrules:\n  - relink: {object: $main, function: fix_add, backend: fix, wrapper: wrap_fix_add}\n`);
const badRules = path.join(inputs, 'bad.yaml');
writeFileSync(badRules, 'backends:\n  - {name: fix, library: /no/such/backend.so}\n');
const failing = path.join(inputs, 'fail.sh');
writeFileSync(failing, '#!/bin/sh\nexit 3\n');
chmodSync(failing, 0o755);
const input = path.join(inputs, 'input.comux');
const outputs = scratchDirectory('pdi-tmpdir-outputs-');

function privateTemporary(): string {
	return scratchDirectory('pdi-tmpdir-private-');
}

test.before(async () => {
	const built = await pdi(['comux', 'build', '--chunk', '0:hello', '-o', input]);
	if (built.code !== 0) {
		throw new Error(built.stderr);
	}
});

const cases: Array<[string, string[], number]> = [
	['pdi run with a config (success)', ['run', '-c', rules, '--', program], 0],
	['pdi run of a program that fails', ['run', '-c', rules, '--', failing], 3],
	['pdi run with a config whose backend is missing', ['run', '-c', badRules, '--', program], 2],
	['pdi run without a config', ['run', '--', program], 0],
	['pdi trace (success)', ['trace', '--', program], 0],
	['pdi trace --object of an object that is not loaded', ['trace', '--object', 'nothing.so', '--', program], 0],
	['pdi trace -o FILE', ['trace', '-o', path.join(outputs, 'trace.txt'), '--', program], 0],
	['pdi trace into a missing directory', ['trace', '-o', '/nonexistent/x', '--', program], 2],
	['pdi inspect (success)', ['inspect', '--', program], 0],
	['pdi inspect -c CONFIG --run', ['inspect', '-c', rules, '--run', '--', program], 0],
	['pdi inspect --imports matching nothing', ['inspect', '-c', rules, '--imports', 'nothing.so', '--', program], 1],
	['pdi inspect of a missing program', ['inspect', '--', '/no/such/program'], 2],
	['pdi paths', ['paths'], 0],
	['pdi config check', ['config', 'check', rules], 0],
	['pdi config check of a bad config', ['config', 'check', badRules], 2],
	['pdi config compile', ['config', 'compile', rules], 0],
	['pdi config schema', ['config', 'schema'], 0],
	['pdi comux show', ['comux', 'show', input], 0],
	['pdi comux config', ['comux', 'config'], 0],
	['pdi comux run', ['comux', 'run', input, '--', echo, 'epoll', '0'], 0],
];

for (const [what, args, status] of cases) {
	test(`${what} leaves its private TMPDIR empty`, async t => {
		const temporary = privateTemporary();
		const result = await pdi(args, {env: {...process.env, TMPDIR: temporary}});
		t.is(result.code, status, result.stderr);
		t.deepEqual(temporaryEntries(temporary), []);
	});
}

/** Starts `pdi args` with a private TMPDIR, waits for `ready` on its stdout, sends `signal` and returns its exit status and what TMPDIR held before and after. */
async function interrupted(args: readonly string[], signal: NodeJS.Signals): Promise<{code: number | null; during: string[]; after: string[]}> {
	const temporary = privateTemporary();
	const child = spawn(process.execPath, [cliPath, ...args], {env: {...process.env, TMPDIR: temporary}, stdio: ['ignore', 'pipe', 'inherit']});
	await new Promise<void>(resolve => {
		let stdout = '';
		child.stdout.on('data', (chunk: Buffer) => {
			stdout += chunk.toString();
			if (stdout.includes('ready')) {
				resolve();
			}
		});
	});
	const during = temporaryEntries(temporary);
	child.kill(signal);
	const code = await new Promise<number | null>(resolve => child.once('exit', code => resolve(code)));
	return {code, during, after: temporaryEntries(temporary)};
}

test('a SIGTERM to pdi run reaches the program, then pdi removes its files and exits 143', async t => {
	const result = await interrupted(['run', '-c', rules, '--', '/bin/sh', '-c', 'echo ready; exec sleep 30'], 'SIGTERM');
	t.true(result.during.some(name => name.startsWith('pdi-run-')), result.during.join(' '));
	t.is(result.code, 143);
	t.deepEqual(result.after, []);
});

test('a SIGINT to pdi trace reaches the program, then pdi removes its files and exits 130', async t => {
	const result = await interrupted(['trace', '-o', path.join(outputs, 'interrupted.txt'), '--object', 'libc.so.6', '--', '/bin/sh', '-c', 'echo ready; exec sleep 30'], 'SIGINT');
	t.true(result.during.length > 0);
	t.is(result.code, 130);
	t.deepEqual(result.after, []);
});

test('a SIGTERM to pdi inspect --run reaches the program, then pdi removes its files and exits 143', async t => {
	const result = await interrupted(['inspect', '-c', rules, '--run', '-o', path.join(outputs, 'report.txt'), '--', '/bin/sh', '-c', 'echo ready; exec sleep 30'], 'SIGTERM');
	t.true(result.during.length > 0);
	t.is(result.code, 143);
	t.deepEqual(result.after, []);
});

test('the test helpers remove their scratch directories when the test process exits', async t => {
	const temporary = privateTemporary();
	const script = `import {scratchDirectory} from ${JSON.stringify(path.resolve('test/helpers/files.ts'))};\nconst d = scratchDirectory('pdi-helper-');\nconsole.log(d);\nprocess.exitCode = 1;`;
	const printed = await new Promise<string>((resolve, reject) => {
		execFile(process.execPath, ['--import', 'tsx/esm', '--input-type=module', '-e', script], {env: {...process.env, TMPDIR: temporary}}, (error, stdout) => {
			if (error && error.code !== 1) {
				// eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- an Error that @types/node types with Omit<>
				reject(error);
			} else {
				resolve(stdout.trim());
			}
		});
	});
	t.true(printed.startsWith(path.join(temporary, 'pdi-helper-')), printed);
	t.deepEqual(temporaryEntries(temporary).filter(name => name.startsWith('pdi-')), []);
});
