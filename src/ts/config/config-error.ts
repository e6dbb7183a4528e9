import {PdiError} from '../errors.js';

/** Where something is in a config file. Lines and columns are 1-based. */
export type Origin = {file: string; line: number; column: number};

/** The place a {@link ConfigIssue} names; any part may be unknown (an in-memory config has no file). */
export type ConfigPlace = {file?: string | undefined; line?: number | undefined; column?: number | undefined};

/** One problem found in a config: a message without its place, and the place. */
export type ConfigIssue = {
	readonly message: string;
	readonly file: string | undefined;
	readonly line: number | undefined;
	readonly column: number | undefined;
};

/**
 * Formats a place as `FILE:LINE:COL`, `FILE:LINE` or `FILE`, the way compilers do;
 * an empty string when the file is unknown.
 */
export function formatPlace(place: ConfigPlace): string {
	if (place.file === undefined) {
		return '';
	}

	if (place.line === undefined) {
		return place.file;
	}

	return place.column === undefined ? `${place.file}:${place.line}` : `${place.file}:${place.line}:${place.column}`;
}

/** A message after its place, `FILE:LINE:COL: message` (the message alone without a file). */
export function placedMessage(message: string, place: ConfigPlace): string {
	const where = formatPlace(place);
	return where ? `${where}: ${message}` : message;
}

/**
 * `issues` in the order a reader of the files meets them: the checks find them in their own order (the schema by
 * option, then the limits between options), which printed `1:54, 1:71, 1:38`. Files keep the order of their first
 * issue (merged configs are read in turn); issues at one place keep theirs.
 */
function inFileOrder(issues: readonly ConfigIssue[]): ConfigIssue[] {
	const files = [...new Set(issues.map(issue => issue.file))];
	return issues
		.map((issue, index) => ({issue, index}))
		.sort((a, b) => files.indexOf(a.issue.file) - files.indexOf(b.issue.file)
			|| (a.issue.line ?? 0) - (b.issue.line ?? 0)
			|| (a.issue.column ?? 0) - (b.issue.column ?? 0)
			|| a.index - b.index)
		.map(({issue}) => issue);
}

/**
 * A config that cannot be used: a syntax error, an unknown key, a value out of range, an
 * undeclared backend, a missing backend file or wrapper symbol, conflicting rules.
 *
 * The message is one line, `FILE:LINE:COL: message` (`FILE:LINE: message` when the column is
 * unknown, `FILE: message` without a line, the bare message without a file), for the first
 * issue; {@link ConfigError.issues} holds every issue found. The CLI prints `pdi: <message>`,
 * then each further issue on a line of its own the same way, and exits with status 2.
 */
export class ConfigError extends PdiError {
	override name = 'ConfigError';

	/** Absolute path of the file of the first issue, when known. */
	readonly file: string | undefined;
	/** 1-based line of the first issue, when known. */
	readonly line: number | undefined;
	/** 1-based column of the first issue, when known. */
	readonly column: number | undefined;
	/** The first issue's message without its place. */
	readonly reason: string;
	/** Every issue found, first one first (at least one). */
	readonly issues: readonly ConfigIssue[];

	constructor(message: string, place: ConfigPlace = {}, options: {issues?: readonly ConfigIssue[]; cause?: unknown} = {}) {
		super(placedMessage(message, place), {exitCode: 2, cause: options.cause});
		this.file = place.file;
		this.line = place.line;
		this.column = place.column;
		this.reason = message;
		const first: ConfigIssue = {message, file: place.file, line: place.line, column: place.column};
		this.issues = options.issues && options.issues.length > 0 ? options.issues : [first];
	}

	/**
	 * A ConfigError for a non-empty list of issues, each file's in the order of their places (a file's own issues, with
	 * no line, first); its message is the first one's.
	 */
	static fromIssues(found: readonly ConfigIssue[]): ConfigError {
		const issues = inFileOrder(found);
		const [first] = issues;
		if (!first) {
			throw new TypeError('ConfigError.fromIssues needs at least one issue');
		}

		return new ConfigError(first.message, first, {issues});
	}
}

/** The {@link Origin} of a place that names its file, line and column; undefined otherwise. */
export function originOf(place: ConfigPlace): Origin | undefined {
	return place.file !== undefined && place.line !== undefined && place.column !== undefined
		? {file: place.file, line: place.line, column: place.column}
		: undefined;
}
