/** A JSON syntax problem: `offset` is the UTF-16 index in the text, `reason` a message in JSON's terms. */
export type JsonSyntaxProblem = {offset: number; reason: string};

const numberToken = /[-+.\deE]+/y;
const strictNumber = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
const wordToken = /[A-Za-z_$][\w$]*/y;

function shown(character: string): string {
	const code = character.codePointAt(0) ?? 0;
	return code < 0x20 || (code >= 0x7f && code <= 0xa0) || code === 0xfeff || code === 0xfffd
		? `U+${code.toString(16).toUpperCase().padStart(4, '0')}`
		: `'${character}'`;
}

class Problem extends Error {
	constructor(readonly offset: number, readonly reason: string) {
		super(reason);
	}
}

type Container = {kind: 'object'; keys: Map<string, number>} | {kind: 'array'};

/**
 * The first syntax problem of `text` as JSON (RFC 8259, with duplicate keys in one object as a
 * problem too), or undefined for valid JSON. Works without recursion, so any nesting depth is
 * fine.
 */
export function findJsonSyntaxProblem(text: string): JsonSyntaxProblem | undefined {
	let at = 0;
	const fail = (reason: string, offset = at): never => {
		throw new Problem(offset, reason);
	};

	const skipBlanks = () => {
		while (at < text.length && (text[at] === ' ' || text[at] === '\t' || text[at] === '\n' || text[at] === '\r')) {
			at++;
		}
	};

	const needMore = () => {
		skipBlanks();
		if (at >= text.length) {
			fail(text.trim() === '' ? 'no value (the file is empty)' : 'unexpected end of input (the file is truncated)', text.length);
		}
	};

	const readString = (): string => {
		const start = at;
		at++;
		for (;;) {
			if (at >= text.length) {
				fail('unexpected end of input (the file is truncated)', text.length);
			}

			const character = text[at]!;
			if (character === '"') {
				at++;
				return JSON.parse(text.slice(start, at)) as string;
			}

			if (character < ' ') {
				fail(`control character ${shown(character)} in a string (write it as an escape)`);
			}

			if (character === '\\') {
				const next = text[at + 1];
				if (next === 'u') {
					if (!/^[\da-fA-F]{4}$/.test(text.slice(at + 2, at + 6))) {
						fail('invalid escape: \\u needs four hexadecimal digits');
					}

					at += 6;
					continue;
				}

				if (next === undefined) {
					fail('unexpected end of input (the file is truncated)', text.length);
				}

				if (!'"\\/bfnrt'.includes(next!)) {
					fail(`invalid escape '\\${next!}'`);
				}

				at += 2;
				continue;
			}

			at++;
		}
	};

	const readKey = (keys: Map<string, number>) => {
		needMore();
		if (text[at] !== '"') {
			fail(`expected a double-quoted key, found ${shown(text[at]!)}`);
		}

		const start = at;
		const key = readString();
		const first = keys.get(key);
		if (first !== undefined) {
			const {line, column} = lineAndColumn(text, first);
			fail(`duplicate key ${JSON.stringify(key)} (first at line ${line}, column ${column})`, start);
		}

		keys.set(key, start);
		needMore();
		if (text[at] !== ':') {
			fail(`expected ':' after the key, found ${shown(text[at]!)}`);
		}

		at++;
	};

	const stack: Container[] = [];
	try {
		for (;;) {
			needMore();
			const character = text[at]!;
			if (character === '{' || character === '[') {
				at++;
				needMore();
				const closing = character === '{' ? '}' : ']';
				if (text[at] !== closing) {
					const container: Container = character === '{' ? {kind: 'object', keys: new Map()} : {kind: 'array'};
					stack.push(container);
					if (container.kind === 'object') {
						readKey(container.keys);
					}

					continue;
				}

				at++;
			} else if (character === '"') {
				readString();
			} else if (character === '-' || (character >= '0' && character <= '9')) {
				numberToken.lastIndex = at;
				const token = numberToken.exec(text)![0];
				if (!strictNumber.test(token)) {
					fail(`invalid number '${token}'`);
				}

				at += token.length;
			} else {
				wordToken.lastIndex = at;
				const word = wordToken.exec(text)?.[0];
				if (word !== 'true' && word !== 'false' && word !== 'null') {
					fail(word === undefined ? `unexpected ${shown(String.fromCodePoint(text.codePointAt(at)!))} (expected a value)` : `unexpected '${word}' (expected a value)`);
				}

				at += word!.length;
			}

			let expectValue = false;
			while (!expectValue) {
				skipBlanks();
				const top = stack.at(-1);
				if (top === undefined) {
					if (at < text.length) {
						fail(`unexpected ${shown(String.fromCodePoint(text.codePointAt(at)!))} after the JSON value`);
					}

					return undefined;
				}

				needMore();
				const closing = top.kind === 'object' ? '}' : ']';
				if (text[at] === closing) {
					at++;
					stack.pop();
				} else if (text[at] === ',') {
					const comma = at;
					at++;
					needMore();
					if (text[at] === '}' || text[at] === ']') {
						fail(`trailing comma before '${text[at]!}'`, comma);
					}

					if (top.kind === 'object') {
						readKey(top.keys);
					}

					expectValue = true;
				} else {
					fail(`expected ',' or '${closing}', found ${shown(String.fromCodePoint(text.codePointAt(at)!))}`);
				}
			}
		}
	} catch (error) {
		if (error instanceof Problem) {
			return {offset: error.offset, reason: error.reason};
		}

		throw error;
	}
}

/** The 1-based line and column (in characters) of a UTF-16 offset into `text`. */
export function lineAndColumn(text: string, offset: number): {line: number; column: number} {
	const before = text.slice(0, offset);
	const lineStart = before.lastIndexOf('\n') + 1;
	let line = 1;
	for (let index = before.indexOf('\n'); index !== -1; index = before.indexOf('\n', index + 1)) {
		line++;
	}

	return {line, column: [...before.slice(lineStart)].length + 1};
}
