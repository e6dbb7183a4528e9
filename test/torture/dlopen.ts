import path from 'node:path';
import {interpose} from '../../src/ts/index.js';
import {
	type BackendCounts, type Expectation, type Tally, total, tortureAddon, tortureBackend, tortureConfig, tortureDirectory,
} from './addon.js';

export type DlopenSizes = {
	/** dlopen/dlclose cycles of libtdl.so and libtdlcb.so. */
	loads: number;
	/** Native threads calling into them while they are loaded. */
	callers: number;
};

export type DlopenResult = {
	sizes: DlopenSizes;
	loads: number;
	unloaded: number;
	calls: number;
	tally: Tally;
	error: string;
	backend: BackendCounts;
	milliseconds: number;
};

/**
 * With the rules installed, a native thread dlopens and dlcloses libtdl.so (whose import of torture_relinked is
 * relinked and whose torture_redefined is redefined) and libtdlcb.so (whose torture_called goes through the callback
 * hooks) `loads` times, and `callers` threads call into them whenever they are loaded.
 */
export async function runDlopen(sizes: DlopenSizes): Promise<DlopenResult> {
	const addon = tortureAddon();
	addon.backendCounts(tortureBackend, true);
	const started = Date.now();
	const handle = interpose(tortureConfig());
	let result;
	try {
		addon.dlStart(path.join(tortureDirectory, 'libtdl.so'), path.join(tortureDirectory, 'libtdlcb.so'), sizes.loads, sizes.callers);
		while (!addon.dlDone()) {
			await new Promise(resolve => setTimeout(resolve, 10));
		}
	} finally {
		result = addon.dlStop();
		handle.close();
	}

	return {sizes, ...result, backend: addon.backendCounts(tortureBackend, false), milliseconds: Date.now() - started};
}

/** Everything runDlopen() must have found. */
export function dlopenExpectations(result: DlopenResult): Expectation[] {
	const {tally, backend, calls} = result;
	return [
		{what: 'dlopen/dlclose errors', actual: result.error, expected: ''},
		{what: 'loads done', actual: result.loads, expected: result.sizes.loads},
		{what: 'loads after which both libraries were gone again', actual: result.unloaded, expected: result.sizes.loads},
		{what: 'calls made while loaded', actual: calls > 0 || result.sizes.callers === 0, expected: true},
		{what: 'every call counted', actual: `${total(tally.relinked)} ${total(tally.redefined)} ${total(tally.called)}`, expected: `${calls} ${calls} ${calls}`},
		{what: 'relinked calls that reached the wrapper', actual: tally.relinked.redirected, expected: calls},
		{what: 'redefined calls that reached the wrapper', actual: tally.redefined.redirected, expected: calls},
		{what: 'instrumented calls that went through both hooks', actual: tally.called.redirected, expected: calls},
		{what: 'wrapper entries of the relink', actual: backend.wrappedRelink, expected: calls},
		{what: 'wrapper entries of the redefine', actual: backend.wrappedRedefine, expected: calls},
		{what: 'pre and post hooks', actual: `${backend.pre} ${backend.post}`, expected: `${calls} ${calls}`},
		{what: 'abandoned frames and unknown sites', actual: backend.abandoned + backend.unknownSite, expected: 0},
	];
}
