/**
 * One completed call of a traced program, as `pdi trace --json` prints it
 * (one line each) and {@link trace} and {@link observe} deliver it. Every
 * field is present, `null` where unknown. See docs/trace.md, "JSON events".
 */
export type CallEvent = {
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
	/** The decoded return value, in the forms of `args`; null for void, and for an abandoned call. */
	ret: ArgumentValue | null;
	/** The errno name (`"ENOENT"`) when the prototype says the call failed; null otherwise. */
	errno: string | null;
	/** The start, in ns since tracing began in the process (its start, or its last exec). */
	startNs: number;
	/** From entry to return (or to the frame's abandonment), in ns. */
	durationNs: number;
	/** The frame was left by longjmp or an exception (`ret` is then null). */
	abandoned: boolean;
};

/** A decoded value: a number, a boolean, or text (strings decoded from C, pointers `"0x..."`, flag names, integers past 2^53). */
export type ArgumentValue = number | boolean | string;
