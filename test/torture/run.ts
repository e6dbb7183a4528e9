// One torture scenario in this process, for scripts/torture.mjs: `node --import tsx test/torture/run.ts SCENARIO
// SIZES_JSON` prints one JSON line {scenario, result, failures} and exits 0 when every expectation held, 1 when not.
import {failures} from './addon.js';
import {dlopenExpectations, runDlopen, type DlopenSizes} from './dlopen.js';
import {patchingExpectations, runPatching, type PatchingSizes} from './patching.js';

const [scenario, sizesText] = process.argv.slice(2);
const sizes = JSON.parse(sizesText ?? '{}') as unknown;
// The interpose()/close() loop stops at this time even with rounds to go; the caller's time limit then fails the run.
const deadline = Number(process.env['TORTURE_DEADLINE'] ?? Number.POSITIVE_INFINITY);

let output: {result: unknown; failed: ReturnType<typeof failures>};
if (scenario === 'dlopen') {
	const result = await runDlopen(sizes as DlopenSizes);
	output = {result, failed: failures(dlopenExpectations(result))};
} else if (scenario === 'patching' || scenario === 'signals') {
	const result = runPatching(sizes as PatchingSizes, deadline);
	output = {result: {...result, before: undefined, after: result.after === result.before ? 'as before' : result.after}, failed: failures(patchingExpectations(result))};
} else {
	throw new Error(`unknown torture scenario ${scenario ?? ''}`);
}

console.log(JSON.stringify({scenario, ...output}));
process.exitCode = output.failed.length === 0 ? 0 : 1;
