// Real servers under steady load for the live attach tests (test/live7-*.test.ts): nginx with a master and
// workers, a load of HTTP requests that records each one's status and latency, and the parts of a process's
// state that an attach and a detach must leave as they were.
import {readdirSync, readFileSync, readlinkSync, rmSync} from 'node:fs';
import http from 'node:http';
import type {ExecutionContext} from 'ava';
import {delay} from './attach-fixture.js';
import {freePort, nginxCommand, startServer, webRoot, type RunningServer} from './servers.js';

/** One request of the load: when it started and ended (ms, performance.now()), and its status or error code. */
export type Request = {start: number; end: number; status: string; path: string};

/** An HTTP load on 127.0.0.1:port: `connections` clients requesting `paths` in turn, half of them on keep-alive connections. */
export type Load = {readonly requests: Request[]; stop(): Promise<void>};

export function startLoad(port: number, paths: readonly string[], connections = 4): Load {
	const requests: Request[] = [];
	const agent = new http.Agent({keepAlive: true, maxSockets: connections});
	let running = true;
	const client = async (index: number): Promise<void> => {
		for (let n = index; running; n++) {
			const path = paths[n % paths.length]!;
			const start = performance.now();
			const status = await new Promise<string>(resolve => {
				const request = http.get({host: '127.0.0.1', port, path, agent: index % 2 === 0 ? agent : false, timeout: 10_000}, response => {
					response.resume();
					response.on('end', () => {
						resolve(String(response.statusCode));
					});
					response.on('error', error => {
						resolve((error as NodeJS.ErrnoException).code ?? error.message);
					});
				});
				request.on('timeout', () => request.destroy(new Error('timeout')));
				request.on('error', error => {
					resolve((error as NodeJS.ErrnoException).code ?? error.message);
				});
			});
			requests.push({start, end: performance.now(), status, path});
		}
	};

	const clients = Array.from({length: connections}, async (_, index) => client(index));
	return {
		requests,
		async stop() {
			running = false;
			await Promise.all(clients);
			agent.destroy();
		},
	};
}

/** The requests that overlap [from, to]. */
export function during(load: Load, from: number, to: number): Request[] {
	return load.requests.filter(request => request.end >= from && request.start <= to);
}

/** The requests that did not get `status` (default 200), as `path status` strings. */
export function failed(requests: readonly Request[], status = '200'): string[] {
	return requests.filter(request => request.status !== status).map(request => `${request.path} ${request.status}`);
}

/** nginx with a master and `workers` workers on a free port, serving webRoot() (index.html, hello.txt, big.txt); stopped at the test's end. */
export async function startNginx(t: ExecutionContext, workers: number): Promise<{server: RunningServer; workers: () => number[]}> {
	const spec = nginxCommand(webRoot(), await freePort(), {workers});
	t.teardown(() => {
		rmSync(spec.directory, {recursive: true, force: true});
	});
	const server = await startServer(spec);
	t.teardown(async () => {
		await server.stop();
	});
	const children = (): number[] => readFileSync(`/proc/${server.pid}/task/${server.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
	for (let waited = 0; children().length < workers && waited < 10_000; waited += 20) {
		await delay(20);
	}

	return {server, workers: children};
}

/**
 * What an attach and a detach must give back: the mappings (without the files the server maps to send them),
 * the descriptors that are not sockets (connections come and go under load), and the threads.
 */
export function processState(pid: number): {maps: string[]; files: string[]; threads: number} {
	const maps = readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n').filter(Boolean)
		.map(line => line.split(/\s+/)).filter(fields => !(fields[5] ?? '').startsWith(webRoot()))
		.map(fields => `${fields[0]} ${fields[1]} ${fields[5] ?? ''}`);
	const files: string[] = [];
	for (const fd of readdirSync(`/proc/${pid}/fd`)) {
		try {
			const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
			if (!target.startsWith('socket:') && !target.startsWith(webRoot())) {
				files.push(`${fd} ${target}`);
			}
		} catch {
			// Closed meanwhile.
		}
	}

	return {maps, files: files.sort(), threads: readdirSync(`/proc/${pid}/task`).length};
}
