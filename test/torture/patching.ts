import {exports, imports, interpose} from '../../src/ts/index.js';
import {
	type BackendCounts, type Expectation, type Tally, type TortureAddon, total, tortureAddon, tortureBackend, tortureConfig,
} from './addon.js';

export type PatchingSizes = {
	/** Native worker threads calling the three functions. */
	threads: number;
	/** Rounds of three calls per worker. */
	iterations: number;
	/** interpose()/close() rounds at least; more while the workers are still calling. */
	rounds: number;
	/** Microseconds between two signals to the workers (whose handler makes the three calls too); 0: none. */
	signalIntervalUs: number;
};

export type PatchingResult = {
	sizes: PatchingSizes;
	rounds: number;
	calls: Tally;
	handler: Tally;
	signalsSent: number;
	backend: BackendCounts;
	/** The Node thread's own calls right after each interpose() and right after each close(). */
	installed: Tally;
	removed: Tally;
	/** The torture_* slots and the redefined symbol before the first round and after the last. */
	before: string;
	after: string;
	milliseconds: number;
};

function add(into: Tally, from: Tally): void {
	for (const name of ['relinked', 'redefined', 'called'] as const) {
		into[name].original += from[name].original;
		into[name].redirected += from[name].redirected;
		into[name].other += from[name].other;
	}
}

function emptyTally(): Tally {
	return {relinked: {original: 0, redirected: 0, other: 0}, redefined: {original: 0, redirected: 0, other: 0}, called: {original: 0, redirected: 0, other: 0}};
}

/** What the torture_* slots of the addon and libtcall.so hold, and where libtorture.so's symbol table puts torture_redefined. */
function slotState(): string {
	const slots = [...imports('tortureaddon.node'), ...imports('libtcall.so')]
		.filter(slot => slot.symbol.startsWith('torture_'))
		.map(slot => `${slot.object.replace(/.*\//, '')} ${slot.symbol} ${slot.lazy ? 'lazy' : `${slot.target?.symbol ?? 'null'}+${slot.target?.offset ?? ''}`}`);
	const symbol = exports('libtorture.so').find(entry => entry.symbol === 'torture_redefined');
	return [...slots, `libtorture.so torture_redefined at ${symbol?.address ?? 'none'}`].join('\n');
}

const dwellCell = new Int32Array(new SharedArrayBuffer(4));

/** Waits, `limitMs` at most, until the workers have made more than `threads` rounds of calls since they had made
 * `from`: each worker has at most one round in flight, so then one round at least began after that moment. Gives up
 * at once when the workers are done. */
function awaitWorkerCalls(addon: TortureAddon, threads: number, from: number, limitMs: number): void {
	const end = Date.now() + limitMs;
	while (addon.iterations() - from <= threads && !addon.done() && Date.now() < end) {
		Atomics.wait(dwellCell, 0, 0, 1);
	}
}

/** interpose()/close() rounds, `rounds` at least and until the workers are done (or the deadline); after each
 * interpose() and each close() this thread makes the three calls once. Both are steps of the workers' pace; while
 * the rules are installed it waits until some worker calls met them, so that on a loaded machine the callback's
 * window between its install and its removal is never missed by all of them. Returns how many rounds ran. */
function patchRounds(addon: TortureAddon, sizes: PatchingSizes, deadline: number, installed: Tally, removed: Tally): number {
	const config = tortureConfig();
	let rounds = 0;
	while ((rounds < sizes.rounds || !addon.done()) && Date.now() < deadline) {
		const handle = interpose(config);
		try {
			add(installed, addon.runHere(1));
			const from = addon.iterations();
			addon.stepDone();
			awaitWorkerCalls(addon, sizes.threads, from, 20);
		} finally {
			handle.close();
		}

		add(removed, addon.runHere(1));
		addon.stepDone();
		rounds++;
	}

	return rounds;
}

/**
 * Native threads call a relinked, a redefined and a callback-instrumented function in a loop while this (the Node)
 * thread installs and removes the rules with interpose()/close(), `rounds` times at least and for as long as the
 * workers call; with a signal interval, signals whose handler calls the same functions keep arriving meanwhile.
 */
export function runPatching(sizes: PatchingSizes, deadline = Number.POSITIVE_INFINITY): PatchingResult {
	const addon = tortureAddon();
	addon.runHere(1);
	const before = slotState();
	addon.backendCounts(tortureBackend, true);
	const installed = emptyTally();
	const removed = emptyTally();
	const started = Date.now();
	// The workers' calls spread over the steps of the first half of the rounds (two steps each: the install and the
	// removal): some meet the rules installed, some removed, however the machine schedules 64 busy threads.
	addon.pace(Math.max(1, sizes.rounds));
	addon.start(sizes.threads, sizes.iterations, sizes.signalIntervalUs);
	let rounds: number;
	try {
		rounds = patchRounds(addon, sizes, deadline, installed, removed);
	} catch (error) {
		addon.stop();
		throw error;
	}

	const stopped = addon.stop();
	return {
		sizes, rounds, ...stopped, backend: addon.backendCounts(tortureBackend, false), installed, removed,
		before, after: slotState(), milliseconds: Date.now() - started,
	};
}

/** Everything runPatching() must have found. */
export function patchingExpectations(result: PatchingResult): Expectation[] {
	const {calls, handler, backend, installed, removed, sizes} = result;
	const perFunction = sizes.threads * sizes.iterations;
	const handled = total(handler.relinked);
	const expectations: Expectation[] = [
		{what: 'rounds done', actual: result.rounds >= sizes.rounds, expected: true},
		{what: 'every worker call of torture_relinked counted', actual: total(calls.relinked), expected: perFunction},
		{what: 'every worker call of torture_redefined counted', actual: total(calls.redefined), expected: perFunction},
		{what: 'every worker call of tcall counted', actual: total(calls.called), expected: perFunction},
		{what: 'handler calls of the three functions, one each per signal handled', actual: `${total(handler.redefined)} ${total(handler.called)}`, expected: `${handled} ${handled}`},
		{what: 'wrapper entries of the relink = redirected relinked calls', actual: backend.wrappedRelink, expected: calls.relinked.redirected + handler.relinked.redirected + installed.relinked.redirected},
		{what: 'wrapper entries of the redefine = redirected redefined calls', actual: backend.wrappedRedefine, expected: calls.redefined.redirected + handler.redefined.redirected + installed.redefined.redirected},
		{what: 'pre hooks = calls that came back through the hooks', actual: backend.pre, expected: calls.called.redirected + handler.called.redirected + installed.called.redirected},
		{what: 'post hooks = pre hooks', actual: backend.post, expected: backend.pre},
		{what: 'abandoned frames', actual: backend.abandoned, expected: 0},
		{what: 'hooks that saw a site other than torture_called', actual: backend.unknownSite, expected: 0},
		{what: 'the Node thread\'s calls after each interpose() all redirected', actual: `${installed.relinked.redirected} ${installed.redefined.redirected} ${installed.called.redirected}`, expected: `${result.rounds} ${result.rounds} ${result.rounds}`},
		{what: 'the Node thread\'s calls after each close() all original', actual: `${removed.relinked.original} ${removed.redefined.original} ${removed.called.original}`, expected: `${result.rounds} ${result.rounds} ${result.rounds}`},
		{what: 'every slot and the symbol back as before the first round', actual: result.after, expected: result.before},
		{what: 'worker calls that met the rules installed and removed', actual: calls.relinked.original > 0 && calls.relinked.redirected > 0 && calls.called.original > 0 && calls.called.redirected > 0, expected: true},
	];
	for (const [name, tally] of [['worker', calls], ['handler', handler], ['installed', installed], ['removed', removed]] as const) {
		expectations.push({what: `${name} calls with a wrong result`, actual: tally.relinked.other + tally.redefined.other + tally.called.other, expected: 0});
	}

	if (sizes.signalIntervalUs > 0) {
		expectations.push({what: 'signals handled', actual: handled > 0, expected: true});
	}

	return expectations;
}
