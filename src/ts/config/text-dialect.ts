import {readFileSync, statSync} from 'node:fs';
import path from 'node:path';
import {ConfigError, fileErrorReason, formatPlace, type Origin} from './config-error.js';
import {
	checkConfig,
	optionSchema,
	optionTextKeys,
	resolveLibrary,
	type ConfigWarning,
	type NormalizedConfig,
	type OptionName,
} from './schema.js';

type Line = {number: number; text: string};
type Token = {text: string; column: number};
type CommandFile = {name: string; directory: string; origin: Origin};

const optionsByKey = new Map((Object.entries(optionTextKeys) as Array<[OptionName, {key: string}]>).map(([name, {key}]) => [key, name]));
const booleans = new Map([['on', true], ['true', true], ['yes', true], ['1', true], ['off', false], ['false', false], ['no', false], ['0', false]]);
const logLevels = ['error', 'warning', 'info', 'debug'] as const;
const ruleUsage = {
	relink: 'relink OBJECT FUNCTION BACKEND WRAPPER',
	redefine: 'redefine OBJECT FUNCTION BACKEND WRAPPER',
	callback: 'callback OBJECT * BACKEND [HANDLER]',
} as const;

function tokenize(text: string): Token[] {
	return [...text.matchAll(/\S+/g)].map(match => ({text: match[0], column: match.index + 1}));
}

function unquote(value: string): string {
	return value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
}

/**
 * Whether an object field names a pattern in place rather than an alias: `$main`, `*`, or a word
 * with a `/`, a glob character or `.so`.
 */
function isObjectPattern(word: string): boolean {
	return word === '$main' || word === '*' || word.includes('/') || /[*?[]/.test(word) || word.includes('.so');
}

function readText(file: string, at: Origin): string {
	try {
		return readFileSync(file, 'utf8');
	} catch (error) {
		throw new ConfigError(`cannot read '${file}': ${fileErrorReason(error)}`, at, {cause: error});
	}
}

function splitSections(text: string): Map<string, Line[]> {
	const sections = new Map<string, Line[]>([['global', []]]);
	let current = sections.get('global') ?? [];
	for (const [index, lineText] of text.split(/\r?\n/).entries()) {
		const header = /^\s*\[([^\]]*)\]\s*$/.exec(lineText);
		if (header) {
			const name = (header[1] ?? '').trim();
			current = sections.get(name) ?? [];
			sections.set(name, current);
		} else {
			current.push({number: index + 1, text: lineText});
		}
	}

	return sections;
}

/**
 * Reads a config file and the files it includes and names, building the object the JSON
 * spelling would have (aliases resolved, paths absolute) and the place of each of its values,
 * then checks that against the schema as for JSON and YAML.
 */
class TextReader {
	private readonly files = new Map<string, Map<string, Line[]>>();
	private readonly commandLines = new Map<string, Line[]>();
	private readonly options: Record<string, unknown> = {};
	private readonly backends: Array<{name: string; library: string}> = [];
	private readonly rules: Array<Record<string, Record<string, string>>> = [];
	private readonly places = new Map<string, Origin>();
	private readonly aliases = new Map<string, {pattern: string; origin: Origin}>();
	private readonly declared = new Map<string, {library: string; origin: Origin}>();
	private readonly warnings: ConfigWarning[] = [];
	private readonly handlers: Array<{name: string; origin: Origin}> = [];
	private commandFiles: CommandFile[] = [];
	private runtime: CommandFile | undefined;
	private readonly commandPath: string[] = [];
	private pending: Origin | undefined;

	constructor(private readonly file: string, text: string) {
		this.files.set(file, splitSections(text));
	}

	read(): NormalizedConfig {
		this.runSection(this.file, 'global', [`${this.file}:global`]);
		this.pending = undefined;
		for (const command of [...(this.runtime ? [this.runtime] : []), ...this.commandFiles]) {
			const file = this.findCommandFile(command);
			for (const line of this.readCommandFile(file, command.origin)) {
				this.line(file, line, undefined);
			}

			this.pending = undefined;
		}

		this.finalChecks();
		const config = checkConfig({options: this.options, backends: this.backends, rules: this.rules}, {
			file: this.file,
			directory: path.dirname(this.file),
			locate: nodePath => {
				for (let length = nodePath.length; length > 0; length--) {
					const origin = this.places.get(nodePath.slice(0, length).join('.'));
					if (origin) {
						return origin;
					}
				}

				return {file: this.file};
			},
			label: nodePath => nodePath[0] === 'options'
				? optionTextKeys[nodePath.slice(1).join('.') as OptionName]?.key ?? String(nodePath.at(-1))
				: String(nodePath.at(-1)),
			show: value => `'${String(value)}'`,
		});
		config.warnings = this.warnings;
		return config;
	}

	private readFile(file: string, at: Origin): Map<string, Line[]> {
		let sections = this.files.get(file);
		if (!sections) {
			sections = splitSections(readText(file, at));
			this.files.set(file, sections);
		}

		return sections;
	}

	private readCommandFile(file: string, at: Origin): Line[] {
		let lines = this.commandLines.get(file);
		if (!lines) {
			lines = readText(file, at).split(/\r?\n/).map((text, index) => ({number: index + 1, text}));
			this.commandLines.set(file, lines);
		}

		return lines;
	}

	private runSection(file: string, section: string, stack: string[]): void {
		for (const line of this.files.get(file)?.get(section) ?? []) {
			this.line(file, line, stack);
		}
	}

	private findCommandFile(command: CommandFile): string {
		const candidates = path.isAbsolute(command.name)
			? [command.name]
			: [path.resolve(command.directory, command.name), ...this.commandPath.map(directory => path.resolve(directory, command.name))];
		const found = candidates.find(candidate => {
			try {
				return statSync(candidate).isFile();
			} catch {
				return false;
			}
		});
		if (!found) {
			throw new ConfigError(`command file '${command.name}' not found (searched: ${candidates.join(', ')})`, command.origin);
		}

		return found;
	}

	/** Runs one line of a config section (`stack` is the Include chain) or, without a stack, of a command file. */
	private line(file: string, line: Line, stack: string[] | undefined): void {
		const trimmed = line.text.trim();
		if (trimmed === '') {
			return;
		}

		if (trimmed.startsWith('#')) {
			const origin = /^#@origin\s+(.+?):(\d+)(?::(\d+))?\s*$/.exec(trimmed);
			if (origin) {
				this.pending = {file: origin[1] ?? '', line: Number(origin[2]), column: Number(origin[3] ?? 1)};
			}

			return;
		}

		const override = this.pending;
		this.pending = undefined;
		const at = (column: number): Origin => override ?? {file, line: line.number, column};
		const tokens = tokenize(line.text);
		const [first] = tokens;
		if (!first) {
			return;
		}

		const assignment = /^([A-Za-z_]\w*)\s*=\s*(.*)$/.exec(trimmed);
		if (assignment) {
			const value = assignment[2] ?? '';
			const valueColumn = line.text.length - line.text.trimStart().length + trimmed.length - value.length + 1;
			if (!stack) {
				throw new ConfigError(`unknown command '${assignment[1]}' (options go in a config file)`, at(first.column));
			}

			this.assign(file, assignment[1] ?? '', unquote(value), at(first.column), at(valueColumn));
			return;
		}

		switch (first.text) {
			case 'object':
			case 'backend': {
				this.declare(file, first.text, trimmed, at(first.column));
				return;
			}

			case 'relink':
			case 'redefine':
			case 'callback': {
				this.rule(first.text, tokens, at);
				return;
			}

			default: {
				break;
			}
		}

		if (!stack) {
			throw new ConfigError(`unknown command '${first.text}'`, at(first.column));
		}

		const rest = unquote(trimmed.slice(first.text.length).trim());
		switch (first.text) {
			case 'Include': {
				this.include(file, rest, stack, at(first.column));
				return;
			}

			case 'Warning': {
				this.warnings.push({message: rest, origin: at(first.column)});
				return;
			}

			case 'Error': {
				throw new ConfigError(rest || 'Error', at(first.column));
			}

			case 'reset_config': {
				if (tokens.length > 1) {
					throw new ConfigError('malformed reset_config line: expected \'reset_config\' alone', at(tokens[1]?.column ?? first.column));
				}

				this.commandFiles = [];
				return;
			}

			default: {
				throw new ConfigError(`unknown command '${first.text}'`, at(first.column));
			}
		}
	}

	private include(file: string, argument: string, stack: string[], at: Origin): void {
		if (argument === '') {
			throw new ConfigError('malformed Include line: expected \'Include "FILE:SECTION"\'', at);
		}

		const colon = argument.lastIndexOf(':');
		const filePart = colon === -1 ? argument : argument.slice(0, colon);
		const section = (colon === -1 ? '' : argument.slice(colon + 1)) || 'global';
		const target = filePart === '' ? file : path.resolve(path.dirname(file), filePart);
		const key = `${target}:${section}`;
		const start = stack.indexOf(key);
		if (start !== -1) {
			throw new ConfigError(`Include cycle: ${[...stack.slice(start), key].join(' -> ')}`, at);
		}

		if (!this.readFile(target, at).has(section)) {
			throw new ConfigError(`no section '${section}' in '${target}'`, at);
		}

		this.runSection(target, section, [...stack, key]);
	}

	private assign(file: string, key: string, value: string, at: Origin, valueAt: Origin): void {
		const directory = path.dirname(file);
		switch (key) {
			case 'config':
			case 'runtime': {
				if (value === '') {
					throw new ConfigError(`${key}: expected a command file`, valueAt);
				}

				const command = {name: value, directory, origin: valueAt};
				if (key === 'config') {
					this.commandFiles.push(command);
				} else {
					this.runtime = command;
				}

				return;
			}

			case 'becfg_path': {
				if (value === '') {
					throw new ConfigError('becfg_path: expected a directory', valueAt);
				}

				this.commandPath.push(path.resolve(directory, value));
				return;
			}

			case 'verbose': {
				const level = /^[0-3]$/.test(value) ? logLevels[Number(value)] : undefined;
				if (!level) {
					throw new ConfigError(`verbose: expected 0, 1, 2 or 3, got '${value}'`, valueAt);
				}

				this.set('log.level', level, at);
				return;
			}

			case 'debug': {
				const on = booleans.get(value.toLowerCase());
				if (on === undefined) {
					throw new ConfigError(`debug: expected a boolean, got '${value}'`, valueAt);
				}

				if (on) {
					this.set('log.level', 'debug', at);
				}

				return;
			}

			default: {
				break;
			}
		}

		const name = optionsByKey.get(key);
		if (!name) {
			throw new ConfigError(`unknown key '${key}'`, at);
		}

		const {kind} = optionTextKeys[name];
		let converted: unknown = value;
		if (kind === 'integer' && /^[+-]?\d+$/.test(value)) {
			converted = Number(value);
		} else if (kind === 'boolean') {
			converted = booleans.get(value.toLowerCase()) ?? value;
		} else if (kind === 'list') {
			converted = [value === '' ? value : path.resolve(directory, value)];
		}

		const checked = optionSchema(name).safeParse(converted);
		if (!checked.success) {
			const issue = checked.error.issues[0];
			throw new ConfigError(`${key}: ${issue?.message ?? 'invalid value'}, got '${value}'`, valueAt);
		}

		if (kind === 'list') {
			const list = (this.options[name] ?? []) as string[];
			this.set(name, [...list, ...(converted as string[])], at);
		} else {
			this.set(name, converted, at);
		}
	}

	private set(name: OptionName, value: unknown, at: Origin): void {
		if (name === 'log.level' || name === 'log.file') {
			const log = (this.options['log'] ?? {}) as Record<string, unknown>;
			log[name === 'log.level' ? 'level' : 'file'] = value;
			this.options['log'] = log;
		} else {
			this.options[name] = value;
		}

		this.places.set(`options.${name}`, at);
	}

	private declare(file: string, kind: 'object' | 'backend', trimmed: string, origin: Origin): void {
		const match = /^(?:object|backend)\s+([^\s=]+)\s*=\s*(.*)$/.exec(trimmed);
		const name = match?.[1];
		const value = unquote(match?.[2] ?? '');
		if (!name || value === '') {
			throw new ConfigError(`malformed ${kind} line: expected '${kind} ${kind === 'object' ? 'ALIAS = PATTERN' : 'NAME = LIBRARY'}'`, origin);
		}

		if (kind === 'object') {
			const earlier = this.aliases.get(name);
			if (earlier && earlier.pattern !== value) {
				throw new ConfigError(`object alias '${name}' is already declared at ${formatPlace({file: earlier.origin.file, line: earlier.origin.line})} as '${earlier.pattern}'`, origin);
			}

			this.aliases.set(name, earlier ?? {pattern: value, origin});
			return;
		}

		const library = resolveLibrary(value, path.dirname(file));
		const earlier = this.declared.get(name);
		if (earlier) {
			if (earlier.library !== library) {
				throw new ConfigError(`backend '${name}' is already declared at ${formatPlace({file: earlier.origin.file, line: earlier.origin.line})} with library '${earlier.library}'`, origin);
			}

			return;
		}

		this.declared.set(name, {library, origin});
		this.places.set(`backends.${this.backends.length}`, origin);
		this.backends.push({name, library});
	}

	private rule(kind: 'relink' | 'redefine' | 'callback', tokens: Token[], at: (column: number) => Origin): void {
		const [keyword, object, function_, backend, wrapper] = tokens;
		const counts = kind === 'callback' ? [4, 5] : [5];
		if (!keyword || !object || !function_ || !backend || !counts.includes(tokens.length)) {
			const column = tokens[Math.max(...counts)]?.column ?? keyword?.column ?? 1;
			throw new ConfigError(`malformed ${kind} line: expected '${ruleUsage[kind]}'`, at(column));
		}

		const index = this.rules.length;
		const fields: Record<string, string> = {object: this.objectField(object, at)};
		const place = (field: string, token: Token) => {
			this.places.set(`rules.${index}.${kind}.${field}`, at(token.column));
		};

		this.places.set(`rules.${index}`, at(keyword.column));
		place('object', object);
		if (kind === 'callback') {
			if (function_.text !== '*') {
				throw new ConfigError(`malformed callback line: the function field must be '*', got '${function_.text}'`, at(function_.column));
			}

			fields['backend'] = this.backendField(backend, at);
			place('backend', backend);
			if (wrapper) {
				fields['handler'] = wrapper.text;
				place('handler', wrapper);
				this.handlers.push({name: wrapper.text, origin: at(wrapper.column)});
			}
		} else if (wrapper) {
			fields['function'] = function_.text;
			place('function', function_);
			fields['backend'] = this.backendField(backend, at);
			place('backend', backend);
			fields['wrapper'] = wrapper.text;
			place('wrapper', wrapper);
		}

		this.rules.push({[kind]: fields});
	}

	private objectField(token: Token, at: (column: number) => Origin): string {
		const alias = this.aliases.get(token.text);
		if (alias) {
			return alias.pattern;
		}

		if (isObjectPattern(token.text)) {
			return token.text;
		}

		throw new ConfigError(`unknown object alias '${token.text}'`, at(token.column));
	}

	private backendField(token: Token, at: (column: number) => Origin): string {
		if (this.declared.has(token.text)) {
			return token.text;
		}

		if (this.options['allowLibAsBe'] === true) {
			const alias = this.aliases.get(token.text);
			if (alias) {
				return alias.pattern;
			}

			if (isObjectPattern(token.text)) {
				return token.text;
			}
		}

		throw new ConfigError(`unknown backend '${token.text}'`, at(token.column));
	}

	private finalChecks(): void {
		const maxThreads = (this.options['maxThreads'] ?? 256) as number;
		const numThreads = (this.options['numThreads'] ?? 0) as number;
		if (numThreads > maxThreads) {
			throw new ConfigError(`num_threads: expected an integer ≤ max_threads (${maxThreads}), got '${numThreads}'`, this.places.get('options.numThreads') ?? {file: this.file});
		}

		const [handler] = this.handlers;
		if (handler && this.options['cbAllowHandler'] !== true) {
			throw new ConfigError(`callback handler '${handler.name}' needs cb_allow_handler = on`, handler.origin);
		}
	}
}

/**
 * Parses a config in the native text dialect (docs/config.md): runs the `global` section of
 * `file` with its `Include`s, then the `runtime` and `config` command files, and checks the result
 * against the same schema as JSON and YAML. `file` names the text in messages and is where
 * relative paths start (the current directory when omitted); included and command files are read
 * from disk. `Warning` lines end up in `warnings`; every error is a {@link ConfigError} at the
 * file, line and column of the offending token (or at the place a `#@origin FILE:LINE:COL` comment
 * gives for the line after it).
 */
export function parseTextDialect(text: string, file?: string): NormalizedConfig {
	return new TextReader(file === undefined ? '<config>' : path.resolve(file), text).read();
}
