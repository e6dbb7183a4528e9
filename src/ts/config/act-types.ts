import type {constants} from 'node:os';

/*
 * The types of the `act` rule kind (docs/act.md), written out as plain TypeScript: the package's declarations
 * name them, and must not reach zod's own declarations (which a consumer's `skipLibCheck: false` would check
 * under the consumer's settings). act-schema.ts holds the schema and checks at compile time that these types
 * are what it accepts and gives.
 */

/**
 * Linux errno names that glibc's `strerrorname_np` knows (so the core accepts them in the text
 * dialect) and Node does not list.
 */
export const linuxOnlyErrnoNames = [
	'ENOTBLK', 'ECHRNG', 'EL2NSYNC', 'EL3HLT', 'EL3RST', 'ELNRNG', 'EUNATCH', 'ENOCSI', 'EL2HLT', 'EBADE', 'EBADR',
	'EXFULL', 'ENOANO', 'EBADRQC', 'EBADSLT', 'EBFONT', 'ENONET', 'ENOPKG', 'EREMOTE', 'EADV', 'ESRMNT', 'ECOMM',
	'EDOTDOT', 'ENOTUNIQ', 'EBADFD', 'EREMCHG', 'ELIBACC', 'ELIBBAD', 'ELIBSCN', 'ELIBMAX', 'ELIBEXEC', 'ERESTART',
	'ESTRPIPE', 'EUSERS', 'ESOCKTNOSUPPORT', 'EPFNOSUPPORT', 'ESHUTDOWN', 'ETOOMANYREFS', 'EHOSTDOWN', 'EUCLEAN',
	'ENOTNAM', 'ENAVAIL', 'EISNAM', 'EREMOTEIO', 'ENOMEDIUM', 'EMEDIUMTYPE', 'ENOKEY', 'EKEYEXPIRED', 'EKEYREVOKED',
	'EKEYREJECTED', 'EOWNERDEAD', 'ENOTRECOVERABLE', 'ERFKILL', 'EHWPOISON',
] as const;

/**
 * The other names of an errno number that glibc's errno.h defines on Linux and Node does not list (EDEADLOCK is
 * EDEADLK): errno(3) gives them, so a rule may. strerrorname_np knows only the first name, so each is an alias too.
 */
export const errnoSynonyms = ['EDEADLOCK'] as const;

/** An errno name an act rule's `do.errno` takes: Node's names and the Linux ones glibc knows. */
export type ErrnoName = keyof typeof constants.errno | typeof linuxOnlyErrnoNames[number] | typeof errnoSynonyms[number];

/** The floating-point results JSON cannot write, by name: `{double: 'nan'}`, `'inf'`, `'-inf'`. */
export const nonFiniteDoubles = ['nan', 'inf', '-inf'] as const;

/** `'nan'`, `'inf'` or `'-inf'`: a `{double}` result JSON has no number for. */
export type NonFiniteDouble = typeof nonFiniteDoubles[number];

type Bare<Name> = Name extends `SIG${infer Rest}` ? Rest : never;

/** Node's names of signals that Linux does not have (Windows', BSD's, and SIGUNUSED, which glibc dropped). */
type NotLinuxSignal = 'SIGBREAK' | 'SIGLOST' | 'SIGINFO' | 'SIGUNUSED';

/** The other names of a signal that glibc's signal.h defines on Linux and Node does not list (SIGCLD is SIGCHLD). */
export const signalSynonyms = ['SIGCLD'] as const;

type LinuxSignal = Exclude<NodeJS.Signals, NotLinuxSignal> | typeof signalSynonyms[number];

/** A signal name an act rule's `do.signal` takes, with or without `SIG` (`SIGSEGV`, `SEGV`). */
export type SignalName = LinuxSignal | Bare<LinuxSignal>;

/** The conditions on call numbers an act rule may give, as written, each on its own. */
export type ActCallConditions = {
	/** Act on these calls: a call number or a list of up to 16 (numbered from 1 per rule). */
	call?: number | readonly number[] | undefined;
	/** Act from this call on (with `times`, on that many calls). */
	from?: number | undefined;
	/** Act on this many calls (from `from`, else from the first). */
	times?: number | undefined;
	/** Act on every N-th call (N, 2N, ...). */
	every?: number | undefined;
};

/** `probability` and its optional `seed`. */
export type ActProbability = {
	/** Act on each call with this probability. */
	probability: number;
	/** The seed of `probability`: the same seed picks the same call numbers in every run. */
	seed?: number | undefined;
};

/** No `probability`, and so no `seed` (`seed needs probability`). */
export type ActNoProbability = {
	probability?: undefined;
	/** Only with `probability`: a seed only picks the calls of a probability. */
	seed?: undefined;
};

/** `arg` and `equals`. */
export type ActArgumentEquals = {
	/** The argument `equals` looks at (numbered from 0). */
	arg: number;
	/** Act when argument `arg` equals this integer (a decimal or 0x-hex string past 2^53). */
	equals: number | string;
	/** One of `matches` and `equals`. */
	matches?: undefined;
};

/** `arg` and `matches`. */
export type ActArgumentMatches = {
	/** The argument `matches` looks at (numbered from 0). */
	arg: number;
	/** Act when argument `arg` is a string that matches this glob. */
	matches: string;
	/** One of `matches` and `equals`. */
	equals?: undefined;
};

/** No argument condition: none of `arg`, `matches`, `equals` (each needs the other: `matches needs arg`). */
export type ActNoArgument = {
	/** Only with `matches` or `equals`. */
	arg?: undefined;
	/** Only with `arg`. */
	matches?: undefined;
	/** Only with `arg`. */
	equals?: undefined;
};

/**
 * When an act rule acts, as written: every condition given must hold; none, on every call. The keys that go
 * together are typed so: `seed` needs `probability`, `matches` or `equals` needs `arg` and `arg` one of them, as the
 * readers refuse them apart. (The alternatives without a key come last: TypeScript names the missing key of the
 * last alternative that fits the keys given, so `{matches}` lacks `arg` and `{arg}` lacks `matches`.)
 */
export type ActWhenInput = ActCallConditions & (ActProbability | ActNoProbability) & (ActArgumentEquals | ActArgumentMatches | ActNoArgument);

/** Every condition of {@link ActWhenInput} on its own (what the schema's keys are, before their pairing is checked). */
export type ActWhenConditions = ActCallConditions & {
	probability?: number | undefined;
	seed?: number | undefined;
	arg?: number | undefined;
	matches?: string | undefined;
	equals?: number | string | undefined;
};

/** A floating-point result: `{double: 1.5}`, or NaN and the infinities by name, `{double: 'nan'}`. */
export type ActDoubleReturn = {double: number | NonFiniteDouble};

/** What an act rule's `return` gives the caller: an integer or pointer value (a decimal or 0x-hex string past 2^53) or a {@link ActDoubleReturn}. */
export type ActReturn = number | string | ActDoubleReturn;

/** A delay: `50ms`, `1.5s`, `100us`, `10ns` (a decimal amount and its unit, no blank), or a number of milliseconds. */
export type ActDelay = `${number}${'ns' | 'us' | 'ms' | 's'}` | number;

/** The actions an act rule may give, each on its own optional: {@link ActDoInput} asks for at least one. */
export type ActDoActions = {
	/** Skip the call; the caller gets this value (an integer or pointer value, or `{double: X}`, X a number or `nan`, `inf`, `-inf`). */
	return?: ActReturn | undefined;
	/** With `return`: the errno the caller sees (`ENOENT`, `EACCES`...). */
	errno?: ErrnoName | undefined;
	/** Wait this long, then make the call: `50ms`, `1.5s`, `100us`, `10ns`, or a number of milliseconds. */
	delay?: ActDelay | undefined;
	/** Raise this signal in the calling thread (`SIGSEGV` or `SEGV`), then make the call. */
	signal?: SignalName | undefined;
	/** Only count the calls the conditions select. */
	count?: true | undefined;
};

/** `count: true`: nothing but counting, no other action beside it (a delay of 0 is none). */
export type ActDoCount = {
	/** Only count the calls the conditions select. */
	count: true;
	/** Not with `count`. */
	return?: undefined;
	/** Not with `count`. */
	errno?: undefined;
	/** Not with `count` (0, no delay, may stand beside it). */
	delay?: 0 | undefined;
	/** Not with `count`. */
	signal?: undefined;
};

/** A delay, a signal or both, then the call runs (and sets its own errno). */
export type ActDoRun = {
	/** Wait this long, then make the call: `50ms`, `1.5s`, `100us`, `10ns`, or a number of milliseconds. */
	delay: ActDelay;
	/** Raise this signal in the calling thread (`SIGSEGV` or `SEGV`), then make the call. */
	signal?: SignalName | undefined;
	/** Only with `return`: a call that runs sets its own errno. */
	errno?: undefined;
	return?: undefined;
	/** Not with another action. */
	count?: undefined;
} | {
	/** Wait this long, then make the call. */
	delay?: ActDelay | undefined;
	/** Raise this signal in the calling thread (`SIGSEGV` or `SEGV`), then make the call. */
	signal: SignalName;
	/** Only with `return`: a call that runs sets its own errno. */
	errno?: undefined;
	return?: undefined;
	/** Not with another action. */
	count?: undefined;
};

/** `return` skips the call, with the errno the caller sees; a delay or a signal first. */
export type ActDoReturn = {
	/** Skip the call; the caller gets this value (an integer or pointer value, or `{double: X}`, X a number or `nan`, `inf`, `-inf`). */
	return: ActReturn;
	/** The errno the caller sees (`ENOENT`, `EACCES`...). */
	errno?: ErrnoName | undefined;
	/** Wait this long first. */
	delay?: ActDelay | undefined;
	/** Raise this signal in the calling thread first (`SIGSEGV` or `SEGV`). */
	signal?: SignalName | undefined;
	/** Not with another action. */
	count?: undefined;
};

/**
 * What an act rule does with the calls it selects, as written: at least one action (`do: {}` is a type error, as the
 * readers refuse it); `errno` goes with `return`, `count` with no other action. (`return` comes last: TypeScript
 * names the last alternative's missing key when none fits, and `do: {errno}` lacks `return`.)
 */
export type ActDoInput = ActDoCount | ActDoRun | ActDoReturn;

/**
 * An `act` rule as written in JSON, YAML or a TypeScript config, an entry of `rules`: `{act: {function, do, ...}}`,
 * change calls without C (docs/act.md). `ActRule['act']` is its body. Its lists may be readonly: a rule written
 * `as const` is one.
 */
export type ActRule = {
	act: {
		/** The callers whose calls are acted on: `$main`, a soname, a path or a glob (default `*`, every object). */
		object?: string | undefined;
		/** The function called: `name`, `name@VERSION` or `name@@VERSION`. */
		function: string;
		when?: ActWhenInput | undefined;
		do: ActDoInput;
	};
};

/**
 * The conditions of a normalized `act` rule; all must hold. `call` is always a list, `equals` a
 * number or (past 2^53) a decimal string.
 */
export type ActWhen = {
	call?: number[] | undefined;
	from?: number | undefined;
	times?: number | undefined;
	every?: number | undefined;
	probability?: number | undefined;
	seed?: number | undefined;
	arg?: number | undefined;
	matches?: string | undefined;
	equals?: number | string | undefined;
};

/**
 * The actions of a normalized `act` rule: `return` a number, a decimal string (past 2^53) or
 * `{double}`; `delay` a duration string (`50ms`); `signal` and `errno` names as the core knows them (`SIGTERM`).
 */
export type ActDo = {
	return?: ActReturn | undefined;
	errno?: string | undefined;
	delay?: string | undefined;
	signal?: string | undefined;
	count?: true | undefined;
};
