import {rmSync} from 'node:fs';
import test from 'ava';
import {comux} from '../src/ts/comux/builder.js';
import {runComux} from '../src/ts/comux/replay.js';
import {busyboxHttpdCommand, freePort, miniHttpdCommand, webRoot} from './helpers/servers.js';

// Under PDI_COMUX_NO_WAIT the client sockets are closed while the server still accepts: a number
// the controller has just closed comes back as the server's next connection, and the child the
// server forks for it must not close it as one of the replay's client sockets.
const connections = 40;

function everyConnectionAtOnce(): Uint8Array {
	const builder = comux();
	for (let conn = 0; conn < connections; conn++) {
		builder.conn(conn, 'GET /hello.txt HTTP/1.0\r\n\r\n', {awaitResponse: false});
	}

	return builder.bytes();
}

for (const [name, command] of [['busybox httpd', busyboxHttpdCommand], ['mini_httpd', miniHttpdCommand]] as const) {
	for (const fork of [false, true]) {
		test.serial(`${name}${fork ? ' in fork mode' : ''}: ${connections} connections sent without waits all get their reply, in 3 runs`, async t => {
			t.timeout(120_000);
			const root = webRoot();
			const spec = command(root, await freePort());
			t.teardown(() => {
				rmSync(spec.directory, {recursive: true, force: true});
			});
			for (let run = 0; run < 3; run++) {
				const result = await runComux([spec.command, ...spec.args], everyConnectionAtOnce(), {noWait: true, fork, idleMs: 500});
				t.is(result.status, 0, result.stderr);
				t.is(result.stdout.toString('latin1').match(/^HTTP\/1\.[01] 200 OK/gim)?.length, connections, result.stderr);
				t.false(result.stderr.includes('can\'t duplicate'), result.stderr);
			}
		});
	}
}
