import {readFileSync} from 'node:fs';
import {fileSystemReason, PdiError} from '../errors.js';

/**
 * One declaration of a `--prototypes` file, compiled to the trace backend's
 * spec letters (src/native/backends/trace/prototypes.h): the return kind,
 * then one letter per parameter (`.` for `...`).
 */
export type TracePrototype = {name: string; spec: string};

/** Most parameters the backend decodes (TRACE_MAX_PROTO_ARGS). */
const maxParameters = 12;

type Token = {text: string; column: number};

/** Where in a prototype file an error is: the file as given, a line and a column from 1. */
export type PrototypePlace = {file: string; line: number; column: number};

/**
 * A `--prototypes` file (`trace()`'s and `observe()`'s `prototypes`) with a declaration pdi cannot use; the message
 * is `FILE:LINE:COL: reason` (`prototypes: FILE:LINE:COL: reason` from `trace()` and `observe()`), and `file`,
 * `line` and `column` say the place. A `PdiError`; a file that cannot be read is a plain `PdiError`.
 */
export class PrototypeError extends PdiError {
	override name = 'PrototypeError';
	/** The prototype file, as given. */
	readonly file: string;
	/** The line of the error, from 1. */
	readonly line: number;
	/** The column of the error, from 1. */
	readonly column: number;

	constructor(message: string, place: PrototypePlace, options: {cause?: unknown} = {}) {
		super(message, options);
		this.file = place.file;
		this.line = place.line;
		this.column = place.column;
	}
}

const words = new Map<string, string>([
	['void', 'v'], ['_Bool', 'b'], ['bool', 'b'], ['float', 'g'], ['double', 'd'],
	['int8_t', 'y'], ['int16_t', 'h'], ['int32_t', 'i'], ['pid_t', 'i'],
	['uint8_t', 'Y'], ['uint16_t', 'H'], ['uint32_t', 'u'], ['uid_t', 'u'], ['gid_t', 'u'], ['mode_t', 'm'],
	['ssize_t', 'l'], ['off_t', 'l'], ['intptr_t', 'l'], ['ptrdiff_t', 'l'], ['time_t', 'l'],
	['size_t', 'z'], ['uintptr_t', 'z'],
	// 64 bits on every architecture: two stack words and edx:eax on i386.
	['int64_t', '8'], ['intmax_t', '8'], ['off64_t', '8'], ['loff_t', '8'],
	['uint64_t', '9'], ['uintmax_t', '9'],
]);
const integerWords = new Set(['char', 'short', 'int', 'long', 'signed', 'unsigned']);
const qualifiers = new Set(['const', 'volatile', 'restrict', '__restrict', 'extern', 'static', 'inline', '__inline']);
/** Type-specifier keywords: C takes them in any order, and none of them can be a parameter's name. */
const specifierWords = new Set([...integerWords, 'void', '_Bool', 'bool', 'float', 'double', '_Complex']);
/**
 * The specifier keywords of each C type with `signed` and `int` written out where they may be left out (C11 6.7.2):
 * words make a type, or the start of one, while they are part of one of these. GCC's complex integers are in, so
 * that `_Complex` with any arithmetic type is refused as unsupported rather than as no type.
 */
const fullTypes: ReadonlyArray<readonly string[]> = (() => {
	const real = ['float', 'double', 'long double', 'signed char', 'unsigned char', 'signed short int', 'unsigned short int',
		'signed long long int', 'unsigned long long int'];
	return ['void', '_Bool', 'bool', ...real, ...real.map(type => `${type} _Complex`)].map(type => type.split(' '));
})();

function tokenize(text: string, fail: (column: number, message: string) => never): Token[] {
	const tokens: Token[] = [];
	const pattern = /\s+|([A-Za-z_]\w*|\.\.\.|[*(),;[\]]|\d+)|(.)/gy;
	for (let match = pattern.exec(text); match !== null && match.index < text.length; match = pattern.exec(text)) {
		if (match[2] !== undefined) {
			fail(match.index + 1, `unexpected '${match[2]}'`);
		}

		if (match[1] !== undefined) {
			tokens.push({text: match[1], column: match.index + 1});
		}
	}

	return tokens;
}

/** The spec letter of a base type (words without qualifiers, struct tags folded) and its pointer depth. */
function kindOf(base: Token[], pointers: number, constChar: boolean, fail: (column: number, message: string) => never): string {
	const at = base[0]?.column ?? 1;
	const names = base.map(token => token.text);
	if (pointers > 0) {
		return pointers === 1 && constChar && names.length === 1 && names[0] === 'char' ? 's' : 'p';
	}

	const spelled = names.join(' ');
	if (names[0] === 'struct' || names[0] === 'union') {
		fail(at, `'${spelled}' passed by value cannot be decoded (pass a pointer, or declare it void *)`);
	}

	if (names[0] === 'enum') {
		return 'i';
	}

	if (names.length === 1 && words.has(spelled)) {
		return words.get(spelled)!;
	}

	if (names.length === 0 || !names.every(name => integerWords.has(name))) {
		const unknown = base.find(token => !integerWords.has(token.text)) ?? base[0];
		fail(unknown?.column ?? at, unknown ? `unknown type '${unknown.text}' (use a C base type, or void * for pointers)` : 'missing type');
	}

	const unsigned = names.includes('unsigned');
	const longs = names.filter(name => name === 'long').length;
	if (longs > 1) {
		return unsigned ? '9' : '8';
	}

	if (longs > 0) {
		return unsigned ? 'z' : 'l';
	}

	// Narrower than int: the letters that keep only the type's bits (a returned one has no more).
	if (names.includes('char') && !names.includes('int') && !names.includes('short')) {
		return unsigned ? 'Y' : 'C';
	}

	if (names.includes('short')) {
		return unsigned ? 'H' : 'h';
	}

	return unsigned ? 'u' : 'i';
}

function count(words: readonly string[], word: string): number {
	return words.filter(other => other === word).length;
}

/** Fails at `token` when, after the type words `base`, it makes words that no C type has (`short long`, `_Bool unsigned`). */
function checkSpecifier(base: Token[], token: Token, fail: (column: number, message: string) => never): void {
	const names = [...base, token].map(word => word.text);
	// A typedef name, an unknown name or a struct, union or enum tag is the whole type: nothing combines with it.
	const keywords = names.every(name => specifierWords.has(name));
	if (keywords ? !fullTypes.some(type => names.every(name => count(names, name) <= count(type, name))) : base.length > 0) {
		fail(token.column, `'${names.join(' ')}' is not a type`);
	}
}

/** Fails for the C types the backend has no letter for, at the word that makes them one. */
function refuseUnsupported(base: Token[], fail: (column: number, message: string) => never): void {
	const complex = base.find(word => word.text === '_Complex');
	if (complex !== undefined) {
		fail(complex.column, `'${base.map(word => word.text).join(' ')}' is not supported (integers, pointers, float and double are)`);
	}

	const long = base.find(word => word.text === 'long');
	if (long !== undefined && base.some(word => word.text === 'double')) {
		fail(long.column, '\'long double\' is not supported (integers, pointers, float and double are)');
	}
}

/** A type and an optional name (`const char *name`, `unsigned long`, `struct x *p`, `int v[]`). */
function parseTyped(tokens: Token[], wantName: boolean, fail: (column: number, message: string) => never): {kind: string; name: Token | undefined} {
	const base: Token[] = [];
	let pointers = 0;
	let constChar = false;
	let sawConst = false;
	let name: Token | undefined;
	for (let index = 0; index < tokens.length; index++) {
		const token = tokens[index]!;
		if (token.text === '*') {
			pointers++;
			constChar ||= sawConst && pointers === 1;
		} else if (token.text === '[') {
			const close = tokens.findIndex((other, at) => at > index && other.text === ']');
			if (close < 0) {
				fail(token.column, 'missing \']\'');
			}

			pointers++;
			constChar ||= sawConst && pointers === 1;
			index = close;
		} else if (token.text === '(' || token.text === ')') {
			fail(token.column, 'function pointers cannot be decoded (declare the parameter void *)');
		} else if (qualifiers.has(token.text)) {
			sawConst ||= token.text === 'const' && pointers === 0;
		} else if (!/^[A-Za-z_]/.test(token.text)) {
			fail(token.column, `unexpected '${token.text}'`);
		} else if (token.text === 'struct' || token.text === 'union' || token.text === 'enum') {
			const tag = tokens[index + 1];
			if (tag === undefined || !/^[A-Za-z_]/.test(tag.text)) {
				fail(tag?.column ?? token.column, `missing the ${token.text} tag`);
			}

			checkSpecifier(base, token, fail);
			base.push(token, tag);
			index++;
		} else if (base.length > 0 && (pointers > 0 || name !== undefined || !specifierWords.has(token.text))) {
			if (name !== undefined || !wantName || specifierWords.has(token.text)) {
				fail(token.column, `unexpected '${token.text}'`);
			}

			name = token;
		} else {
			checkSpecifier(base, token, fail);
			base.push(token);
		}
	}

	refuseUnsupported(base, fail);
	return {kind: kindOf(base, pointers, constChar, fail), name};
}

function splitParameters(tokens: Token[], fail: (column: number, message: string) => never): Token[][] {
	const parameters: Token[][] = [[]];
	for (const token of tokens) {
		if (token.text === ',') {
			if (parameters.at(-1)!.length === 0) {
				fail(token.column, 'missing a parameter before \',\'');
			}

			parameters.push([]);
		} else {
			parameters.at(-1)!.push(token);
		}
	}

	return parameters;
}

/** The spec letters of a parameter list (the tokens between the parentheses). */
function parseParameters(tokens: Token[], close: Token, fail: (column: number, message: string) => never): string {
	if (tokens.length === 0 || (tokens.length === 1 && tokens[0]!.text === 'void')) {
		return '';
	}

	const parameters = splitParameters(tokens, fail);
	if (parameters.at(-1)!.length === 0) {
		fail(close.column, 'missing a parameter before \')\'');
	}

	let spec = '';
	for (const [index, parameter] of parameters.entries()) {
		if (parameter[0]!.text === '...') {
			if (index !== parameters.length - 1 || parameter.length > 1 || index === 0) {
				fail(parameter[0]!.column, '\'...\' must be the last parameter, after a named one');
			}

			spec += '.';
			continue;
		}

		const {kind} = parseTyped(parameter, true, fail);
		if (kind === 'v') {
			fail(parameter[0]!.column, 'a parameter cannot be void');
		}

		spec += kind;
	}

	if (spec.replace('.', '').length > maxParameters) {
		fail(tokens[0]!.column, `more than ${maxParameters} parameters cannot be decoded`);
	}

	return spec;
}

/** One declaration line: `TYPE NAME(PARAMETERS);` */
function parseDeclaration(tokens: Token[], fail: (column: number, message: string) => never): TracePrototype {
	const open = tokens.findIndex(token => token.text === '(');
	if (open < 0) {
		fail(tokens.at(-1)!.column, 'expected \'(\' after the function name');
	}

	const nameToken = tokens[open - 1];
	if (nameToken === undefined || !/^[A-Za-z_]\w*$/.test(nameToken.text) || open < 2) {
		fail(nameToken?.column ?? tokens[open]!.column, 'expected a return type and a function name before \'(\'');
	}

	const close = tokens.findIndex((token, index) => index > open && token.text === ')');
	if (close < 0) {
		fail(tokens.at(-1)!.column, 'missing \')\'');
	}

	const nested = tokens.find((token, index) => index > open && index < close && token.text === '(');
	if (nested !== undefined) {
		fail(nested.column, 'function pointers cannot be decoded (declare the parameter void *)');
	}

	const rest = tokens.slice(close + 1);
	if (rest[0]?.text !== ';') {
		fail(rest[0]?.column ?? tokens[close]!.column + 1, rest[0] ? `unexpected '${rest[0].text}'` : 'missing \';\'');
	}

	if (rest[1] !== undefined) {
		fail(rest[1].column, `unexpected '${rest[1].text}'`);
	}

	const returned = parseTyped(tokens.slice(0, open - 1), false, fail).kind;
	const parameters = parseParameters(tokens.slice(open + 1, close), tokens[close]!, fail);
	return {name: nameToken.text, spec: returned + parameters};
}

/**
 * `text` with its C comments (`/* ... *\/`, also over several lines, and `// ...`) blanked out, each character but a
 * line's end turned into a space, so that lines and columns stay where they were; `fail` for a comment left open.
 */
function withoutComments(text: string, fail: (line: number, column: number, message: string) => never): string {
	return text.replaceAll(/\/\*[\s\S]*?(?:\*\/|$)|\/\/[^\n]*/g, (comment, offset: number) => {
		if (comment.startsWith('/*') && !comment.endsWith('*/')) {
			const before = text.slice(0, offset).split('\n');
			fail(before.length, before.at(-1)!.length + 1, 'a comment \'/*\' without its \'*/\'');
		}

		return comment.replaceAll(/[^\n]/g, ' ');
	});
}

/**
 * Parses C declarations, one a line (`int my_func(const char *name, int count);`), `#`, `//` and `/* *\/` comments
 * and blank lines ignored. Throws a {@link PrototypeError} `FILE:LINE:COL: reason` at the first error.
 */
export function parsePrototypes(text: string, file: string): TracePrototype[] {
	const prototypes: TracePrototype[] = [];
	const seen = new Map<string, number>();
	const uncommented = withoutComments(text, (line, column, message) => {
		throw new PrototypeError(`${file}:${line}:${column}: ${message}`, {file, line, column});
	});
	for (const [index, raw] of uncommented.split('\n').entries()) {
		const line = index + 1;
		const fail = (column: number, message: string): never => {
			throw new PrototypeError(`${file}:${line}:${column}: ${message}`, {file, line, column});
		};

		const hash = raw.indexOf('#');
		const tokens = tokenize(hash < 0 ? raw : raw.slice(0, hash), fail);
		if (tokens.length === 0) {
			continue;
		}

		const prototype = parseDeclaration(tokens, fail);
		const first = seen.get(prototype.name);
		if (first !== undefined) {
			fail(tokens.find(token => token.text === prototype.name)!.column, `'${prototype.name}' is already declared on line ${first}`);
		}

		seen.set(prototype.name, line);
		prototypes.push(prototype);
	}

	return prototypes;
}

/** Reads and parses a `--prototypes` file; `text`, when given, is its text, already read. */
export function loadPrototypes(file: string, text?: string): TracePrototype[] {
	if (text === undefined) {
		try {
			text = readFileSync(file, 'utf8');
		} catch (error) {
			throw new PdiError(`${file}: ${fileSystemReason(error)}`, {cause: error});
		}
	}

	return parsePrototypes(text, file);
}

/** The backend's PDI_TRACE_PROTOTYPES text: `name=spec;name=spec`. */
export function encodePrototypes(prototypes: readonly TracePrototype[]): string {
	return prototypes.map(({name, spec}) => `${name}=${spec}`).join(';');
}
