import {constants} from 'node:os';
import {z} from 'zod';
import {functionName, hasNoNul, objectPattern} from './fields.js';
import {actGlobProblem} from '../glob-problem.js';
import {errnoSynonyms, linuxOnlyErrnoNames, nonFiniteDoubles, signalSynonyms, type ActDelay, type ActDo, type ActDoActions, type ActDoInput, type ActRule, type ActWhen, type ActWhenConditions, type ActWhenInput, type ErrnoName, type SignalName} from './act-types.js';
import type {AllTrue, ReadonlyListsIn, Same} from './same-type.js';

/*
 * The `act` rule kind (DESIGN §4b, docs/act.md): change calls without C. The zod schema of its
 * JSON/YAML spelling, normalized to the shape the core's reader hands back for a text-dialect
 * `act` line (so that both spellings give equal rules), and the tokens of that line.
 */

/**
 * Names glibc's `strerrorname_np` and `sigabbrev_np` (which the core resolves names with) do not
 * know, though Node lists them or errno.h and signal.h define them: each is another name of the same
 * number. Every such synonym of Linux x86-64's headers is here, and in act-spec.c's `name_aliases`.
 */
const aliases: Readonly<Record<string, string>> = {
	EWOULDBLOCK: 'EAGAIN',
	ENOTSUP: 'EOPNOTSUPP',
	EDEADLOCK: 'EDEADLK',
	SIGIOT: 'SIGABRT',
	SIGIO: 'SIGPOLL',
	SIGCLD: 'SIGCHLD',
};

const maxCalls = 16;
const maxArgument = 15;
const maxDelayNs = 3600e9;

function positive(what: string) {
	const error = `expected ${what} (an integer ≥ 1)`;
	return z.int({error}).min(1, {error});
}

/** An integer written as a string: decimal or 0x-hex, with an optional minus. */
const integerString = /^-?(?:\d+|0[xX][\da-fA-F]+)$/;

function bigInteger(value: string): bigint {
	return value.startsWith('-') ? -BigInt(value.slice(1)) : BigInt(value);
}

function fitsIn64Bits(value: number | string): boolean {
	if (typeof value === 'number' || !integerString.test(value)) {
		return true; // A number is safe (z.int); a string that is no integer: the regex has said so.
	}

	const big = bigInteger(value);
	return big >= -(2n ** 63n) && big < 2n ** 64n;
}

/**
 * An integer as the core holds it, a 64-bit register value read as signed (`0xffffffffffffffff`
 * is -1): a number when JavaScript holds it exactly, else a decimal string, as the core's reader gives it.
 */
function exactInteger(value: number | string): number | string {
	if (typeof value === 'number') {
		return value;
	}

	const big = BigInt.asIntN(64, bigInteger(value));
	return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big.toString();
}

const wideIntegerError = 'expected an integer (as a decimal or 0x-hex string past 2^53)';

/** An integer argument or result: a number, or a decimal or 0x-hex string for values JavaScript numbers cannot hold. */
function wideInteger(error: string) {
	return z.union([z.int({error}), z.string({error}).regex(integerString, {error})], {error})
		.refine(fitsIn64Bits, {error: 'expected an integer that fits in 64 bits'})
		.transform(exactInteger);
}

const unitNs: Readonly<Record<string, number>> = {ns: 1, us: 1e3, ms: 1e6, s: 1e9};

function durationNs(value: string | number): number {
	if (typeof value === 'number') {
		return value * 1e6;
	}

	// Not a duration: 0, the regex has said so.
	const [, amount = '0', unit = 'ns'] = /^(\d+(?:\.\d+)?)(ns|us|ms|s)$/.exec(value) ?? [];
	return Number(amount) * (unitNs[unit] ?? 1);
}

const units: ReadonlyArray<[string, number]> = [['s', 1e9], ['ms', 1e6], ['us', 1e3], ['ns', 1]];

/**
 * A delay as the core holds it (whole nanoseconds, the fraction dropped) and writes it back: in
 * the largest unit that divides it (`1.5s` is `1500ms`, `250` is `250ms`); none for 0.
 */
function durationText(value: string | number): string | undefined {
	const ns = Math.trunc(durationNs(value));
	const [unit, scale] = units.find(([, scale]) => ns % scale === 0) ?? ['ns', 1];
	return ns > 0 ? `${ns / scale}${unit}` : undefined;
}

const delayError = 'expected a duration (50ms, 1.5s, 100us, 10ns) or a number of milliseconds';

/** The errno names the core knows (and so `schema.json` and editors). */
const errnoNames = [...new Set([...Object.keys(constants.errno), ...linuxOnlyErrnoNames, ...errnoSynonyms])] as [ErrnoName, ...ErrnoName[]];

/** The signal names Node knows on this system and the Linux synonyms it does not, with and without `SIG`. */
const signalNames = [...new Set([...Object.keys(constants.signals), ...signalSynonyms])].flatMap(name => [name, name.slice(3)]) as [SignalName, ...SignalName[]];

function named<T extends string>(what: string, names: readonly [T, ...T[]], normalize: (name: T) => string) {
	return z.enum(names, {error: issue => typeof issue.input === 'string' ? `not ${what}` : `expected ${what}`})
		.transform(value => aliases[normalize(value)] ?? normalize(value));
}

const returnError = `${wideIntegerError} or {double: NUMBER} (NaN and the infinities by name: {double: nan}, inf, -inf)`;
const doubleError = 'expected a number, or \'nan\', \'inf\' or \'-inf\'';
// JSON has no NaN and no infinity (and zod's numbers are finite): those are named, in every spelling.
const doubleResult = z.union([z.number({error: doubleError}), z.enum(nonFiniteDoubles, {error: doubleError})], {error: doubleError})
	.describe('A floating-point result: a number, or `nan`, `inf`, `-inf`.');
// As the text dialect says it of return=double:1e400, which YAML and JSON readers turn into an infinity, as YAML's
// .inf is; a NaN can only be YAML's .nan.
const nonFiniteDouble = (value: unknown): number | undefined => typeof value === 'object' && value !== null && 'double' in value && typeof value.double === 'number' && !Number.isFinite(value.double) ? value.double : undefined;
const nonFiniteDoubleError = (value: number) => Number.isNaN(value)
	? 'YAML\'s .nan is not how a config writes NaN: {double: nan}'
	: 'out of a double\'s range (at most about 1.8e308; an infinity is written inf or -inf)';
const callsError = `expected a call number or a list of 1 to ${maxCalls} of them`;
const probabilityError = 'expected a probability from 0 to 1';
const seedError = 'expected a seed (an integer ≥ 0)';
const argError = `expected an argument number from 0 to ${maxArgument}`;

/**
 * An issue about how keys go together, at `key`: named by its path (`rules[1].act.when.matches: `) in a file as in
 * memory, no value shown (was `standalone`, whose message in a JSON or YAML file lacked the path). The text dialect
 * never reaches it: the core's reader refuses such a line first, at its token.
 */
const keyIssue = (message: string, key: string) => ({code: 'custom' as const, message, path: [key], params: {labelled: true}});

/** Each condition on its own; {@link whenSchema} checks the keys that go together. */
const whenConditions = z.strictObject({
	call: z.union([positive('a call number'), z.array(positive('a call number'), {error: callsError}).min(1, {error: callsError}).max(maxCalls, {error: callsError})], {error: callsError})
		.transform(call => typeof call === 'number' ? [call] : call)
		.optional().describe(`Act on these calls: a call number or a list of up to ${maxCalls} (calls are numbered from 1 per rule).`),
	from: positive('a call number').optional().describe('Act from this call on (with `times`, on that many calls).'),
	times: positive('a number of calls').optional().describe('Act on this many calls (from `from`, else from the first).'),
	every: positive('a number of calls').optional().describe('Act on every N-th call (N, 2N, ...).'),
	probability: z.number({error: probabilityError}).min(0, {error: probabilityError}).max(1, {error: probabilityError})
		.optional().describe('Act on each call with this probability.'),
	seed: z.int({error: seedError}).min(0, {error: seedError})
		.optional().describe('The seed of `probability`: the same seed picks the same call numbers in every run.'),
	arg: z.int({error: argError}).min(0, {error: argError}).max(maxArgument, {error: argError})
		.optional().describe('The argument `matches` or `equals` looks at (numbered from 0, as `pdi_arg_int` numbers them).'),
	matches: z.string({error: 'expected a glob'}).regex(/^[^\n\r]*$/, {error: 'expected a glob on one line'}).refine(hasNoNul, {error: 'expected a glob without a NUL character'})
		.superRefine((glob, context) => {
			// A glob the matcher cannot read matches nothing: the rule would never act, and say nothing of it.
			const problem = actGlobProblem(glob);
			if (problem !== undefined) {
				context.addIssue({code: 'custom', message: `expected a glob: ${problem}`});
			}
		}).optional().describe('Act when argument `arg` is a string that matches this glob.'),
	equals: wideInteger(wideIntegerError).optional().describe('Act when argument `arg` equals this integer.'),
});

// Its input type is ActWhenInput, which pairs the keys as the refinement does: `when: {seed: 4}` is a type error in a TypeScript config too.
const whenChecked = whenConditions.superRefine((when, context) => {
	const hasTest = when.matches !== undefined || when.equals !== undefined;
	if (when.matches !== undefined && when.equals !== undefined) {
		context.addIssue(keyIssue('arg takes one of matches and equals, not both', 'equals'));
	}

	if (hasTest && when.arg === undefined) {
		context.addIssue(keyIssue(`${when.matches === undefined ? 'equals' : 'matches'} needs arg: the number of the argument`, when.matches === undefined ? 'equals' : 'matches'));
	}

	if (!hasTest && when.arg !== undefined) {
		context.addIssue(keyIssue('arg needs matches or equals', 'arg'));
	}

	if (when.seed !== undefined && when.probability === undefined) {
		context.addIssue(keyIssue('seed needs probability: a seed only picks the calls of a probability', 'seed'));
	}
}).transform(when => when.probability === undefined || when.seed !== undefined ? when : {...when, seed: 0}).describe('When to act: all the conditions given must hold; omitted, on every call.');
const whenSchema = whenChecked as unknown as z.ZodType<z.output<typeof whenChecked>, ActWhenInput>;

/**
 * The actions as the core holds them: a delay in its canonical unit and none for 0; `count` only
 * when there is nothing else to do (every rule counts the calls it sees).
 */
function actions<T extends {return?: unknown; delay?: string | undefined; signal?: string | undefined; count?: true | undefined}>(written: T): T {
	const normalized = {...written};
	delete normalized.count;
	if (normalized.delay === undefined) {
		delete normalized.delay; // A delay of 0 is none.
	}

	const acts = normalized.return !== undefined || normalized.delay !== undefined || normalized.signal !== undefined;
	return acts ? normalized : {...normalized, count: true};
}

/** Each action on its own; {@link doSchema} asks for at least one. */
const doActions = z.strictObject({
	return: z.union([wideInteger(returnError), z.strictObject({double: doubleResult})], {error: issue => {
		// An integer past 64 bits is told so, as under when.equals (was: the union's whole list of forms).
		if (typeof issue.input === 'string' && !fitsIn64Bits(issue.input)) {
			return 'expected an integer that fits in 64 bits';
		}

		const value = nonFiniteDouble(issue.input);
		return value === undefined ? returnError : nonFiniteDoubleError(value);
	}})
		.optional().describe('Skip the call; the caller gets this value (an integer or pointer value, or `{double: X}`).'),
	errno: named('an errno name', errnoNames, value => value)
		.optional().describe('With `return`: the errno the caller sees (`ENOENT`, `EACCES`...).'),
	// Typed as ActDelay's text (`5 parsecs` is a type error in a TypeScript config); the regex is the run-time check.
	delay: z.union([z.string({error: delayError}).regex(/^\d+(?:\.\d+)?(?:ns|us|ms|s)$/, {error: delayError}) as unknown as z.ZodType<string, Exclude<ActDelay, number>>, z.number({error: delayError}).min(0, {error: delayError})], {error: delayError})
		.refine(value => durationNs(value) <= maxDelayNs, {error: 'expected a delay of at most 1 hour'})
		// A negative number has had its error from the union, which zod does not stop at.
		.refine(value => !(durationNs(value) > 0 && durationNs(value) < 1), {error: 'expected a delay of at least 1ns, or 0 for none'})
		.transform(durationText)
		.optional().describe('Wait this long, then make the call: `50ms`, `1.5s`, `100us`, `10ns`, or a number of milliseconds.'),
	signal: named('a signal name', signalNames, value => value.startsWith('SIG') ? value : `SIG${value}`)
		.optional().describe('Raise this signal in the calling thread (`SIGSEGV` or `SEGV`), then make the call.'),
	count: z.literal(true, {error: 'expected true'}).optional().describe('Only count the calls the conditions select.'),
});

// Its input type is ActDoInput, which asks for an action as the refinement does: `do: {}` is a type error in a TypeScript config too.
const doSchema = doActions.superRefine((action, context) => {
	if (Object.keys(action).length === 0) {
		context.addIssue({code: 'custom', message: 'expected at least one of return, delay, signal, count'});
	}

	if (action.errno !== undefined && action.return === undefined) {
		context.addIssue(keyIssue('errno needs return: a call that runs sets its own errno', 'errno'));
	}

	// A delay of 0 is none (its transform has made it undefined), so it may stand beside count.
	if (action.count === true && (action.return !== undefined || action.delay !== undefined || action.signal !== undefined)) {
		context.addIssue(keyIssue('count goes with no other action (return, delay, signal): it is nothing but counting, and a rule that acts counts its calls too', 'count'));
	}
}).transform(actions).describe('What to do with the calls the conditions select; at least one action.') as unknown as z.ZodType<z.output<typeof doActions>, ActDoInput>;

/** The zod schema of an `act` rule's body. */
export const actSchema = z.strictObject({
	object: objectPattern.optional().describe('The callers whose calls are acted on: `$main`, a soname, a path or a glob (default `*`, every object).'),
	function: functionName.describe('The function called: `name`, `name@VERSION` or `name@@VERSION`.'),
	when: whenSchema.optional(),
	do: doSchema,
}).describe('Calls from the matching objects to `function` that meet `when` get `do` instead (docs/act.md).');

export type {ActDo, ActRule, ActWhen} from './act-types.js';

/** The plain types of act-types.ts are what the schemas accept and give (a type error here when they are not). */
export type ActTypesAgree = AllTrue<[
	Same<Omit<ActRule['act'], 'do' | 'when'>, Omit<ReadonlyListsIn<z.input<typeof actSchema>>, 'do' | 'when'>>,
	Same<ActRule['act']['when'], z.input<typeof actSchema>['when']>,
	Same<ActRule['act']['do'], z.input<typeof actSchema>['do']>,
	Same<ActWhen, z.output<typeof whenSchema>>,
	Same<ActDo, z.output<typeof doSchema>>,
	// The input type of doSchema is declared: what it stands on is checked here, each action and at least one of them.
	Same<ActDoActions, z.input<typeof doActions>>,
	// So is the input type of whenSchema: each condition, and that they pair as the refinement asks.
	Same<{[Key in keyof ActWhenConditions]: ActWhenConditions[Key]}, ReadonlyListsIn<z.input<typeof whenConditions>>>,
	ActWhenInput extends ActWhenConditions ? true : false,
	ActDoInput extends ActDoActions ? true : false,
	Record<string, never> extends ActDoInput ? false : true,
]>;
