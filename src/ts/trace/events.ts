/** One completed call as `pdi trace --json` prints it (DESIGN §3c; docs/trace.md). */
export type CallEvent = {
	/** The traced process. */
	pid: number;
	/** The calling thread's kernel id. */
	tid: number;
	/** The core's small thread number, stable for the thread's life. */
	thread: number;
	/** Nesting of traced calls on the thread; 0 = outermost. */
	depth: number;
	/** The object whose import was called (a path or soname). */
	caller: string;
	/** The object defining the called function; null when unknown. */
	callee: string | null;
	function: string;
	/** The symbol version bound; null when unversioned. */
	version: string | null;
	/** Decoded arguments (numbers, strings, "0x..." pointers, flag names); null when not recorded. */
	args: ArgumentValue[] | null;
	/** The decoded return value; null for void, and for an abandoned call. */
	ret: ArgumentValue | null;
	/** The errno name when the prototype says the call failed; null otherwise. */
	errno: string | null;
	/** Start, in ns since the traced process's tracing began. */
	startNs: number | null;
	durationNs: number | null;
	/** The frame was left by longjmp or an exception. */
	abandoned: boolean;
};

/** A decoded value: a number, a boolean, or text (strings decoded from C, pointers "0x...", flag names). */
export type ArgumentValue = number | boolean | string | null;

const escapes: Record<string, string> = {n: '\n', t: '\t', r: '\r', '"': '"', '\\': '\\', '\'': '\''};

/** A quoted C string of the decoder (backslash escapes, octal bytes, "..." after when cut) as text. */
function unquote(token: string): string {
	const end = token.lastIndexOf('"');
	const body = token.slice(1, end);
	const decoded = body.replaceAll(/\\([0-7]{3}|.)/g, (_match, escape: string) =>
		escape.length === 3 ? String.fromCharCode(Number.parseInt(escape, 8)) : escapes[escape] ?? escape);
	// Bytes above 0x7f came as octal escapes: read them back as UTF-8.
	const text = /[\x80-\xff]/.test(decoded) ? Buffer.from(decoded, 'latin1').toString('utf8') : decoded;
	return text + token.slice(end + 1);
}

/** One value as the decoder shows it (src/native/backends/trace/format.c), typed for JSON. */
export function decodeValue(token: string): ArgumentValue {
	if (token.startsWith('"')) {
		return unquote(token);
	}

	if (/^-?\d+$/.test(token) && !/^-?0\d/.test(token)) {
		const value = Number(token);
		return Number.isSafeInteger(value) ? value : token;
	}

	if (/^-?(?:\d+\.?\d*(?:e[+-]?\d+)?)$/.test(token)) {
		return Number(token);
	}

	if (token === 'true' || token === 'false') {
		return token === 'true';
	}

	return token === 'NULL' ? '0x0' : token;
}

/** Splits the decoder's argument list at the ", " outside quotes. */
export function splitArguments(text: string): string[] {
	const values: string[] = [];
	let start = 0;
	let quote = '';
	for (let i = 0; i < text.length; i++) {
		const c = text[i]!;
		if (quote !== '') {
			if (c === '\\') {
				i++;
			} else if (c === quote) {
				quote = '';
			}
		} else if (c === '"' || c === '\'') {
			quote = c;
		} else if (c === ',' && text[i + 1] === ' ') {
			values.push(text.slice(start, i));
			start = i + 2;
			i++;
		}
	}

	if (text.length > 0) {
		values.push(text.slice(start));
	}

	return values;
}

/** Bytes before a record's strings (ring.h's trace_ring_record_t). */
export const recordHeader = 56;
const abandonedFlag = 1;
const versionFlag = 2;
const calleeFlag = 4;

/** The call events in a buffer of ring records (src/native/backends/trace/ring.h). */
export function decodeRecords(buffer: Buffer): CallEvent[] {
	const events: CallEvent[] = [];
	for (let at = 0; at + recordHeader <= buffer.length;) {
		const size = buffer.readUInt32LE(at);
		const flags = buffer.readUInt32LE(at + 20);
		const strings: string[] = [];
		let offset = at + recordHeader;
		for (let i = 0; i < 7; i++) {
			const length = buffer.readUInt16LE(at + 40 + (2 * i));
			strings.push(buffer.toString('latin1', offset, offset + length));
			offset += length;
		}

		const [caller, name, version, callee, args, ret, errno] = strings as [string, string, string, string, string, string, string];
		const abandoned = (flags & abandonedFlag) !== 0;
		const start = Number(buffer.readBigUInt64LE(at + 24));
		const duration = Number(buffer.readBigUInt64LE(at + 32));
		events.push({
			pid: buffer.readUInt32LE(at + 4),
			tid: buffer.readUInt32LE(at + 8),
			thread: buffer.readUInt32LE(at + 12),
			depth: buffer.readUInt32LE(at + 16),
			caller,
			callee: (flags & calleeFlag) === 0 ? null : callee,
			function: name,
			version: (flags & versionFlag) === 0 ? null : version,
			args: splitArguments(args).map(token => decodeValue(token)),
			ret: abandoned || ret === 'void' ? null : decodeValue(ret),
			errno: errno === '' ? null : errno,
			startNs: start,
			durationNs: duration,
			abandoned,
		});
		at += size;
	}

	return events;
}
