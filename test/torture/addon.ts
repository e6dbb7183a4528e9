import {createRequire} from 'node:module';
import path from 'node:path';
import {normalizeConfig, type NormalizedConfig} from '../../src/ts/index.js';
import {fixtures} from '../helpers/preload.js';

/** Where the calls of one function landed (test/fixtures/torture/README.md). */
export type Outcome = {original: number; redirected: number; other: number};
/** The three instrumented functions: relinked, redefined, and the one a callback rule instruments. */
export type Tally = {relinked: Outcome; redefined: Outcome; called: Outcome};
export type BackendCounts = {
	wrappedRelink: number;
	wrappedRedefine: number;
	pre: number;
	post: number;
	abandoned: number;
	unknownSite: number;
};

export type TortureAddon = {
	start(threads: number, iterations: number, signalIntervalUs: number): void;
	/** Spreads the workers' calls over `steps` calls of stepDone() (0: no pacing); before start(). */
	pace(steps: number): void;
	stepDone(): void;
	/** The rounds of three calls all workers have made so far. */
	iterations(): number;
	done(): boolean;
	stop(): {calls: Tally; handler: Tally; signalsSent: number};
	runHere(iterations: number): Tally;
	dlStart(library: string, callbackLibrary: string, loads: number, callers: number): void;
	dlDone(): boolean;
	dlStop(): {loads: number; unloaded: number; calls: number; tally: Tally; error: string};
	backendCounts(backend: string, reset: boolean): BackendCounts;
	blockingStart(): void;
	blockingFinish(): number;
};

export const tortureDirectory = path.join(fixtures, 'torture');
export const tortureBackend = path.join(tortureDirectory, 'torture-backend.so');

const require = createRequire(import.meta.url);

/** The addon (loading it maps libtorture.so and libtcall.so too). */
export function tortureAddon(): TortureAddon {
	return require(path.join(tortureDirectory, 'tortureaddon.node')) as TortureAddon;
}

/**
 * The rules of every scenario, normalized once (a thousand interpose() calls then skip the schema): the addon's
 * import of torture_relinked and libtdl.so's are relinked, libtorture.so's torture_redefined is redefined for the
 * whole process, and every torture_* import of libtcall.so and libtdlcb.so goes through the callback hooks.
 */
export function tortureConfig(): NormalizedConfig {
	return normalizeConfig({
		// 16 stubs: enough for one install of the three callback sites; a thousand installs fit only because an
		// identical site takes its stub again (src/native/callback/sites.c).
		// The libtdl rules find no object until the dlopen scenario loads it: no warning about that at each of a
		// thousand installs.
		options: {cbMaxStubs: 16, log: {level: 'error'}},
		backends: [{name: 'torture', library: tortureBackend}],
		rules: [
			{relink: {object: 'tortureaddon.node', function: 'torture_relinked', backend: 'torture', wrapper: 'wrap_relinked'}},
			{relink: {object: 'libtdl.so', function: 'torture_relinked', backend: 'torture', wrapper: 'wrap_relinked'}},
			{redefine: {object: 'libtorture.so', function: 'torture_redefined', backend: 'torture', wrapper: 'wrap_redefined'}},
			{callback: {object: 'libtcall.so', backend: 'torture'}},
			{callback: {object: 'libtdlcb.so', backend: 'torture'}},
		],
	});
}

/** The sum of the outcomes of one function. */
export function total(outcome: Outcome): number {
	return outcome.original + outcome.redirected + outcome.other;
}

/** A check of a scenario: what it is about, what it found, what it should have found. */
export type Expectation = {what: string; actual: number | boolean | string; expected: number | boolean | string};

/** The expectations that fail. */
export function failures(expectations: readonly Expectation[]): Expectation[] {
	return expectations.filter(expectation => expectation.actual !== expectation.expected);
}
