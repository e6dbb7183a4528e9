import {spawn} from 'node:child_process';
import {readdirSync, readFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {scratchDirectory, temporaryEntries} from './helpers/files.js';
import {echoServerPath} from './helpers/servers.js';

const module = path.resolve('dist/ts/comux/index.js');

/** The processes whose environment holds TMPDIR=`temporary`. */
function serversWith(temporary: string): string[] {
	return readdirSync('/proc').filter(name => /^\d+$/.test(name)).filter(pid => {
		try {
			return readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(`TMPDIR=${temporary}`);
		} catch {
			return false;
		}
	});
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
	test(`${signal} to a script whose fork server is idle stops the server and ends the script by ${signal}, as without pdi, leaving nothing behind`, async t => {
		// Before: the server was stopped and the script exited 0, which a caller read as success.
		const temporary = scratchDirectory('pdi-comux-fork-signal-');
		const source = [
			`import {comux, startComuxForkServer} from ${JSON.stringify(module)};`,
			`const forks = startComuxForkServer([${JSON.stringify(echoServerPath)}, 'epoll', '0'], {env: {...process.env, ECHO_QUIET: '1'}});`,
			'const result = await forks.replay(comux().conn(0, \'ping\\n\', {awaitResponse: true}).bytes());',
			'console.log(`replayed ${result.status} ${result.stdout.toString().trim()}`);',
		].join('\n');
		const script = spawn(process.execPath, ['--input-type=module', '-e', source], {env: {...process.env, TMPDIR: temporary}, stdio: ['ignore', 'pipe', 'pipe']});
		let stdout = '';
		let stderr = '';
		script.stderr.on('data', (chunk: Buffer) => {
			stderr += chunk.toString();
		});
		const end = new Promise<{code: number | null; signal: NodeJS.Signals | null}>(resolve => {
			script.once('exit', (code, ended) => {
				resolve({code, signal: ended});
			});
		});
		script.stdout.on('data', (chunk: Buffer) => {
			stdout += chunk.toString();
			if (stdout.includes('\n')) {
				script.kill(signal);
			}
		});
		const {code, signal: ended} = await end;
		t.is(stdout, 'replayed 0 ping\n', stderr);
		t.deepEqual({code, signal: ended}, {code: null, signal}, stderr);
		t.deepEqual(temporaryEntries(temporary), []);
		// The server ran with TMPDIR as its own: a process of it still running has it in its environment.
		t.deepEqual(serversWith(temporary), []);
	});
}
