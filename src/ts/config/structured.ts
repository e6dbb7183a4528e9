import path from 'node:path';
import {isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node} from 'yaml';
import {ConfigError, type ConfigPlace} from './config-error.js';
import {findJsonSyntaxProblem, lineAndColumn} from './json-syntax.js';
import {checkConfig, jsonLabel, jsonShow, type ConfigSource, type NormalizedConfig} from './schema.js';

// Loaded by loadConfig() only for a JSON or YAML file: the YAML reader is not part of every start.

function yamlSource(document: Document, lineCounter: LineCounter, file: string): ConfigSource {
	const place = (offset: number | undefined): ConfigPlace => {
		if (offset === undefined) {
			return {file};
		}

		const {line, col} = lineCounter.linePos(offset);
		return {file, line, column: col};
	};

	return {
		file,
		directory: path.dirname(file),
		locate(nodePath, key = false) {
			let node: unknown = document.contents;
			let found = place((node as Node | null)?.range?.[0] ?? 0);
			for (const [index, segment] of nodePath.entries()) {
				let next: unknown;
				if (isMap(node)) {
					const pair = node.items.find(item => isPair(item) && (isScalar(item.key) ? item.key.value : item.key) === segment);
					if (!pair) {
						break;
					}

					if ((key && index === nodePath.length - 1) || !pair.value) {
						return place((pair.key as Node | null)?.range?.[0]);
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
				found = place(range[0]);
			}

			return found;
		},
		label: jsonLabel,
		show: jsonShow,
	};
}

/**
 * Parses a JSON or YAML config. JSON is checked by a JSON reader first (for messages in JSON's
 * terms, duplicate keys included) and then read as YAML, so that both report places the same way.
 */
export function parseStructured(text: string, file: string, json: boolean): NormalizedConfig {
	if (json) {
		const problem = findJsonSyntaxProblem(text);
		if (problem) {
			throw new ConfigError(`JSON syntax error: ${problem.reason}`, {file, ...lineAndColumn(text, problem.offset)});
		}
	}

	const lineCounter = new LineCounter();
	const document = parseDocument(text, {lineCounter, prettyErrors: false});

	if (document.errors.length > 0) {
		throw ConfigError.fromIssues(document.errors.map(error => {
			const {line, col} = lineCounter.linePos(error.pos[0]);
			const message = error.message.split('\n')[0] ?? error.code;
			return {message: `syntax error: ${message.replace(/\s*at line \d+, column \d+:?$/, '')}`, file, line, column: col};
		}));
	}

	return checkConfig(document.toJS() as unknown, yamlSource(document, lineCounter, file));
}
