import {execFile} from 'node:child_process';
import path from 'node:path';
import test from 'ava';
import {scratchDirectory} from './helpers/files.js';

const module = path.resolve('dist/ts/index.js');

test('a program trace() started runs on untraced when Node exits at once, every time', async t => {
	// Before, about one run in 15 ended before the program ran: the trace backend found the ring's directory gone
	// (Node had removed it on its way out) and refused to initialise, which stops a process as a bad config does.
	const temporary = scratchDirectory('pdi-trace-node-exits-');
	const source = `import {trace} from ${JSON.stringify(module)};\ntrace('sh', ['-c', 'echo ran; sleep 0.2; echo ended'], {stdio: 'inherit'});\nprocess.exit(0);\n`;
	const runs = await Promise.all(Array.from({length: 16}, async () => new Promise<string>(resolve => {
		// Its stdout is the program's: the pipe closes when the program has ended, after Node.
		execFile(process.execPath, ['--input-type=module', '-e', source], {env: {...process.env, TMPDIR: temporary}, timeout: 30_000}, (_error, stdout, stderr) => {
			resolve(`${stdout}${stderr.split('\n').filter(line => !/ is gone: it was the temporary config of a pdi command that has ended/.test(line)).join('\n')}`);
		});
	})));
	for (const [index, output] of runs.entries()) {
		t.is(output, 'ran\nended\n', `run ${index}`);
	}
});
