import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import test from 'ava';
import {comux} from '../src/ts/comux/builder.js';
import {runComux} from '../src/ts/comux/replay.js';
import {freePort, nginxCommand} from './helpers/servers.js';

// docs/comux.md, "Large responses and the end of the request": nginx closes a connection whose client shut
// down its write side while a response is still being sent; NO_SHUTDOWN gets the whole file.
const scratch = mkdtempSync(path.join(tmpdir(), 'pdi-comux-large-'));
const size = 8_000_000;
const body = Buffer.alloc(size, 'a');
writeFileSync(path.join(scratch, 'big.txt'), body);
test.after.always(() => {
	rmSync(scratch, {recursive: true, force: true});
});

test('an 8 MB file from nginx: with NO_SHUTDOWN the replay has all of it, without it at most that, as the docs say', async t => {
	const spec = nginxCommand(scratch, await freePort());
	const request = 'GET /big.txt HTTP/1.0\r\n\r\n';
	try {
		const whole = await runComux([spec.command, ...spec.args], comux().conn(0, request, {awaitResponse: true, noShutdown: true}).bytes(), {timeout: 60_000});
		t.is(whole.status, 0, whole.stderr);
		const headerEnd = whole.stdout.indexOf('\r\n\r\n') + 4;
		t.regex(whole.stdout.subarray(0, headerEnd).toString(), /^HTTP\/1\.1 200 OK\r\n[\s\S]*Content-Length: 8000000\r\n/);
		t.is(whole.stdout.length - headerEnd, size);
		t.true(whole.stdout.subarray(headerEnd).equals(body));
		const shutDown = await runComux([spec.command, ...spec.args], comux().conn(0, request, {awaitResponse: true}).bytes(), {timeout: 60_000});
		t.is(shutDown.status, 0, shutDown.stderr);
		t.true(shutDown.stdout.length <= whole.stdout.length);
		t.true(whole.stdout.subarray(headerEnd, shutDown.stdout.length).equals(shutDown.stdout.subarray(headerEnd)));
		t.log(`without NO_SHUTDOWN: ${shutDown.stdout.length - headerEnd} of ${size} bytes`);
	} finally {
		rmSync(spec.directory, {recursive: true, force: true});
	}
});
