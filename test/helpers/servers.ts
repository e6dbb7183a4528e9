// Real network servers for the comux tests, and the plain client whose replies
// the comux-accept backend's output is compared with.
//
// - startEcho: the C echo server (test/fixtures/echo/echoserver.c)
// - nginxCommand / lighttpdCommand + startServer: Debian's nginx and lighttpd
//   in the foreground on 127.0.0.1, serving webRoot()
// - plainExchange: the plain client, from ./exchange.ts
import {spawn, type ChildProcess} from 'node:child_process';
import {existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, utimesSync, writeFileSync} from 'node:fs';
import net from 'node:net';
import {tmpdir, userInfo} from 'node:os';
import path from 'node:path';
import {sharedMemoryParent} from '../../src/ts/launch/temporary.js';
import {root} from './cli.js';

export {plainExchange, plainExchangeSteps, type ExchangeOptions, type Step} from './exchange.js';

export const echoServerPath = path.join(root, 'test/fixtures/out/echo/echoserver');
export const nginxPath = '/usr/sbin/nginx';
export const lighttpdPath = '/usr/sbin/lighttpd';

export const echoModes = ['accept', 'accept4', 'epoll', 'poll', 'select'] as const;
export type EchoMode = (typeof echoModes)[number];

/** How to start a server in the foreground: run `command args`; it listens on 127.0.0.1:port. */
export type ServerSpec = {
	command: string;
	args: string[];
	/** Fresh temporary directory holding the config, logs, pid file and temp paths. */
	directory: string;
	port: number;
};

export type ServerExit = {code: number | null; signal: NodeJS.Signals | null; output: string};

export type RunningServer = {
	port: number;
	pid: number;
	/** SIGTERM, then SIGKILL after 3 s; resolves once the process has exited. Idempotent. */
	stop: () => Promise<ServerExit>;
};

// ---- process bookkeeping -------------------------------------------------

const live = new Set<ChildProcess>();
let exitHook = false;

/** Servers still running when the test process exits are killed, never left behind. */
function track(child: ChildProcess): void {
	live.add(child);
	child.once('exit', () => live.delete(child));
	if (!exitHook) {
		exitHook = true;
		process.once('exit', () => {
			for (const running of live) {
				killGroup(running, 'SIGKILL');
			}
		});
	}
}

type Launched = {child: ChildProcess; output: () => string; exited: Promise<ServerExit>};

/**
 * Signals the server's process group: servers that fork a child per connection (busybox httpd, mini_httpd) leave
 * children holding the listening socket after their parent ended, and the next server on that port failed to bind.
 */
function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
	try {
		process.kill(-child.pid!, signal);
	} catch {
		// The group is gone.
	}
}

function launch(command: string, args: readonly string[], options: {env?: NodeJS.ProcessEnv; cwd?: string}): Launched {
	const child = spawn(command, args, {
		cwd: options.cwd ?? root,
		env: options.env ?? process.env,
		stdio: ['ignore', 'pipe', 'pipe'],
		detached: true,
	});
	track(child);
	let text = '';
	const keep = (chunk: Buffer): void => {
		if (text.length < 64 * 1024) {
			text += chunk.toString('utf8');
		}
	};

	child.stdout?.on('data', keep);
	child.stderr?.on('data', keep);
	const exited = new Promise<ServerExit>(resolve => {
		child.once('error', error => {
			text += `${String(error)}\n`;
			resolve({code: null, signal: null, output: text});
		});
		child.once('exit', (code, signal) => {
			resolve({code, signal, output: text});
		});
	});
	return {child, output: () => text, exited};
}

function stopper(launched: Launched): () => Promise<ServerExit> {
	let stopping: Promise<ServerExit> | undefined;
	return async () => {
		stopping ??= (async () => {
			const {child} = launched;
			if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
				killGroup(child, 'SIGTERM');
				const timer = setTimeout(() => {
					killGroup(child, 'SIGKILL');
				}, 3000);
				const exit = await launched.exited;
				clearTimeout(timer);
				killGroup(child, 'SIGKILL');
				return exit;
			}

			const exit = await launched.exited;
			if (child.pid !== undefined) {
				killGroup(child, 'SIGKILL');
			}

			return exit;
		})();
		return stopping;
	};
}

async function delay(ms: number): Promise<void> {
	return new Promise(resolve => {
		setTimeout(resolve, ms);
	});
}

// ---- the echo server -----------------------------------------------------

/** The command line that runs the echo server on `port` (0 = ephemeral; it prints `listening on N`). */
export function echoCommand(mode: EchoMode, port = 0): {command: string; args: string[]} {
	return {command: echoServerPath, args: [mode, String(port)]};
}

/** Starts the echo server (port 0 unless given) and waits for its `listening on N` line. */
export async function startEcho(mode: EchoMode, options: {port?: number; env?: NodeJS.ProcessEnv; timeoutMs?: number} = {}): Promise<RunningServer> {
	if (!existsSync(echoServerPath)) {
		throw new Error(`${echoServerPath} is missing: run \`make -s -C test/fixtures\` first`);
	}

	const {command, args} = echoCommand(mode, options.port ?? 0);
	const launched = launch(command, args, {env: options.env});
	const stop = stopper(launched);
	const timeoutMs = options.timeoutMs ?? 5000;
	try {
		const port = await new Promise<number>((resolve, reject) => {
			let seen = '';
			const timer = setTimeout(() => {
				reject(new Error(`echoserver ${mode} did not report its port within ${timeoutMs} ms: ${launched.output()}`));
			}, timeoutMs);
			launched.child.stdout?.on('data', (chunk: Buffer) => {
				seen += chunk.toString('utf8');
				const match = /^listening on (\d+)$/m.exec(seen);
				if (match?.[1] !== undefined) {
					clearTimeout(timer);
					resolve(Number(match[1]));
				}
			});
			void launched.exited.then(exit => {
				clearTimeout(timer);
				reject(new Error(`echoserver ${mode} exited (code ${exit.code}, signal ${exit.signal}) before listening: ${exit.output}`));
			});
		});
		return {port, pid: launched.child.pid!, stop};
	} catch (error) {
		await stop();
		throw error;
	}
}

// ---- nginx and lighttpd --------------------------------------------------

const asRoot = process.getuid?.() === 0;

/** A double-quoted string for nginx and lighttpd configs. */
function quote(text: string): string {
	return `"${text.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

/**
 * nginx in the foreground (single process, no daemon) on 127.0.0.1:port
 * serving `webRoot`; its config, error.log, pid file and temp paths live in a
 * fresh temporary directory. With `workers`, a master process and that many
 * worker processes; with `daemon` too, nginx as shipped: the master
 * daemonizes (forks, leaves its session, the started process exits 0).
 * Started as root, its workers run as root too, unless `shippedUser`: then
 * as nginx's default user, nobody.
 */
export function nginxCommand(webRoot: string, port: number, options: {daemon?: boolean; workers?: number; shippedUser?: boolean} = {}): ServerSpec {
	const directory = mkdtempSync(path.join(tmpdir(), 'pdi-nginx-'));
	const inDir = (name: string): string => quote(path.join(directory, name));
	const config = [
		...(asRoot && !options.shippedUser ? ['user root;'] : []),
		`master_process ${options.workers === undefined ? 'off' : 'on'};`,
		`daemon ${options.daemon ? 'on' : 'off'};`,
		`worker_processes ${options.workers ?? 1};`,
		`error_log ${inDir('error.log')};`,
		`pid ${inDir('nginx.pid')};`,
		'events {}',
		'http {',
		'\taccess_log off;',
		`\tclient_body_temp_path ${inDir('client_body_temp')};`,
		`\tproxy_temp_path ${inDir('proxy_temp')};`,
		`\tfastcgi_temp_path ${inDir('fastcgi_temp')};`,
		`\tuwsgi_temp_path ${inDir('uwsgi_temp')};`,
		`\tscgi_temp_path ${inDir('scgi_temp')};`,
		'\ttypes {',
		'\t\ttext/html html;',
		'\t\ttext/plain txt;',
		'\t}',
		'\tdefault_type application/octet-stream;',
		'\tserver {',
		`\t\tlisten 127.0.0.1:${port};`,
		`\t\troot ${quote(webRoot)};`,
		'\t}',
		'}',
		'',
	].join('\n');
	const file = path.join(directory, 'nginx.conf');
	writeFileSync(file, config);
	return {
		command: nginxPath,
		// -e: the log used before the config is read (otherwise /var/log/nginx/error.log)
		args: ['-p', directory + '/', '-e', path.join(directory, 'error.log'), '-c', file],
		directory,
		port,
	};
}

/**
 * lighttpd in the foreground (-D) on 127.0.0.1:port serving `webRoot`; its
 * config, error log, pid file and upload dir live in a fresh temporary
 * directory. No server.username: as root it simply keeps running as root.
 */
export function lighttpdCommand(webRoot: string, port: number): ServerSpec {
	const directory = mkdtempSync(path.join(tmpdir(), 'pdi-lighttpd-'));
	const config = [
		`server.document-root = ${quote(webRoot)}`,
		`server.port = ${port}`,
		'server.bind = "127.0.0.1"',
		`server.errorlog = ${quote(path.join(directory, 'error.log'))}`,
		`server.pid-file = ${quote(path.join(directory, 'lighttpd.pid'))}`,
		`server.upload-dirs = (${quote(directory)})`,
		'index-file.names = ("index.html")',
		'mimetype.assign = (".html" => "text/html", ".txt" => "text/plain")',
		'',
	].join('\n');
	const file = path.join(directory, 'lighttpd.conf');
	writeFileSync(file, config);
	return {command: lighttpdPath, args: ['-D', '-f', file], directory, port};
}

/** busybox httpd in the foreground (`-f`): it forks a child per connection. */
export function busyboxHttpdCommand(webRoot: string, port: number): ServerSpec {
	const directory = mkdtempSync(path.join(tmpdir(), 'pdi-busybox-'));
	return {command: '/usr/bin/busybox', args: ['httpd', '-f', '-p', `127.0.0.1:${port}`, '-h', webRoot], directory, port};
}

/** mini_httpd in the foreground (`-D`): it forks a child per connection; started as root it would become nobody, who cannot read the private web root. */
export function miniHttpdCommand(webRoot: string, port: number): ServerSpec {
	const directory = mkdtempSync(path.join(tmpdir(), 'pdi-mini-httpd-'));
	const args = ['-D', '-h', '127.0.0.1', '-p', String(port), '-d', webRoot, '-l', path.join(directory, 'access.log'), '-u', userInfo().username];
	return {command: '/usr/sbin/mini_httpd', args, directory, port};
}

/** webfsd in the foreground (`-F`): one process, select(). */
export function webfsdCommand(webRoot: string, port: number): ServerSpec {
	const directory = mkdtempSync(path.join(tmpdir(), 'pdi-webfsd-'));
	return {command: '/usr/bin/webfsd', args: ['-F', '-i', '127.0.0.1', '-p', String(port), '-r', webRoot, '-f', 'index.html'], directory, port};
}

/** Whether 127.0.0.1:port accepts a TCP connection now. */
export async function canConnect(port: number, host = '127.0.0.1'): Promise<boolean> {
	return new Promise(resolve => {
		const socket = net.connect({host, port});
		const done = (ok: boolean): void => {
			socket.destroy();
			resolve(ok);
		};

		socket.setTimeout(1000, () => done(false));
		socket.once('connect', () => done(true));
		socket.once('error', () => done(false));
	});
}

/**
 * Spawns `spec` and waits until its port accepts connections (a TCP connect
 * every 20 ms, up to timeoutMs = 5000). Rejects, with the server's output and
 * error.log, when it exits first or never listens.
 */
export async function startServer(
	spec: {command: string; args: readonly string[]; port: number; directory?: string},
	options: {env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number} = {},
): Promise<RunningServer> {
	const launched = launch(spec.command, spec.args, options);
	const stopServer = stopper(launched);
	// The next server of a test binds the same port: it is free when stop() returns.
	const stop = async (): Promise<ServerExit> => {
		const exit = await stopServer();
		await untilBindable(spec.port);
		return exit;
	};
	const describe = (why: string): Error => {
		const log = spec.directory === undefined ? '' : readLog(path.join(spec.directory, 'error.log'));
		return new Error(`${spec.command} ${why}\noutput: ${launched.output()}${log ? `\nerror.log: ${log}` : ''}`);
	};

	const exitedEarly = (): boolean => launched.child.exitCode !== null || launched.child.signalCode !== null || launched.child.pid === undefined;
	const deadline = Date.now() + (options.timeoutMs ?? 5000);
	for (;;) {
		const ok = await canConnect(spec.port);
		if (exitedEarly()) {
			await stop();
			throw describe(`exited before listening on 127.0.0.1:${spec.port}`);
		}

		if (ok) {
			return {port: spec.port, pid: launched.child.pid!, stop};
		}

		if (Date.now() >= deadline) {
			await stop();
			throw describe(`did not listen on 127.0.0.1:${spec.port} within ${options.timeoutMs ?? 5000} ms`);
		}

		await delay(20);
	}
}

function readLog(file: string): string {
	try {
		return readFileSync(file, 'utf8');
	} catch {
		return '';
	}
}

// ---- the static web root -------------------------------------------------

export const indexHtml = [
	'<!DOCTYPE html>',
	'<html lang="en">',
	'<head>',
	'<meta charset="utf-8">',
	'<title>pdi comux test page</title>',
	'</head>',
	'<body>',
	'<h1>pdi comux test page</h1>',
	'<p>This page is served by a real web server while pdi replays a recorded',
	'multi-connection conversation into it. Its content never changes, so the',
	'replies can be compared byte for byte.</p>',
	'</body>',
	'</html>',
	'',
].join('\n');

/** 200 KiB of deterministic text: numbered 64-byte lines. */
export function bigText(): string {
	const lines: string[] = [];
	for (let i = 0; i < 3200; i++) {
		const head = `line ${String(i).padStart(5, '0')}: `;
		const fill = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
		const shift = i % fill.length;
		lines.push((head + fill.slice(shift) + fill.slice(0, shift)).slice(0, 63) + '\n');
	}

	return lines.join('');
}

let webRootDirectory: string | undefined;

/**
 * A temporary directory (created once per process, removed at exit) with
 * index.html, hello.txt ("hello\n") and big.txt (200 KiB). The files' mtimes
 * are fixed (2020-01-01T00:00:00Z) so Last-Modified and ETag headers are
 * stable; the Date header is not.
 */
/**
 * The web root goes to /dev/shm when it is a writable tmpfs, else the temporary directory.
 * mini_httpd sends a file with one sendfile() call and does not go on after a short count, which
 * some file systems give for big files: big.txt came out cut where the CI machine's /tmp is.
 */
export function webRoot(): string {
	if (webRootDirectory !== undefined) {
		return webRootDirectory;
	}

	const directory = mkdtempSync(path.join(sharedMemoryParent(), 'pdi-www-'));
	const files: Record<string, string> = {'index.html': indexHtml, 'hello.txt': 'hello\n', 'big.txt': bigText()};
	const fixed = new Date('2020-01-01T00:00:00Z');
	for (const [name, text] of Object.entries(files)) {
		const file = path.join(directory, name);
		writeFileSync(file, text);
		utimesSync(file, fixed, fixed);
	}

	process.once('exit', () => {
		rmSync(directory, {recursive: true, force: true});
	});
	webRootDirectory = directory;
	return directory;
}

/** Waits (up to 3 s) until 127.0.0.1:port can be bound: a killed server's sockets close as its processes end. */
async function untilBindable(port: number): Promise<void> {
	const bindable = async (): Promise<boolean> => new Promise(resolve => {
		const server = net.createServer();
		server.once('error', () => {
			resolve(false);
		});
		server.listen(port, '127.0.0.1', () => {
			server.close(() => {
				resolve(true);
			});
		});
	});
	const deadline = Date.now() + 3000;
	while (!await bindable() && Date.now() < deadline) {
		await delay(20);
	}
}

/** An ephemeral port that was free a moment ago (listen on 0, read it, close). */
export async function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = net.createServer();
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const address = server.address();
			const port = typeof address === 'object' && address !== null ? address.port : 0;
			server.close(() => {
				if (port === 0) {
					reject(new Error('freePort: no port'));
				} else {
					resolve(port);
				}
			});
		});
	});
}

/**
 * Pids of live processes with a file under `directory` open (a ServerSpec's
 * directory: nginx's master and workers keep its error.log open, whatever
 * their command line says after setproctitle).
 */
export function processesHoldingFilesIn(directory: string): number[] {
	const found: number[] = [];
	for (const entry of readdirSync('/proc')) {
		if (!/^\d+$/.test(entry) || Number(entry) === process.pid) {
			continue;
		}

		try {
			for (const fd of readdirSync(`/proc/${entry}/fd`)) {
				if (readlinkSync(`/proc/${entry}/fd/${fd}`).startsWith(directory + '/')) {
					found.push(Number(entry));
					break;
				}
			}
		} catch {
			// exited meanwhile
		}
	}

	return found;
}

/** Pids of live processes whose command line contains `text` (e.g. a ServerSpec's directory). */
export function processesMentioning(text: string): number[] {
	const found: number[] = [];
	for (const entry of readdirSync('/proc')) {
		if (!/^\d+$/.test(entry) || Number(entry) === process.pid) {
			continue;
		}

		try {
			const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ');
			if (cmdline.includes(text)) {
				found.push(Number(entry));
			}
		} catch {
			// exited meanwhile
		}
	}

	return found;
}

/**
 * The C source of a one-connection-at-a-time TCP server on 127.0.0.1, port argv[1], for a test to compile:
 * `serveClient` is the body run for each accepted socket `client` (closed after it); `return 1` ends the server.
 */
export function loopbackServerSource(serveClient: string): string {
	return `
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
int main(int argc, char **argv) {
	int listener = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1])), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	if (argc < 2 || bind(listener, (struct sockaddr *)&address, sizeof address) != 0 || listen(listener, 16) != 0)
		return 1;
	for (;;) {
		int client = accept(listener, NULL, NULL);
		{
${serveClient}
		}
		close(client);
	}
}
`;
}
