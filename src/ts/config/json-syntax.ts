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

/** A reader of JSON text that only checks it, value by value, with an explicit stack of containers. */
class JsonChecker {
	private at = 0;
	private readonly stack: Container[] = [];

	constructor(private readonly text: string) {}

	/**
	 * Reads the start of a value: true when a whole value was read (a scalar or an empty
	 * container), false when a container was opened (and its first value, after its first key,
	 * comes next).
	 */
	value(): boolean {
		this.needMore();
		const {text} = this;
		const character = text[this.at]!;
		if (character === '{' || character === '[') {
			this.at++;
			this.needMore();
			if (text[this.at] === (character === '{' ? '}' : ']')) {
				this.at++;
				return true;
			}

			const container: Container = character === '{' ? {kind: 'object', keys: new Map()} : {kind: 'array'};
			this.stack.push(container);
			if (container.kind === 'object') {
				this.readKey(container.keys);
			}

			return false;
		}

		if (character === '"') {
			this.readString();
		} else if (character === '-' || (character >= '0' && character <= '9')) {
			numberToken.lastIndex = this.at;
			const token = numberToken.exec(text)![0];
			if (!strictNumber.test(token)) {
				this.fail(`invalid number '${token}'`);
			}

			this.at += token.length;
		} else {
			wordToken.lastIndex = this.at;
			const word = wordToken.exec(text)?.[0];
			if (word !== 'true' && word !== 'false' && word !== 'null') {
				this.fail(word === undefined ? `unexpected ${this.shownHere()} (expected a value)` : `unexpected '${word}' (expected a value)`);
			}

			this.at += word.length;
		}

		return true;
	}

	/** After a whole value: closes the containers it ends; true at the end of the text, false when another value follows. */
	afterValue(): boolean {
		const {text} = this;
		for (;;) {
			this.skipBlanks();
			const top = this.stack.at(-1);
			if (top === undefined) {
				if (this.at < text.length) {
					this.fail(`unexpected ${this.shownHere()} after the JSON value`);
				}

				return true;
			}

			this.needMore();
			const closing = top.kind === 'object' ? '}' : ']';
			if (text[this.at] === closing) {
				this.at++;
				this.stack.pop();
			} else if (text[this.at] === ',') {
				const comma = this.at;
				this.at++;
				this.needMore();
				if (text[this.at] === '}' || text[this.at] === ']') {
					this.fail(`trailing comma before '${text[this.at]!}'`, comma);
				}

				if (top.kind === 'object') {
					this.readKey(top.keys);
				}

				return false;
			} else {
				this.fail(`expected ',' or '${closing}', found ${this.shownHere()}`);
			}
		}
	}

	private fail(reason: string, offset = this.at): never {
		throw new Problem(offset, reason);
	}

	private shownHere(): string {
		return shown(String.fromCodePoint(this.text.codePointAt(this.at)!));
	}

	private skipBlanks(): void {
		const {text} = this;
		while (this.at < text.length && (text[this.at] === ' ' || text[this.at] === '\t' || text[this.at] === '\n' || text[this.at] === '\r')) {
			this.at++;
		}
	}

	private needMore(): void {
		this.skipBlanks();
		if (this.at >= this.text.length) {
			this.fail(this.text.trim() === '' ? 'no value (the file is empty)' : 'unexpected end of input (the file is truncated)', this.text.length);
		}
	}

	private readString(): string {
		const {text} = this;
		const start = this.at;
		this.at++;
		for (;;) {
			if (this.at >= text.length) {
				this.fail('unexpected end of input (the file is truncated)', text.length);
			}

			const character = text[this.at]!;
			if (character === '"') {
				this.at++;
				return JSON.parse(text.slice(start, this.at)) as string;
			}

			if (character < ' ') {
				this.fail(`control character ${shown(character)} in a string (write it as an escape)`);
			}

			this.at += character === '\\' ? this.escapeLength() : 1;
		}
	}

	/** The length of the escape at `at` (a backslash), checked. */
	private escapeLength(): number {
		const next = this.text[this.at + 1];
		if (next === 'u') {
			if (!/^[\da-fA-F]{4}$/.test(this.text.slice(this.at + 2, this.at + 6))) {
				this.fail('invalid escape: \\u needs four hexadecimal digits');
			}

			return 6;
		}

		if (next === undefined) {
			this.fail('unexpected end of input (the file is truncated)', this.text.length);
		}

		if (!'"\\/bfnrt'.includes(next)) {
			this.fail(`invalid escape '\\${next}'`);
		}

		return 2;
	}

	private readKey(keys: Map<string, number>): void {
		const {text} = this;
		this.needMore();
		if (text[this.at] !== '"') {
			this.fail(`expected a double-quoted key, found ${shown(text[this.at]!)}`);
		}

		const start = this.at;
		const key = this.readString();
		const first = keys.get(key);
		if (first !== undefined) {
			const {line, column} = lineAndColumn(text, first);
			this.fail(`duplicate key ${JSON.stringify(key)} (first at line ${line}, column ${column})`, start);
		}

		keys.set(key, start);
		this.needMore();
		if (text[this.at] !== ':') {
			this.fail(`expected ':' after the key, found ${shown(text[this.at]!)}`);
		}

		this.at++;
	}
}

/**
 * The first syntax problem of `text` as JSON (RFC 8259, with duplicate keys in one object as a
 * problem too), or undefined for valid JSON. Works without recursion, so any nesting depth is
 * fine.
 */
export function findJsonSyntaxProblem(text: string): JsonSyntaxProblem | undefined {
	const checker = new JsonChecker(text);
	try {
		for (;;) {
			if (checker.value() && checker.afterValue()) {
				return undefined;
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
