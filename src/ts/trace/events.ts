/** The fields every {@link CallEvent} has, whether the call returned or was abandoned. */
export type CallEventFields = {
	/** The traced process. */
	pid: number;
	/** The calling thread's kernel id. */
	tid: number;
	/** The core's small thread number, stable for the thread's life (reused after it exits). */
	thread: number;
	/** Nesting of traced calls on the thread; 0 = outermost. */
	depth: number;
	/** The object whose import was called (a path, or a soname). */
	caller: string;
	/** The path of the object defining the called function; null when unknown. */
	callee: string | null;
	/** The symbol called. */
	function: string;
	/** Its version as bound (`"GLIBC_2.2.5"`); null when unversioned. */
	version: string | null;
	/**
	 * Decoded arguments: integers as numbers (past 2^53, which a number cannot
	 * hold exactly, as decimal strings), `const char *` as strings (cut at
	 * `stringSize` bytes, then `"..."`), pointers as `"0x..."`, flag sets as names
	 * (`"O_RDONLY|O_CREAT"`), modes as octal text, a variadic tail as `"..."`;
	 * for a function without a prototype, its integer registers in hex. Null
	 * when they could not be decoded (the thread's decoding stack was full).
	 */
	args: ArgumentValue[] | null;
	/**
	 * The start, in ns since the trace began (as pdi started the program, or attached to it): one clock for every
	 * process of the trace and each image it execs. In a process traced by its own config, without pdi, since its start.
	 */
	startNs: number;
	/** From entry to return (or to the frame's abandonment), in ns. */
	durationNs: number;
};

/** A call that returned: its result, and the errno of a failure its prototype describes. */
export type ReturnedCallEvent = CallEventFields & {
	/** The frame returned. */
	abandoned: false;
	/** The decoded return value, in the forms of `args`; null for void. */
	ret: ArgumentValue | null;
	/**
	 * When the prototype says the call failed (-1, or NULL for pointers), the errno the callee left: its name
	 * (`"ENOENT"`, always one of the exported `ErrnoName`), or its decimal number (`"0"`, `"4095"`) when pdi knows no name
	 * for it (a callee that failed without setting errno leaves 0); null otherwise.
	 */
	errno: string | null;
};

/** A call whose frame was left by longjmp or an exception: it has no result and no errno. */
export type AbandonedCallEvent = CallEventFields & {
	/** The frame was left by longjmp or an exception. */
	abandoned: true;
	/** No result: the call never returned. */
	ret: null;
	/** No errno: the call never returned. */
	errno: null;
};

/**
 * One completed call of a traced program, as `pdi trace --json` prints it
 * (one line each) and {@link trace} and {@link observe} deliver it. Every
 * field is present, `null` where unknown. `abandoned` tells the two kinds apart:
 * `if (event.abandoned)` leaves `ret` and `errno` null. See docs/trace.md, "JSON events".
 */
export type CallEvent = ReturnedCallEvent | AbandonedCallEvent;

/** A decoded value: a number, a boolean, or text (strings decoded from C, pointers `"0x..."`, flag names, integers past 2^53). */
export type ArgumentValue = number | boolean | string;
