import {execFile} from 'node:child_process';
import path from 'node:path';
import test from 'ava';

const module = path.resolve('dist/ts/index.js');

test('close() called from onCall delivers the rest of the calls before it returns: none after, and its summary counts each once', async t => {
	// Five opens in one synchronous run reach JavaScript in one buffer; the first onCall closes the observation.
	const source = [
		`import {observe} from ${JSON.stringify(module)};`,
		'import {readFileSync} from \'node:fs\';',
		'let delivered = 0; let afterClose = 0; let closing = false; let closed = false; let first;',
		'const observation = observe({functions: \'open64\'}, call => {',
		'\tdelivered++;',
		'\tif (closed) afterClose++;',
		'\tif (call.args?.[0] === \'/etc/hostname\' && !closing) { closing = true; first = observation.close(); closed = true; }',
		'});',
		'for (let i = 0; i < 5; i++) readFileSync(\'/etc/hostname\');',
		'await new Promise(resolve => setTimeout(resolve, 100));',
		'readFileSync(\'/etc/hostname\');',
		'await new Promise(resolve => setTimeout(resolve, 100));',
		'const last = observation.close();',
		'const [process] = first.processes;',
		'console.log(JSON.stringify({delivered, afterClose, same: first === last, calls: process.calls, functionCalls: process.functions[0].calls}));',
	].join('\n');
	const stdout = await new Promise<string>((resolve, reject) => {
		execFile(process.execPath, ['--input-type=module', '-e', source], {timeout: 30_000}, (error, out) => {
			if (error) {
				reject(new Error(error.message));
			} else {
				resolve(out);
			}
		});
	});
	const result = JSON.parse(stdout) as {delivered: number; afterClose: number; same: boolean; calls: number; functionCalls: number};
	// Before the fix, close() returned at once with 1 call counted, and onCall then got the four others (and the
	// summary it had returned changed under the caller: 5 calls in its function, 1 in its process).
	t.is(result.afterClose, 0);
	t.is(result.delivered, 5);
	t.is(result.calls, 5);
	t.is(result.functionCalls, 5);
	t.true(result.same);
});
