// Two attaches to one nginx worker at the same moment, while it serves requests (docs/attach.md, "Refusals"):
// one installs its config, the other is refused because pdi is attached, never because "the kernel does not
// permit tracing" or because the other one's injector traced the thread for a moment.
import test from 'ava';
import {attach, type Attachment} from '../src/ts/attach/attach.js';
import {defineConfig} from '../src/ts/config/types.js';
import {during, failed, processState, startLoad, startNginx} from './helpers/live-server.js';

const counting = defineConfig({rules: [{act: {object: '$main', function: 'writev', do: {count: true}}}]});

test.serial('two attach() calls at once on a serving nginx worker: one attaches, the other is told pdi is attached, every round', async t => {
	const {server, workers} = await startNginx(t, 1);
	const [worker] = workers();
	const load = startLoad(server.port, ['/index.html', '/hello.txt', '/big.txt']);
	t.teardown(async () => load.stop());
	// The first attach loads the core, which stays: the state to come back to is the one after a first visit.
	await (await attach(worker!, counting)).detach();
	const before = processState(worker!);
	const from = performance.now();
	for (let round = 0; round < 12; round++) {
		const results = await Promise.allSettled([attach(worker!, counting), attach(worker!, counting)]);
		const attached = results.filter((result): result is PromiseFulfilledResult<Attachment> => result.status === 'fulfilled');
		const refusals = results.filter(result => result.status === 'rejected').map(result => (result.reason as Error).message);
		t.is(attached.length, 1, `round ${round}: ${refusals.join('; ')}`);
		t.deepEqual(refusals, [`process ${worker}: pdi is already attached to this process (by pdi attach, attach() or pdi trace -p): one at a time; end that one first`], `round ${round}`);
		for (const {value} of attached) {
			await value.detach();
			const [count] = await value.act;
			t.true((count?.seen ?? 0) >= 0 && count?.fired === count?.seen);
		}
	}

	const to = performance.now();
	await load.stop();
	t.deepEqual(processState(worker!), before, 'maps, descriptors and threads as they were');
	t.true(during(load, from, to).length > 0);
	t.deepEqual(failed(during(load, from, to)), [], 'no request failed');
});
