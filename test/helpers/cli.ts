import {execFile, spawn, type ChildProcess} from 'node:child_process';
import {readdirSync, readFileSync, readlinkSync} from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import type {ExecutionContext} from 'ava';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const cliPath = path.join(root, 'dist/cli/pdi.js');

export type CliResult = {code: number; stdout: string; stderr: string};

/** Runs the built `pdi` CLI (dist/cli/pdi.js, the package's bin) the way a user would. */
export async function pdi(args: readonly string[], options: {env?: NodeJS.ProcessEnv; cwd?: string; timeout?: number} = {}): Promise<CliResult> {
	return new Promise(resolve => {
		execFile(process.execPath, [cliPath, ...args], {
			cwd: options.cwd ?? root,
			env: options.env ?? process.env,
			timeout: options.timeout ?? 60_000,
			maxBuffer: 64 * 1024 * 1024,
		}, (error, stdout, stderr) => {
			const code = error ? (typeof error.code === 'number' ? error.code : 128) : 0;
			resolve({code, stdout, stderr});
		});
	});
}

/** `pdi config check CONFIG` and `pdi run -c CONFIG -- /bin/true` both exit 2 and print `expected`: the check
 * refuses what the run would (docs/config.md). */
export async function refusedByCheckAndRun(t: ExecutionContext, config: string, expected: string): Promise<void> {
	for (const args of [['config', 'check', config], ['run', '-c', config, '--', '/bin/true']]) {
		const result = await pdi(args);
		t.deepEqual([result.code, result.stderr], [2, expected], args[0]);
	}
}

/**
 * Runs pdi as root without the capabilities that let root read any file (CAP_DAC_OVERRIDE and
 * CAP_DAC_READ_SEARCH): a file another user owns is then as closed to it as to any user, while the checkout,
 * root's, stays reachable wherever it is (a mode 0700 temporary directory included, as CI's scratch clone).
 */
export async function pdiWithoutReadOverride(args: readonly string[], options: {env?: NodeJS.ProcessEnv} = {}): Promise<CliResult> {
	const dropped = '-dac_override,-dac_read_search';
	return new Promise(resolve => {
		execFile('setpriv', [`--inh-caps=${dropped}`, `--bounding-set=${dropped}`, '--', process.execPath, cliPath, ...args], {cwd: '/', env: options.env ?? process.env}, (error, stdout, stderr) => {
			resolve({code: error ? (typeof error.code === 'number' ? error.code : 128) : 0, stdout, stderr});
		});
	});
}

/** The owner that a file under test gets when no user but its owner may read it: nobody. */
export const otherUser = {uid: 65_534, gid: 65_534};

/** A `pdi` started in the background by {@link startPdi}. */
export type BackgroundPdi = {child: ChildProcess; stderr: () => string; exited: Promise<number | null>};

/** What a child writes on its piped stdout and stderr, as it comes, and its exit code once it has closed them. */
export function collectOutput(child: ChildProcess): {stdout: () => string; stderr: () => string; closed: Promise<number | null>} {
	let stdout = '';
	let stderr = '';
	child.stdout?.on('data', (chunk: Buffer) => {
		stdout += chunk.toString();
	});
	child.stderr?.on('data', (chunk: Buffer) => {
		stderr += chunk.toString();
	});
	const closed = new Promise<number | null>(resolve => {
		child.once('close', code => {
			resolve(code);
		});
	});
	return {stdout: () => stdout, stderr: () => stderr, closed};
}

/** Starts the built `pdi` CLI in the background, stdin and stdout ignored: to signal it while it runs. */
export function startPdi(args: readonly string[], env: NodeJS.ProcessEnv = process.env): BackgroundPdi {
	const child = spawn(process.execPath, [cliPath, ...args], {env, stdio: ['ignore', 'ignore', 'pipe']});
	let stderr = '';
	child.stderr.on('data', (chunk: Buffer) => {
		stderr += chunk.toString();
	});
	const exited = new Promise<number | null>(resolve => {
		child.once('exit', code => {
			resolve(code);
		});
	});
	return {child, stderr: () => stderr, exited};
}

/** Whether process `pid` has the FIFO `file` open, or a thread of it waits in open() for a writer of a FIFO. */
export function waitsForWriter(pid: number, file: string): boolean {
	const each = (directory: string, test: (entry: string) => boolean) => {
		try {
			return readdirSync(directory).some(entry => {
				try {
					return test(entry);
				} catch {
					return false;
				}
			});
		} catch {
			return false;
		}
	};

	return each(`/proc/${pid}/fd`, fd => readlinkSync(`/proc/${pid}/fd/${fd}`) === file)
		|| each(`/proc/${pid}/task`, task => readFileSync(`/proc/${pid}/task/${task}/wchan`, 'utf8') === 'wait_for_partner');
}
