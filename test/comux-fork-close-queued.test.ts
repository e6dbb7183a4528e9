import test from 'ava';
import {comux} from '../src/ts/comux/builder.js';
import {startComuxForkServer} from '../src/ts/comux/fork-server.js';
import {PdiError} from '../src/ts/errors.js';
import {compileC, scratchDirectory} from './helpers/files.js';

/** A TCP server on 127.0.0.1:PORT (argv[1]) that answers each connection's first read with `echo:` and what it read. */
const echoSource = String.raw`
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv) {
	int listener = socket(AF_INET, SOCK_STREAM, 0), on = 1;
	struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1]))};
	address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
	if (argc < 2 || bind(listener, (struct sockaddr *)&address, sizeof address) != 0 || listen(listener, 8) != 0)
		return 1;
	for (;;) {
		int client = accept(listener, NULL, NULL);
		if (client < 0)
			continue;
		char request[256], reply[300] = "echo:";
		ssize_t length = read(client, request, sizeof request - 1);
		if (length > 0) {
			request[length] = '\0';
			strcat(reply, request);
			write(client, reply, strlen(reply));
		}
		close(client);
	}
}
`;

const server = [compileC(scratchDirectory('pdi-fork-close-'), 'srv', echoSource), '0'];

const request = (index: number) => comux().conn(0, `req ${index}`, {awaitResponse: true}).bytes();

/** What each replay gave, or the message it was rejected with. */
async function outcomes(replays: Array<Promise<{status: number | null; stdout: Buffer}>>): Promise<string[]> {
	return Promise.all(replays.map(async replay => replay.then(
		result => `status ${result.status}: ${result.stdout.toString()}`,
		(error: unknown) => `rejected: ${(error as Error).message}`,
	)));
}

// Was a bug: the fork server's own exit 0 and no output went to every replay still queued at close().
test('close() on a fork server lets the replays asked for before it run, each to its own reply, and refuses a later one', async t => {
	const forks = startComuxForkServer(server, {timeout: 3000});
	t.is((await forks.replay(request(0))).stdout.toString(), 'echo:req 0');
	const queued = [1, 2, 3, 4, 5].map(async index => forks.replay(request(index)));
	const closed = forks.close();
	const refused = await t.throwsAsync(forks.replay(request(6)), {instanceOf: PdiError});
	t.regex(refused.message, /the fork server was closed/);
	t.deepEqual(await outcomes(queued), [1, 2, 3, 4, 5].map(index => `status 0: echo:req ${index}`));
	t.is((await closed).code, 0);
});

test('close() called while the fork server is still starting waits for it to replay what was queued', async t => {
	const forks = startComuxForkServer(server, {timeout: 3000});
	const queued = [1, 2, 3].map(async index => forks.replay(request(index)));
	const end = await forks.close();
	t.deepEqual(await outcomes(queued), [1, 2, 3].map(index => `status 0: echo:req ${index}`));
	t.is(end.code, 0);
});
