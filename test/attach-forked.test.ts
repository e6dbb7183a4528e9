import {spawn} from 'node:child_process';
import test from 'ava';
import {attach} from '../src/ts/index.js';
import {collectOutput} from './helpers/cli.js';
import {compileC, scratchDirectory} from './helpers/files.js';
import {delay, forkerSource, stopOnTeardown} from './helpers/attach-fixture.js';

// A child forked while pdi is attached (a server's worker respawned by its master) inherits the attached session,
// where no detach reaches it: pdi attach and pdi trace -p on the child were refused for good with "pdi is already
// attached to this process: detach first". The inherited copy is now closed by the next attach (docs/attach.md).
const forker = compileC(scratchDirectory('pdi-attach-forked-'), 'forker', forkerSource(2000));

const countGetppid = {rules: [{act: {object: '$main', function: 'getppid', do: {count: true}}}]} as const;

test.serial('a child forked while its parent is attached can be attached to, and its inherited session is gone after that detach', async t => {
	const parent = spawn(forker, [], {stdio: ['pipe', 'pipe', 'inherit']});
	stopOnTeardown(t, parent);
	const output = collectOutput(parent);
	while (!output.stdout().includes('ready\n')) {
		await delay(20);
	}

	const parentAttachment = await attach(parent.pid!, countGetppid);
	parent.stdin.write('fork\n');
	while (!/^child \d+$/m.test(output.stdout())) {
		await delay(20);
	}

	const child = Number(/^child (\d+)$/m.exec(output.stdout())![1]);
	t.teardown(() => {
		try {
			process.kill(child, 'SIGKILL');
		} catch {}
	});
	const childAttachment = await attach(child, countGetppid);
	await delay(200);
	await childAttachment.detach();
	const [counts] = await childAttachment.act;
	t.is(counts?.pid, child);
	t.true((counts?.seen ?? 0) > 0, JSON.stringify(counts));
	// Nothing of either session is left in the child: a second attach and detach work as on any process.
	const again = await attach(child, countGetppid);
	await again.detach();
	await parentAttachment.detach();
	parent.stdin.end();
});
