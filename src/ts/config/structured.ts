import path from 'node:path';
import {isAlias, isCollection, isMap, isPair, isScalar, isSeq, parseDocument, Parser, visit, type CST, type Document, type Node} from 'yaml';
import {ConfigError, type ConfigPlace} from './config-error.js';
import {uncapitalised} from '../errors.js';
import {findJsonSyntaxProblem, lineAndColumn} from './json-syntax.js';
import {checkConfig, jsonLabel, jsonShow, type ConfigSource, type NormalizedConfig} from './schema.js';

// Loaded by loadConfig() only for a JSON or YAML file: the YAML reader is not part of every start.

/**
 * The line and column of each offset of `text`, the column in characters (code points) as the
 * JSON and text readers count it. Not yaml's LineCounter: it counts UTF-16 units, and after some
 * syntax errors it misses lines (an error on line 2 was placed past the end of line 1).
 */
function linePositions(text: string): (offset: number) => {line: number; column: number} {
	const starts = [0];
	for (let index = text.indexOf('\n'); index !== -1; index = text.indexOf('\n', index + 1)) {
		starts.push(index + 1);
	}

	return offset => {
		let low = 0;
		let high = starts.length - 1;
		while (low < high) {
			const middle = Math.ceil((low + high) / 2);
			if (starts[middle]! <= offset) {
				low = middle;
			} else {
				high = middle - 1;
			}
		}

		return {line: low + 1, column: [...text.slice(starts[low], offset)].length + 1};
	};
}

/**
 * Where `nodePath` (keys and indexes) starts in `document`, as far as the path exists: the value's
 * offset, or its key's when `key` is set for the last segment or the pair has no value.
 */
function locateOffset(document: Document, nodePath: readonly PropertyKey[], key: boolean): number | undefined {
	let node: unknown = document.contents;
	let found: number | undefined = (node as Node | null)?.range?.[0] ?? 0;
	for (const [index, segment] of nodePath.entries()) {
		let next: unknown;
		if (isMap(node)) {
			const pair = node.items.find(item => isPair(item) && (isScalar(item.key) ? item.key.value : item.key) === segment);
			if (!pair) {
				break;
			}

			if ((key && index === nodePath.length - 1) || !pair.value) {
				return (pair.key as Node | null)?.range?.[0];
			}

			next = pair.value;
		} else if (isSeq(node) && typeof segment === 'number') {
			next = node.items[segment];
		}

		const range = (next as Node | null | undefined)?.range;
		if (!range) {
			break;
		}

		node = next;
		found = range[0];
	}

	return found;
}

/**
 * The line and column of `nodePath` in a JSON or YAML text whose syntax is valid, as config errors
 * give them: for messages about a value (a comux description's field).
 */
export function placeInDocument(text: string, nodePath: ReadonlyArray<string | number>, key = false): {line: number; column: number} | undefined {
	const offset = locateOffset(parseDocument(text, {prettyErrors: false}), nodePath, key);
	return offset === undefined ? undefined : linePositions(text)(offset);
}

function yamlSource(document: Document, text: string, position: ReturnType<typeof linePositions>, file: string, directory: string): ConfigSource {
	const place = (offset: number | undefined): ConfigPlace => offset === undefined ? {file} : {file, ...position(offset)};

	return {
		file,
		directory,
		locate(nodePath, key = false) {
			return place(locateOffset(document, nodePath, key));
		},
		label: jsonLabel,
		show(value, nodePath) {
			// A number as written: 18446744073709551616 read as a JavaScript number would show as 18446744073709552000.
			const node = typeof value === 'number' && nodePath ? document.getIn(nodePath, true) : undefined;
			const range = isScalar(node) ? node.range : undefined;
			return range ? text.slice(range[0], range[1]).trim() : jsonShow(value);
		},
	};
}

/**
 * The value of a parsed document. Its errors (an alias without its anchor, too many aliases) are a
 * ConfigError at the alias that does not resolve, else at the first alias.
 */
function documentValue(document: Document, file: string, position: ReturnType<typeof linePositions>): unknown {
	try {
		return document.toJS() as unknown;
	} catch (error) {
		let first: number | undefined;
		let unresolved: number | undefined;
		visit(document, {
			Alias(_key, node) {
				first ??= node.range?.[0];
				if (node.resolve(document) === undefined) {
					unresolved = node.range?.[0];
					return visit.BREAK;
				}

				return undefined;
			},
		});
		throw new ConfigError(`syntax error: ${uncapitalised((error as Error).message)}`, {file, ...position(unresolved ?? first ?? 0)}, {cause: error});
	}
}

/**
 * `duplicate key "K" (first at line L, column C)` for the key at `offset` given twice in one mapping (yaml says
 * only "map keys must be unique"), as the JSON reader words it; undefined when no such key starts there.
 */
function duplicateKey(document: Document, offset: number, position: ReturnType<typeof linePositions>): string | undefined {
	let message: string | undefined;
	visit(document, {
		Map(_key, map) {
			const seen = new Map<unknown, number>();
			for (const pair of map.items) {
				const start = isScalar(pair.key) ? pair.key.range?.[0] : undefined;
				if (start === undefined || !isScalar(pair.key)) {
					continue;
				}

				const first = seen.get(pair.key.value);
				if (first !== undefined && start === offset) {
					const {line, column} = position(first);
					message = `duplicate key ${JSON.stringify(String(pair.key.value))} (first at line ${line}, column ${column})`;
					return visit.BREAK;
				}

				if (first === undefined) {
					seen.set(pair.key.value, start);
				}
			}

			return undefined;
		},
	});
	return message;
}

/**
 * The quoted scalar that a missing closing quote at `offset` leaves open (yaml places the error at its end,
 * often the next line): where it starts, and its quote mark.
 */
function unterminatedQuote(document: Document, offset: number): {start: number; mark: string} | undefined {
	let found: {start: number; mark: string} | undefined;
	visit(document, {
		Scalar(_key, scalar) {
			const range = scalar.range;
			if ((scalar.type === 'QUOTE_DOUBLE' || scalar.type === 'QUOTE_SINGLE') && range && range[1] === offset) {
				found = {start: range[0], mark: scalar.type === 'QUOTE_DOUBLE' ? '"' : '\''};
				return visit.BREAK;
			}

			return undefined;
		},
	});
	return found;
}

/** The kind of flow collection, `{...}` or `[...]`, that a syntax error says was never closed (yaml reports it at the end of the file). */
function unclosedFlowKind(error: {code: string; message: string}): 'map' | 'sequence' | undefined {
	return error.code !== 'BAD_INDENT' ? undefined : error.message.startsWith('Flow map') ? 'map' : error.message.startsWith('Flow sequence') ? 'sequence' : undefined;
}

/** yaml's words for an unclosed `{` or `[`, in words that say so where it opens. */
function unclosedFlow(error: {code: string; message: string}): string | undefined {
	const kind = unclosedFlowKind(error);
	return kind === undefined ? undefined : `a flow ${kind === 'map' ? 'mapping' : 'list'} opened here is not closed (a ${kind === 'map' ? '}' : ']'} is missing, or a line after it is not indented enough)`;
}

/**
 * The first character of the line after the one `offset` is on, when that line is indented more: a key there made yaml
 * take the value at `offset` and it for one key on two lines, which it reports at the value.
 */
function indentedKeyAfter(text: string, offset: number): number | undefined {
	const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
	const next = text.indexOf('\n', offset) + 1;
	if (next === 0) {
		return undefined;
	}

	const indent = (start: number) => /^[ ]*/.exec(text.slice(start))![0].length;
	return indent(next) > indent(lineStart) ? next + indent(next) : undefined;
}

/**
 * Where a YAML syntax error is best shown: an unclosed `{` or `[` (reported at the end of the file) at its opening
 * bracket, the innermost of its kind still open there; an item indented wrongly (reported at its line's start) at its
 * first character, the token out of place.
 */
function syntaxErrorOffset(document: Document, text: string, error: {code: string; pos: [number, number]; message: string}): number {
	const [offset] = error.pos;
	if (error.code !== 'BAD_INDENT') {
		return offset;
	}

	const flow = unclosedFlowKind(error);
	if (flow) {
		let start: number | undefined;
		const open = (node: {flow?: boolean; range?: [number, number, number] | null}) => {
			if (node.flow && node.range && node.range[1] === offset && (start === undefined || node.range[0] > start)) {
				start = node.range[0];
			}
		};

		visit(document, flow === 'map' ? {Map: (_key, map) => open(map)} : {Seq: (_key, seq) => open(seq)});
		return start ?? offset;
	}

	let first = offset;
	while (text[first] === ' ' || text[first] === '\t') {
		first++;
	}

	return first;
}

/**
 * The offset of the first mapping key that is a list or a mapping (`? [a, b]`, `[x]: 1`, an alias of either):
 * no config key is one, and `toJS()` would make a string of it and print a Node.js warning on stderr.
 */
function collectionKey(document: Document): number | undefined {
	let offset: number | undefined;
	visit(document, {
		Pair(_key, pair) {
			const {key} = pair;
			if (isCollection(key) || (isAlias(key) && isCollection(key.resolve(document)))) {
				offset = (key as Node).range?.[0] ?? 0;
				return visit.BREAK;
			}

			return undefined;
		},
	});
	return offset;
}

/** How deep a config's lists and mappings may nest: a real one nests six deep; the parsers' stacks run out near 800. */
const deepestNesting = 64;

/**
 * The offset of the first list or mapping nested deeper than {@link deepestNesting}, block-style (`- - -`, indented
 * keys) or in brackets and braces alike; undefined when there is none. Read from yaml's concrete syntax tree, whose
 * parser keeps its own stack (the document parser recurses), so that quotes and comments are told apart as YAML does.
 * A document's own mapping or list (block or flow: JSON's braces) is not a level: it nests in nothing, and `options: [[...` was refused at its 65th
 * bracket before block nesting was counted.
 */
function tooDeep(tokens: readonly CST.Token[]): number | undefined {
	const pending: Array<{token: CST.Token | null | undefined; depth: number}> = [];
	for (const token of [...tokens].reverse()) {
		if (token.type === 'document') {
			// JSON's outer braces too (a flow collection): they were a level, and JSON's 64th bracket an error.
			const top = token.value?.type === 'block-map' || token.value?.type === 'block-seq' || token.value?.type === 'flow-collection';
			pending.push({token: token.value, depth: top ? -1 : 0});
		}
	}

	for (let next = pending.pop(); next; next = pending.pop()) {
		const {token} = next;
		if (token?.type !== 'block-map' && token?.type !== 'block-seq' && token?.type !== 'flow-collection') {
			continue;
		}

		const depth = next.depth + 1;
		if (depth > deepestNesting) {
			return token.offset;
		}

		// Last first, so that the first too deep in the text is the one found: what the reader would meet first.
		for (const item of [...token.items].reverse()) {
			pending.push({token: item.value, depth}, {token: item.key, depth});
		}
	}

	return undefined;
}

/**
 * The first `%YAML` directive that names a version other than 1.2, and that version. yaml would switch to that
 * version's values (`yes` true, `017` 15, `1_000` 1000): a config means what YAML 1.2's core schema reads in it.
 */
function otherVersion(tokens: readonly CST.Token[]): {offset: number; version: string} | undefined {
	for (const token of tokens) {
		const [name, version = ''] = token.type === 'directive' ? token.source.split(/\s+/) : [];
		// Without a version it is yaml's own syntax error.
		if (token.type === 'directive' && name === '%YAML' && version !== '' && version !== '1.2') {
			return {offset: token.offset, version};
		}
	}

	return undefined;
}

/**
 * Parses a JSON or YAML config. JSON is checked by a JSON reader first (for messages in JSON's
 * terms, duplicate keys included) and then read as YAML, so that both report places the same way.
 * A byte-order mark at the start is skipped.
 */
export function parseStructured(source: string, file: string, json: boolean, {merging = false, deferred = false, directory = path.dirname(file)}: {merging?: boolean; deferred?: boolean; directory?: string} = {}): NormalizedConfig {
	// A UTF-8 byte-order mark is skipped, as the text dialect skips it; columns are counted after it.
	const text = source.startsWith('\uFEFF') ? source.slice(1) : source;
	if (json) {
		const problem = findJsonSyntaxProblem(text);
		if (problem) {
			throw new ConfigError(`JSON syntax error: ${problem.reason}`, {file, ...lineAndColumn(text, problem.offset)});
		}
	}

	const tokens = [...new Parser().parse(text)];
	const deep = tooDeep(tokens);
	if (deep !== undefined) {
		// JSON's own reader takes any depth, yaml's parser does not. Before: 'syntax error: maximum call stack size
		// exceeded', the parser's own stack overflow, at whatever column it had reached.
		throw new ConfigError(`${json ? 'JSON ' : ''}syntax error: lists and mappings nested more than ${deepestNesting} deep`, {file, ...lineAndColumn(text, deep)});
	}

	const version = otherVersion(tokens);
	if (version) {
		// Refused rather than ignored: the file's author asked for other values, and reading `017` as 17 where they meant 15 would pass unseen.
		throw new ConfigError(`syntax error: %YAML ${version.version}: a config is YAML 1.2, core schema, where yes is a string and 017 is 17 (remove the directive, or write %YAML 1.2)`, {file, ...lineAndColumn(text, version.offset)});
	}

	const position = linePositions(text);
	// Not YAML 1.1's !!set, !!omap, !!binary or !!timestamp: their values (a Set, a Map, bytes) are no
	// config values, and a Set or Map passed as an empty mapping (`options: !!omap [maxThreads: 4]` set
	// nothing). A tag that does not resolve is an error at the tag, not a warning nobody sees.
	const document = parseDocument(text, {prettyErrors: false, resolveKnownTags: false});
	const problems = [...document.errors, ...document.warnings.filter(warning => warning.code === 'TAG_RESOLVE_FAILED')];

	// A syntax error stops the reading, so it comes alone: the first one (yaml reports what follows from it too).
	const error = problems.sort((a, b) => a.pos[0] - b.pos[0])[0];
	if (error) {
		const quote = error.code === 'MISSING_CHAR' ? unterminatedQuote(document, error.pos[0]) : undefined;
		const deeper = error.code === 'BLOCK_AS_IMPLICIT_KEY' && problems.some(other => other.code === 'MULTILINE_IMPLICIT_KEY' && other.pos[0] === error.pos[0])
			? indentedKeyAfter(text, error.pos[0]) : undefined;
		const message = deeper !== undefined
			? 'a key indented more than the key above it (the keys of one mapping start at the same column; a mapping as a value starts on the line after its key)'
			: error.code === 'MULTIPLE_DOCS'
				? 'a config file holds one YAML document; a second one starts here'
				: error.code === 'TAG_RESOLVE_FAILED'
					? `the YAML tag ${text.slice(error.pos[0], error.pos[1])} does not apply here (a config holds mappings, lists, strings, numbers, booleans and null: remove the tag)`
					: quote ? `unterminated quoted string (a closing ${quote.mark} is missing)`
						: unclosedFlow(error) ?? (error.code === 'DUPLICATE_KEY' ? duplicateKey(document, error.pos[0], position) : undefined) ?? error.message.split('\n')[0] ?? error.code;
		throw new ConfigError(`syntax error: ${uncapitalised(message.replace(/\s*at line \d+, column \d+:?$/, ''))}`, {file, ...position(quote?.start ?? deeper ?? syntaxErrorOffset(document, text, error))});
	}

	const collection = collectionKey(document);
	if (collection !== undefined) {
		throw new ConfigError('syntax error: a list or a mapping as a key (a config\'s keys are names, such as maxThreads)', {file, ...position(collection)});
	}

	const value = documentValue(document, file, position);
	// YAML's empty document is null, an empty config; JSON has no empty document (an empty file is an error), and
	// its `null` is no more a config than its `[]`.
	if (json && value === null) {
		throw new ConfigError('expected a mapping, got null', {file, ...lineAndColumn(text, Math.max(0, text.search(/\S/)))});
	}

	return checkConfig(value, yamlSource(document, text, position, file, directory), {merging, deferred});
}
