/**
 * bench/comux: replays per second of one multi-connection comux file, one
 * fresh server process per replay, on the echo fixture and on nginx.
 * Run with `npm run bench:comux` (add `--json` for machines).
 */
import {execFileSync} from 'node:child_process';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {comux} from '../../src/ts/comux/builder.js';
import {runComux} from '../../src/ts/comux/replay.js';
import {echoServerPath, freePort, nginxCommand, webRoot} from '../../test/helpers/servers.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const replays = Number(process.env['BENCH_REPLAYS'] ?? 40);
const json = process.argv.includes('--json');

execFileSync('make', ['-s', '-C', path.join(root, 'test/fixtures'), '-j2'], {stdio: 'inherit'});

const echoInput = comux()
	.conn(0, 'hello ', {awaitResponse: true})
	.conn(1, 'second connection\n', {awaitResponse: true})
	.conn(0, 'world\n')
	.conn(2, 'x'.repeat(16_384))
	.conn(1, 'bye\n')
	.bytes();

const httpInput = comux()
	.conn(0, 'GET /hello.txt HTTP/1.0\r\n\r\n', {awaitResponse: true})
	.conn(1, 'GET /index.html HTTP/1.0\r\n\r\n', {awaitResponse: true})
	.conn(2, 'GET /nothing HTTP/1.0\r\n\r\n', {awaitResponse: true})
	.bytes();

/** HTTP replies differ only in their Date header from one second to the next. */
const comparable = (output: Buffer) => output.toString('latin1').replaceAll(/^Date: .*$/gm, 'Date:');

type Result = {target: string; replays: number; perSecond: number; msPerReplay: number; outputBytes: number};

async function measure(target: string, server: string[], input: Uint8Array, env: NodeJS.ProcessEnv): Promise<Result> {
	const first = await runComux(server, input, {env, exitImmediate: true});
	if (first.status !== 0 || first.stdout.length === 0) {
		throw new Error(`bench:comux: ${target}: the replay failed (status ${first.status}): ${first.stderr}`);
	}

	const started = performance.now();
	for (let index = 0; index < replays; index++) {
		const result = await runComux(server, input, {env, exitImmediate: true});
		if (result.status !== 0 || comparable(result.stdout) !== comparable(first.stdout)) {
			throw new Error(`bench:comux: ${target}: replay ${index} differs from the first (status ${result.status})`);
		}
	}

	const seconds = (performance.now() - started) / 1000;
	return {target, replays, perSecond: replays / seconds, msPerReplay: (seconds * 1000) / replays, outputBytes: first.stdout.length};
}

const nginx = nginxCommand(webRoot(), await freePort());
const results = [
	await measure('echo (epoll)', [echoServerPath, 'epoll', '0'], echoInput, {...process.env, ECHO_QUIET: '1'}),
	await measure('nginx', [nginx.command, ...nginx.args], httpInput, process.env),
];

if (json) {
	process.stdout.write(JSON.stringify({replays, results}, null, 2) + '\n');
} else {
	process.stdout.write(`comux replay benchmark (${replays} replays each, a fresh server process per replay, PDI_COMUX_EXIT_IMMEDIATE)\n`);
	process.stdout.write('target          replays/s   ms/replay   output bytes\n');
	for (const result of results) {
		process.stdout.write(`${result.target.padEnd(14)}  ${result.perSecond.toFixed(1).padStart(9)}   ${result.msPerReplay.toFixed(1).padStart(9)}   ${String(result.outputBytes).padStart(12)}\n`);
	}
}

process.exit(0);
