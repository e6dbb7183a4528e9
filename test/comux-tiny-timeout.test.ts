import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import test from 'ava';
import {comux} from '../src/ts/comux/index.js';
import {pdi} from './helpers/cli.js';
import {echoServerPath} from './helpers/servers.js';

// A time limit of a few ms can run out before the started process is the backend's guardian (the backend is
// loading, or checking its input): the process then died of pdi's SIGTERM without a word, which read as a hang.

test('a --timeout of 1 ms that stops the server before the backend guards it is a server stopped before it listened (status 4), not a hang; an invalid file is invalid however short the limit', async t => {
	const directory = mkdtempSync(path.join(tmpdir(), 'pdi-comux-tiny-timeout-'));
	t.teardown(() => {
		rmSync(directory, {recursive: true, force: true});
	});
	const file = path.join(directory, 'one.comux');
	writeFileSync(file, comux().conn(0, 'ping\n', {awaitResponse: true}).bytes());
	for (let run = 0; run < 4; run++) {
		// nginx without its config never waits for a client: stopped early or failing by itself, it did not listen.
		const result = await pdi(['comux', 'run', '--timeout', '1', file, '--', '/usr/sbin/nginx', '-c', path.join(directory, 'missing.conf')]);
		t.is(result.code, 4, result.stderr);
		t.regex(result.stderr, /^pdi-comux: the server .* before it listened$/m);
	}

	writeFileSync(path.join(directory, 'bad.comux'), new Uint8Array([1, 2, 3]));
	for (const timeout of ['1', '2', '3', '5', '10']) {
		// Judged before a server starts, as the backend would: before, a limit of 1-2 ms could make it `no-listen`.
		const replay = await pdi(['comux', 'replay', '--json', '--no-progress', '--timeout', timeout, directory, '--', echoServerPath, 'epoll', '0']);
		const report = JSON.parse(replay.stdout) as {files: Array<{file: string; verdict: string; stderr: string}>};
		const bad = report.files.find(entry => entry.file.endsWith('bad.comux'));
		t.deepEqual([bad?.verdict, bad?.stderr], ['invalid', 'pdi-comux: bad magic at byte 0\n'], `--timeout ${timeout}`);
	}
});
