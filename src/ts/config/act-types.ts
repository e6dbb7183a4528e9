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

/** When an act rule acts, as written: every condition given must hold; none, on every call. */
export type ActWhenInput = {
	/** Act on these calls: a call number or a list of up to 16 (numbered from 1 per rule). */
	call?: number | readonly number[] | undefined;
	/** Act from this call on (with `times`, on that many calls). */
	from?: number | undefined;
	/** Act on this many calls (from `from`, else from the first). */
	times?: number | undefined;
	/** Act on every N-th call (N, 2N, ...). */
	every?: number | undefined;
	/** Act on each call with this probability. */
	probability?: number | undefined;
	/** The seed of `probability`: the same seed picks the same call numbers in every run. */
	seed?: number | undefined;
	/** The argument `matches` or `equals` looks at (numbered from 0). */
	arg?: number | undefined;
	/** Act when argument `arg` is a string that matches this glob. */
	matches?: string | undefined;
	/** Act when argument `arg` equals this integer (a decimal or 0x-hex string past 2^53). */
	equals?: number | string | undefined;
};

/** The actions an act rule may give, each on its own optional: {@link ActDoInput} asks for at least one. */
export type ActDoActions = {
	/** Skip the call; the caller gets this value (an integer or pointer value, or `{double: X}`, X a number or `nan`, `inf`, `-inf`). */
	return?: number | string | {double: number | NonFiniteDouble} | undefined;
	/** With `return`: the errno the caller sees (`ENOENT`, `EACCES`...). */
	errno?: ErrnoName | undefined;
	/** Wait this long, then make the call: `50ms`, `1.5s`, `100us`, `10ns`, or a number of milliseconds. */
	delay?: string | number | undefined;
	/** Raise this signal in the calling thread (`SIGSEGV` or `SEGV`), then make the call. */
	signal?: SignalName | undefined;
	/** Only count the calls the conditions select. */
	count?: true | undefined;
};

/**
 * What an act rule does with the calls it selects, as written: at least one action (`do: {}` is a type error, as the
 * readers refuse it); `errno` goes with `return`. (`return` comes last: TypeScript names the last alternative's missing
 * key when none fits, and `do: {errno}` lacks `return`.)
 */
export type ActDoInput = ActDoActions & ({count: true} | {signal: SignalName} | {delay: NonNullable<ActDoActions['delay']>} | {return: NonNullable<ActDoActions['return']>});

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
	return?: number | string | {double: number | NonFiniteDouble} | undefined;
	errno?: string | undefined;
	delay?: string | undefined;
	signal?: string | undefined;
	count?: true | undefined;
};
