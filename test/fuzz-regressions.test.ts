// Replays what fuzzing keeps (docs/reliability.md, "Fuzzing the native readers"): every seed and every
// minimized crash or hang of test/fuzz/<target>/ goes through its harness, built with gcc by
// test/fuzz/Makefile.inc (npm run build:fixtures), and must end normally within a few seconds.
import {execFile} from 'node:child_process';
import {existsSync, readdirSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {root} from './helpers/cli.js';

const out = path.join(root, 'test/fixtures/out/fuzz');
const perInput = 5000;

function filesOf(directory: string): string[] {
	if (!existsSync(directory))
		return [];
	return readdirSync(directory, {withFileTypes: true})
		.filter(entry => entry.isFile())
		.map(entry => path.join(directory, entry.name))
		.sort();
}

function inputsOf(target: string): string[] {
	const kept = path.join(root, 'test/fuzz', target);
	const inputs = [...filesOf(path.join(kept, 'seeds')), ...filesOf(path.join(kept, 'regressions'))];
	// The ELF seeds are built, not kept (test/fuzz/elf/seed-src).
	return target === 'elf' ? [...inputs, ...filesOf(path.join(out, 'elf-seeds'))] : inputs;
}

/** How the harness ended on one input, or '' when it returned 0 in time. */
async function failure(harness: string, input: string): Promise<string> {
	return new Promise(resolve => {
		execFile(harness, [input], {timeout: perInput, killSignal: 'SIGKILL'}, (error, _stdout, stderr) => {
			if (error === null) {
				resolve('');
				return;
			}
			const how = error.killed ? 'no end in time' : error.signal ? `signal ${error.signal}` : `status ${String(error.code)}`;
			resolve(`${path.relative(root, input)}: ${how} ${stderr.trim().slice(0, 200)}`.trim());
		});
	});
}

/** Runs the inputs two at a time (the machine has two cores) and lists the failures. */
async function replay(target: string, inputs: string[]): Promise<string[]> {
	const harness = path.join(out, `fuzz-${target}`);
	const failures: string[] = [];
	let next = 0;
	const worker = async () => {
		while (next < inputs.length) {
			const input = inputs[next++]!;
			const result = await failure(harness, input);
			if (result !== '') {
				failures.push(result);
			}
		}
	};
	await Promise.all([worker(), worker()]);
	return failures.sort();
}

for (const [target, reader] of [
	['comux', 'the comux format reader'],
	['config', 'the text-dialect config reader'],
	['elf', 'the ELF reader of the core'],
] as const) {
	test(`every seed and kept fuzz finding of ${reader} is read without a crash or a hang`, async t => {
		const inputs = inputsOf(target);
		t.true(existsSync(path.join(out, `fuzz-${target}`)), 'the harness is built (npm run build:fixtures)');
		t.true(inputs.length > 0, `test/fuzz/${target} holds inputs`);
		t.deepEqual(await replay(target, inputs), []);
	});
}
