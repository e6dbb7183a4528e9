import {spawn as spawnChild} from 'node:child_process';
import {openSync, readdirSync, statSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import type {Command} from '@commander-js/extra-typings';
import cliProgress from 'cli-progress';
import {compileConfig} from '../config/index.js';
import {comuxConfig, comuxVariables, runComux, type ComuxRunResult} from '../comux/replay.js';
import {PdiError} from '../errors.js';
import {checkPreloadable, resolveProgram} from '../inspect/program.js';
import {prepareConfig} from '../launch/prepared-config.js';
import {exitStatus} from '../launch/run.js';
import {preloadEnvironment} from '../launch/environment.js';

/** The verdict on one replay of `pdi comux replay`. */
export type ReplayVerdict = 'ok' | 'exit' | 'invalid' | 'crash' | 'hang';

/** One line of the `pdi comux replay` report. */
export type ReplayEntry = {
	file: string;
	verdict: ReplayVerdict;
	status: number | null;
	signal: string | null;
	durationMs: number;
	outputBytes: number;
};

function verdictOf(result: ComuxRunResult): ReplayVerdict {
	if (result.timedOut) {
		return 'hang';
	}

	if (result.signal) {
		return 'crash';
	}

	if (result.exitCode === 3 && /^pdi-comux: /m.test(result.stderr)) {
		return 'invalid';
	}

	return result.exitCode === 0 ? 'ok' : 'exit';
}

function requireServer(server: string[], usage: string): string[] {
	if (server.length === 0) {
		throw new PdiError(`missing SERVER (usage: ${usage})`);
	}

	return server;
}

/** Adds `run`, `replay` and `config` to the `pdi comux` command group. */
export function registerComuxReplayCommands(comux: Command): void {
	const runUsage = 'pdi comux run FILE -- SERVER [ARGS...]';
	comux.command('run')
		.description('replay one comux FILE (- for stdin) against SERVER; its replies go to stdout; exit with its status')
		.usage('FILE -- SERVER [ARGS...]')
		.option('--no-wait', 'send every chunk without waiting for replies in between (PDI_COMUX_NO_WAIT)')
		.option('--log <file>', 'backend log: stderr or a file (PDI_COMUX_LOG)')
		.argument('<file>', 'the comux file, or - for stdin')
		.argument('[server...]', 'the server command and its arguments (after --)')
		.action(async (file, server, options) => {
			const [command = '', ...args] = requireServer(server, runUsage);
			const program = resolveProgram(command);
			checkPreloadable(program, command);
			const prepared = prepareConfig(comuxConfig());
			const environment = {...preloadEnvironment(process.env, prepared.file), ...comuxVariables({noWait: !options.wait, log: options.log})};

			const input = file === '-' ? 'inherit' : openSync(file, 'r');
			try {
				process.exitCode = await new Promise<number>((resolve, reject) => {
					const child = spawnChild(program, args, {argv0: command, env: environment, stdio: [input, 'inherit', 'inherit']});
					child.once('error', reject);
					child.once('exit', (code, signal) => resolve(exitStatus(code, signal)));
				});
			} finally {
				prepared.remove();
			}
		});

	const replayUsage = 'pdi comux replay DIR -- SERVER [ARGS...]';
	comux.command('replay')
		.description('replay every file of DIR against a fresh SERVER process each; report status, time and output size per file')
		.usage('DIR [--json] [--timeout MS] -- SERVER [ARGS...]')
		.option('--json', 'print the report as JSON')
		.option('--timeout <ms>', 'kill a replay that runs longer (a hang)', '10000')
		.option('--no-progress', 'no progress bar')
		.argument('<dir>', 'a directory of comux files')
		.argument('[server...]', 'the server command and its arguments (after --)')
		.action(async (directory, server, options) => {
			requireServer(server, replayUsage);
			const timeout = Number(options.timeout);
			if (!Number.isFinite(timeout) || timeout <= 0) {
				throw new PdiError(`--timeout: expected a number of milliseconds, got '${options.timeout}'`);
			}

			let files: string[];
			try {
				files = readdirSync(directory).sort().map(name => path.join(directory, name)).filter(file => statSync(file).isFile());
			} catch (error) {
				throw new PdiError(`${directory}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such directory' : (error as Error).message}`);
			}

			const showProgress = options.progress && process.stderr.isTTY && !process.env['CI'];
			const bar = showProgress ? new cliProgress.SingleBar({format: 'replay [{bar}] {value}/{total} {file}', stream: process.stderr}, cliProgress.Presets.shades_classic) : undefined;
			bar?.start(files.length, 0, {file: ''});
			const report: ReplayEntry[] = [];
			for (const file of files) {
				bar?.update(report.length, {file: path.basename(file)});
				const result = await runComux(server, file, {timeout});
				report.push({
					file,
					verdict: verdictOf(result),
					status: result.status,
					signal: result.signal,
					durationMs: Math.round(result.durationMs),
					outputBytes: result.stdout.length,
				});
			}

			bar?.update(report.length, {file: ''});
			bar?.stop();
			const failures = report.filter(entry => entry.verdict === 'crash' || entry.verdict === 'hang');
			if (options.json) {
				process.stdout.write(JSON.stringify({server, files: report, crashes: failures.length}, null, 2) + '\n');
			} else {
				const width = Math.max(4, ...report.map(entry => path.basename(entry.file).length));
				const lines = [`${'FILE'.padEnd(width)}  VERDICT  STATUS  SIGNAL   TIME(ms)  OUTPUT`];
				for (const entry of report) {
					lines.push(`${path.basename(entry.file).padEnd(width)}  ${entry.verdict.padEnd(7)}  ${String(entry.status ?? '-').padEnd(6)}  ${(entry.signal ?? '-').padEnd(7)}  ${String(entry.durationMs).padStart(8)}  ${entry.outputBytes}`);
				}

				const counts = new Map<ReplayVerdict, number>();
				for (const entry of report) {
					counts.set(entry.verdict, (counts.get(entry.verdict) ?? 0) + 1);
				}

				lines.push('', `${report.length} files: ${[...counts].map(([verdict, count]) => `${count} ${verdict}`).join(', ')}`);
				process.stdout.write(lines.join('\n') + '\n');
			}

			process.exitCode = failures.length > 0 ? 1 : 0;
		});

	comux.command('config')
		.description('write the compiled config that installs comux-accept (for PDI_CONFIG, e.g. with AFL_PRELOAD)')
		.option('-o, --output <file>', 'write to FILE instead of stdout')
		.action(options => {
			const text = compileConfig(comuxConfig());
			if (options.output) {
				writeFileSync(options.output, text);
			} else {
				process.stdout.write(text);
			}
		});
}
