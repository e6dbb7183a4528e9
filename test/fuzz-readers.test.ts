// Property tests (fast-check) of the TypeScript readers, and agreement of the TypeScript and C comux readers.
// Deterministic in npm test: a fixed seed and a fixed number of runs per property. More runs:
//     PDI_FUZZ_RUNS=100000 npx ava test/fuzz-readers.test.ts     (runs of each property; PDI_FUZZ_SEED=N another seed)
import {spawnSync} from 'node:child_process';
import {existsSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {isDeepStrictEqual} from 'node:util';
import test from 'ava';
import fc from 'fast-check';
import {stringify as yamlStringify} from 'yaml';
import {
	AWAIT_RESPONSE, COMUX_CHUNK_HEADER_SIZE, COMUX_HEADER_SIZE, COMUX_MAGIC, COMUX_MAX_CHUNK_LEN, COMUX_MAX_CHUNKS, COMUX_MAX_CONNS, ComuxError, NO_SHUTDOWN,
	checkComuxHead, comux, parseComux, serializeComux, validateComux, type ComuxChunk, type ComuxDocument,
} from '../src/ts/comux/index.js';
import {compileConfig, ConfigError, loadConfig, parseTextDialect, type NormalizedConfig} from '../src/ts/config/index.js';
import {optionNames, optionTable, setOptionValue, type OptionName, type OptionSpec} from '../src/ts/config/options.js';
import {loadError, scratchDirectory} from './helpers/files.js';
import {fixtures} from './helpers/preload.js';

/** Runs of each property: PDI_FUZZ_RUNS, else `fallback` (what npm test runs). */
function runs(fallback: number): number {
	const wanted = Number(process.env['PDI_FUZZ_RUNS']);
	return Number.isSafeInteger(wanted) && wanted > 0 ? wanted : fallback;
}

const seed = Number(process.env['PDI_FUZZ_SEED'] ?? 20_160_116);

/** fast-check's parameters of a property: the fixed seed, `count` runs (or PDI_FUZZ_RUNS). */
function settings(count: number): fc.Parameters<unknown> {
	return {seed, numRuns: runs(count)};
}

// ---- comux ------------------------------------------------------------------------------------

const verdictProgram = path.join(fixtures, 'comux-verdict/comux-verdict');

/** The verdict line of the TypeScript parser: `ok`, or `error: MESSAGE` for a ComuxError; anything else is thrown. */
function tsVerdict(bytes: Uint8Array): string {
	try {
		parseComux(bytes);
		return 'ok';
	} catch (error) {
		if (error instanceof ComuxError) {
			return `error: ${error.message}`;
		}

		throw error;
	}
}

/** The verdict lines of the C reader (comux.c, in test/fixtures/comux-verdict) on `inputs`, in one run. */
function cVerdicts(inputs: readonly Uint8Array[]): string[] {
	const stream = Buffer.concat(inputs.flatMap(input => {
		const length = Buffer.alloc(4);
		length.writeUInt32LE(input.length);
		return [length, input];
	}));
	const result = spawnSync(verdictProgram, [], {input: stream, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024});
	if (result.error !== undefined || result.status !== 0) {
		throw new Error(`${verdictProgram} failed (${result.error?.message ?? `status ${result.status}, signal ${result.signal}`}): ${result.stderr}`);
	}

	const lines = result.stdout.split('\n');
	lines.pop();
	return lines;
}

function hex(bytes: Uint8Array): string {
	return Buffer.from(bytes).toString('hex');
}

/** The u32 values where the readers' limits and comparisons are. */
const u32 = fc.oneof(
	fc.constantFrom(0, 1, 2, 3, 4, 7, 0x7F, 0x80, 0xFF, 0x100, COMUX_MAX_CONNS - 1, COMUX_MAX_CONNS, COMUX_MAX_CONNS + 1,
		COMUX_MAX_CHUNKS, COMUX_MAX_CHUNKS + 1, COMUX_MAX_CHUNK_LEN, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFE, 0xFFFF_FFFF),
	fc.nat({max: 0xFFFF_FFFF}),
);

const flagsValue = fc.oneof(fc.constantFrom(0, AWAIT_RESPONSE, NO_SHUTDOWN, AWAIT_RESPONSE | NO_SHUTDOWN), u32);

/** A valid document: every connection has a chunk, in a shuffled order, with small data. */
const validDocument: fc.Arbitrary<ComuxDocument> = fc.nat({max: 6}).chain(numConns => fc.record({
	extra: fc.array(fc.nat({max: Math.max(numConns - 1, 0)}), {maxLength: numConns === 0 ? 0 : 6}),
	keys: fc.array(fc.double({noNaN: true}), {minLength: 12, maxLength: 12}),
	scheds: fc.array(fc.oneof(fc.nat({max: 5}), u32), {minLength: 12, maxLength: 12}),
	flags: fc.array(fc.constantFrom(0, AWAIT_RESPONSE, NO_SHUTDOWN, AWAIT_RESPONSE | NO_SHUTDOWN), {minLength: 12, maxLength: 12}),
	data: fc.array(fc.uint8Array({maxLength: 24}), {minLength: 12, maxLength: 12}),
}).map(({extra, keys, scheds, flags, data}): ComuxDocument => {
	const conns = [...Array.from({length: numConns}, (_, conn) => conn), ...extra];
	const order = conns.map((conn, index) => ({conn, key: keys[index] ?? 0})).sort((a, b) => a.key - b.key);
	const chunks = order.map(({conn}, index): ComuxChunk => ({conn, sched: scheds[index] ?? 0, flags: flags[index] ?? 0, data: data[index] ?? new Uint8Array()}));
	return {version: 0, numConns, chunks};
}));

/** The offsets of every field of a valid file: the header's, and each chunk header's. */
function fieldOffsets(bytes: Uint8Array): Array<{offset: number; field: 'u32' | 'len'}> {
	const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
	const fields: Array<{offset: number; field: 'u32' | 'len'}> = [{offset: 8, field: 'u32'}, {offset: 12, field: 'u32'}, {offset: 16, field: 'u32'}];
	for (let offset = COMUX_HEADER_SIZE; offset + COMUX_CHUNK_HEADER_SIZE <= bytes.length;) {
		fields.push({offset, field: 'u32'}, {offset: offset + 4, field: 'len'}, {offset: offset + 12, field: 'u32'}, {offset: offset + 16, field: 'u32'});
		offset += COMUX_CHUNK_HEADER_SIZE + Number(view.getBigUint64(offset + 4, true));
	}

	return fields.filter(({offset, field}) => offset + (field === 'len' ? 8 : 4) <= bytes.length);
}

/** Lengths that are off by a little, at the limit, or overflow a 32-bit or 64-bit offset. */
const lenValue = fc.oneof(
	fc.constantFrom(0n, 1n, 19n, 20n, 21n, 64n, BigInt(COMUX_MAX_CHUNK_LEN), BigInt(COMUX_MAX_CHUNK_LEN) + 1n, 0xFFFF_FFFFn, 0x1_0000_0000n,
		0x1_0000_0014n, 0x7FFF_FFFF_FFFF_FFFFn, 0x8000_0000_0000_0000n, 0xFFFF_FFFF_FFFF_FFECn, 0xFFFF_FFFF_FFFF_FFFFn),
	fc.bigInt({min: 0n, max: 0xFFFF_FFFF_FFFF_FFFFn}),
);

type Corruption =
	| {kind: 'field'; pick: number; value: number; len: bigint; delta: number}
	| {kind: 'byte'; pick: number; value: number}
	| {kind: 'truncate'; pick: number}
	| {kind: 'append'; bytes: Uint8Array}
	| {kind: 'flags'; pick: number; value: number};

const corruption: fc.Arbitrary<Corruption> = fc.oneof(
	fc.record({kind: fc.constant('field' as const), pick: fc.nat(), value: u32, len: lenValue, delta: fc.integer({min: -3, max: 3})}),
	fc.record({kind: fc.constant('byte' as const), pick: fc.nat(), value: fc.nat({max: 255})}),
	fc.record({kind: fc.constant('truncate' as const), pick: fc.nat()}),
	fc.record({kind: fc.constant('append' as const), bytes: fc.uint8Array({minLength: 1, maxLength: 24})}),
	fc.record({kind: fc.constant('flags' as const), pick: fc.nat(), value: flagsValue}),
);

/** `bytes` with one corruption applied (a copy). */
function corrupt(bytes: Uint8Array, change: Corruption): Uint8Array {
	const copy = new Uint8Array(bytes);
	const view = new DataView(copy.buffer);
	const fields = fieldOffsets(bytes);
	switch (change.kind) {
		case 'field': {
			if (fields.length === 0) {
				return copy;
			}

			const {offset, field} = fields[change.pick % fields.length]!;
			if (field === 'len') {
				// Either a value of its own, or the real length moved by a few bytes.
				const moved = view.getBigUint64(offset, true) + BigInt(change.delta);
				view.setBigUint64(offset, change.delta !== 0 && moved >= 0n ? moved : change.len, true);
			} else {
				view.setUint32(offset, change.delta === 0 ? change.value : (view.getUint32(offset, true) + change.delta) >>> 0, true);
			}

			return copy;
		}

		case 'flags': {
			const chunks = fields.filter(({field}) => field === 'len');
			const chunk = chunks[change.pick % Math.max(chunks.length, 1)];
			if (chunk) {
				view.setUint32(chunk.offset + 12, change.value, true);
			}

			return copy;
		}

		case 'byte': {
			if (copy.length > 0) {
				copy[change.pick % copy.length] = change.value;
			}

			return copy;
		}

		case 'truncate': {
			return copy.slice(0, change.pick % (copy.length + 1));
		}

		case 'append': {
			const longer = new Uint8Array(copy.length + change.bytes.length);
			longer.set(copy);
			longer.set(change.bytes, copy.length);
			return longer;
		}
	}
}

const corruptedDocument = fc.tuple(validDocument, fc.array(corruption, {minLength: 1, maxLength: 3}))
	.map(([doc, changes]) => changes.reduce(corrupt, serializeComux(doc)));

/** Random bytes; half of them behind a good magic and version, so that they reach the counts and chunks. */
const randomBytes = fc.oneof(
	fc.uint8Array({maxLength: 64}),
	fc.tuple(fc.uint8Array({maxLength: 80}), fc.boolean()).map(([tail, version]) => {
		const bytes = new Uint8Array(12 + tail.length);
		bytes.set(COMUX_MAGIC);
		bytes[8] = version ? 0 : 1;
		bytes.set(tail, 12);
		return bytes;
	}),
);

/** Every kind of input: valid, corrupted, random. */
const anyInput = fc.oneof({weight: 1, arbitrary: validDocument.map(serializeComux)}, {weight: 4, arbitrary: corruptedDocument}, {weight: 2, arbitrary: randomBytes});

/** Inputs the C and TypeScript readers once disagreed on, or that sit on an edge, kept as fixed cases. */
const regressions: Array<[string, Uint8Array]> = [
	['empty input', new Uint8Array()],
	['a magic of 3 bytes', COMUX_MAGIC.slice(0, 3)],
	['a chunk length that wraps a 64-bit offset', corrupt(serializeComux(comux().conn(0, 'x').build()), {kind: 'field', pick: 4, value: 0, len: 0xFFFF_FFFF_FFFF_FFECn, delta: 0})],
	['a chunk length past the 32-bit range', corrupt(serializeComux(comux().conn(0, 'x').build()), {kind: 'field', pick: 4, value: 0, len: 0x1_0000_0001n, delta: 0})],
];

test('the TypeScript comux parser throws nothing but ComuxError, on valid, corrupted and random inputs', t => {
	fc.assert(fc.property(anyInput, bytes => {
		tsVerdict(bytes);
	}), settings(2000));
	fc.assert(fc.property(fc.uint8Array({maxLength: 24}), fc.nat({max: 0x2000_0000}), (head, length) => {
		try {
			checkComuxHead(head, length);
		} catch (error) {
			if (!(error instanceof ComuxError)) {
				throw error;
			}
		}
	}), settings(500));
	t.pass();
});

/** Values of every type, for the fields of a document given to validateComux. */
const oddValue = fc.oneof(fc.anything({withNullPrototype: true, withBigInt: true, withTypedArray: true, withBoxedValues: true}), u32,
	fc.constantFrom(-1, 0.5, Number.NaN, Infinity, 2 ** 32, 2 ** 53));

test('validateComux throws nothing but ComuxError on documents with fields of any type', t => {
	const chunk = fc.record({conn: fc.oneof(fc.nat({max: 3}), oddValue), sched: fc.oneof(u32, oddValue), flags: fc.oneof(flagsValue, oddValue),
		data: fc.oneof(fc.uint8Array({maxLength: 4}), oddValue)}, {requiredKeys: []});
	const doc = fc.record({version: fc.oneof(fc.constant(0), oddValue), numConns: fc.oneof(fc.nat({max: 4}), oddValue),
		chunks: fc.oneof(fc.array(fc.oneof(chunk, oddValue), {maxLength: 5}), oddValue)}, {requiredKeys: []});
	fc.assert(fc.property(fc.oneof(doc, oddValue), value => {
		try {
			validateComux(value as ComuxDocument);
		} catch (error) {
			if (!(error instanceof ComuxError)) {
				throw error;
			}
		}
	}), settings(2000));
	t.pass();
});

test('a valid comux document round-trips through serializeComux and parseComux, and the builder makes the same bytes', t => {
	fc.assert(fc.property(validDocument, doc => {
		const bytes = serializeComux(doc);
		const parsed = parseComux(bytes);
		if (JSON.stringify(parsed, (_key, value: unknown) => value instanceof Uint8Array ? hex(value) : value)
			!== JSON.stringify(doc, (_key, value: unknown) => value instanceof Uint8Array ? hex(value) : value)) {
			throw new Error('the parsed document differs from the serialized one');
		}

		if (hex(serializeComux(parsed)) !== hex(bytes)) {
			throw new Error('serializing the parsed document gives other bytes');
		}

		const builder = comux().numConns(doc.numConns);
		for (const {conn, sched, flags, data} of doc.chunks) {
			builder.conn(conn, data, {sched, awaitResponse: (flags & AWAIT_RESPONSE) !== 0, noShutdown: (flags & NO_SHUTDOWN) !== 0});
		}

		if (hex(builder.bytes()) !== hex(bytes)) {
			throw new Error('the builder gives other bytes');
		}
	}), settings(1000));
	t.pass();
});

test('the C comux reader of the backend gives the same verdict and message as the TypeScript parser on every generated input', t => {
	if (!existsSync(verdictProgram)) {
		t.fail(`${verdictProgram} is missing: npm run build:fixtures`);
		return;
	}

	const kinds = new Map<string, number>();
	const compare = (inputs: readonly Uint8Array[]) => {
		const c = cVerdicts(inputs);
		for (const [index, input] of inputs.entries()) {
			const ts = tsVerdict(input);
			const kind = ts.replaceAll(/0x[\da-f]+|\d+/g, 'N');
			kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
			if (c[index] !== ts) {
				throw new Error(`input ${hex(input)}: C says '${c[index]}', TypeScript says '${ts}'`);
			}
		}
	};

	compare(regressions.map(([, bytes]) => bytes));
	// Batches of inputs: one run of the C program per batch.
	fc.assert(fc.property(fc.array(anyInput, {minLength: 1, maxLength: 100, size: 'max'}), compare), settings(60));
	t.log([...kinds].sort((a, b) => b[1] - a[1]).map(([kind, count]) => `${count} ${kind}`).join('\n'));
	// The generators reach every verdict of the format but the 256 MiB limit (checkComuxHead's property has it).
	t.deepEqual([...kinds.keys()].sort(), ['error: N trailing bytes at byte N', 'error: bad magic at byte N',
		'error: chunk N: conn_id N is not below num_conns N at byte N', 'error: chunk N: len N exceeds the limit N at byte N',
		'error: chunk N: unknown flags N at byte N', 'error: connection N has no chunk at byte N', 'error: num_chunks N exceeds the limit N at byte N',
		'error: num_conns N exceeds the limit N at byte N', 'error: truncated data of chunk N (only N of its N bytes) at byte N', 'error: truncated header (only N of its N bytes) at byte N',
		'error: truncated header of chunk N (only N of its N bytes) at byte N', 'error: unsupported version N at byte N', 'ok']);
});

test('the C and TypeScript comux readers agree on every prefix of valid documents (truncation at every offset)', t => {
	const documents = fc.sample(validDocument, {seed, numRuns: runs(40)});
	const inputs = documents.flatMap(doc => {
		const bytes = serializeComux(doc);
		return Array.from({length: bytes.length + 1}, (_, length) => bytes.slice(0, length));
	});
	const c = cVerdicts(inputs);
	const differ = inputs.map((input, index) => ({input, c: c[index], ts: tsVerdict(input)})).filter(({c, ts}) => c !== ts);
	t.deepEqual(differ.slice(0, 3).map(({input, c, ts}) => `${hex(input)}: C '${c}', TypeScript '${ts}'`), []);
	t.true(inputs.length > 100);
});

test('validateComux names a field of any type without throwing: an object without a prototype (found by fast-check)', t => {
	const error = t.throws(() => validateComux({version: [Object.create(null)], chunks: []} as unknown as ComuxDocument), {instanceOf: ComuxError});
	t.is(error.message, 'unsupported version object at byte 8');
});

// ---- configs ----------------------------------------------------------------------------------

const configDirectory = scratchDirectory('pdi-fuzz-readers-');

/** Writes `files` (name → text) into the scratch directory; returns the absolute path of each. */
function writeConfigFiles(files: Record<string, string>): Map<string, string> {
	const written = new Map<string, string>();
	for (const [name, text] of Object.entries(files)) {
		const file = path.join(configDirectory, name);
		writeFileSync(file, text);
		written.set(file, text);
	}

	return written;
}

/** Characters that mean something to one of the readers, or that readers get wrong. */
const specials = ['"', '\\', '#', '=', ':', ' ', '\t', '\r', '\n', '\0', '[', ']', '{', '}', ',', '-', '*', '$', '&', '!', '😀', 'é', '\u2028', '\uFEFF'];

/** Short strings of every kind: the readers' special characters, unicode, control characters. */
const oddString = fc.oneof(
	fc.constantFrom('', ' ', 'a b', '$main', '*', 'libc.so.6', 'lib*.so*', '/opt/x/liby.so', './be.so', 'noop', 'count', 'f@@V2', '😀😀', 'x\ny', 'a\0b', '-1', '0x10', 'on', 'null', '~'),
	fc.string({unit: 'grapheme', maxLength: 10}),
	fc.string({unit: 'binary', maxLength: 6}),
	fc.array(fc.constantFrom(...specials, 'a', 'b', '1'), {maxLength: 8}).map(parts => parts.join('')),
);

/** Mutations of a config's text: a character deleted, one of {@link specials} inserted, the text cut. */
const textMutation = fc.oneof(
	fc.record({kind: fc.constant('delete' as const), at: fc.nat()}),
	fc.record({kind: fc.constant('insert' as const), at: fc.nat(), text: fc.oneof(fc.constantFrom(...specials), oddString)}),
	fc.record({kind: fc.constant('cut' as const), at: fc.nat()}),
);

function mutateText(text: string, mutations: ReadonlyArray<{kind: 'delete' | 'insert' | 'cut'; at: number; text?: string}>): string {
	let result = text;
	for (const {kind, at, text: inserted} of mutations) {
		const index = at % (result.length + 1);
		const rest = kind === 'delete' ? result.slice(index + 1) : kind === 'insert' ? (inserted ?? '') + result.slice(index) : '';
		result = result.slice(0, index) + rest;
	}

	return result;
}

const mutations = fc.oneof({weight: 2, arbitrary: fc.constant([])}, {weight: 3, arbitrary: fc.array(textMutation, {minLength: 1, maxLength: 3})});

/** What an option may be given: valid values of every kind, and odd ones. */
const optionValue = fc.oneof(
	fc.constantFrom(0, 1, 4, 255, 256, 2_147_483_647, 2_147_483_648, -1, 1e300, 0.5, true, false, 'on', 'off', 'fail', 'warn', 'info', 'debug', 'stderr', 'log.txt', ['/opt/a', 'b'], []),
	oddString, fc.integer(), fc.double(), fc.constant(null), fc.jsonValue({maxDepth: 2}),
);

/** A valid value of an option. */
const otherOptions = {boolean: fc.boolean(), file: fc.constantFrom('stderr', 'log.txt', '/tmp/pdi log.txt'), directories: fc.array(fc.constantFrom('/opt/a', 'b', 'c d'), {maxLength: 2})};
const validOption = (spec: OptionSpec): fc.Arbitrary<unknown> => spec.kind === 'integer' ? fc.integer({min: spec.min, max: spec.max}) : spec.kind === 'choice' ? fc.constantFrom(...spec.choices) : otherOptions[spec.kind];

const optionEntry = fc.oneof(
	{weight: 6, arbitrary: fc.constantFrom(...optionNames).chain(name => fc.tuple(fc.constant(name), validOption(optionTable[name])))},
	{weight: 1, arbitrary: fc.tuple(fc.oneof(fc.constantFrom(...optionNames, 'donttouchBackends', 'allowLibAsBe', 'log', 'bogus'), oddString), optionValue)},
);
const jsonOptions = fc.array(optionEntry, {maxLength: 4}).map(entries => {
	const options: Record<string, unknown> = {};
	for (const [name, value] of entries) {
		setOptionValue(options, name as OptionName, value);
	}

	return options;
});

/** A value that is usually of the right kind (one of `good`), sometimes odd. */
const mostly = <T>(good: fc.Arbitrary<T>) => fc.oneof({weight: 30, arbitrary: good}, {weight: 1, arbitrary: oddString}, {weight: 1, arbitrary: optionValue});
const name = mostly(fc.constantFrom('b', 'fix', 'count', 'a.b+c-d'));
const library = mostly(fc.constantFrom('noop', 'count', 'my.so', './be.so', '/opt/be.so', '../x/be.so', '/opt/my app/be.so'));
const field = mostly(fc.constantFrom('$main', '*', 'libc.so.6', 'lib*.so*', '/opt/my app/x', 'a "q" \\ #x', 'f', 'fix_add', 'malloc@@GLIBC_2.2.5', 'w', 'b', 'fix', 'count'));
const extraKeys = fc.oneof({weight: 12, arbitrary: fc.constant({})}, {weight: 1, arbitrary: fc.dictionary(oddString, optionValue, {maxKeys: 2})});

const actWhen = fc.record({call: mostly(fc.oneof(fc.nat({max: 5}), fc.array(fc.nat({max: 5}), {maxLength: 3}))), from: mostly(fc.nat({max: 4})),
	times: fc.nat({max: 4}), every: fc.nat({max: 4}), probability: mostly(fc.constantFrom(0, 0.25, 1, 1.5)), seed: mostly(fc.nat()),
	arg: mostly(fc.nat({max: 16})), matches: mostly(fc.constantFrom('/etc/*', 'a b "c" \\ #x', '😀')),
	equals: mostly(fc.constantFrom(42, -3, '0xffffffffffffffff', '9007199254740993', '18446744073709551616'))}, {requiredKeys: []});
const actDo = fc.record({return: mostly(fc.constantFrom(-1, 0, '0x7fffffffffffffff', {double: 1.5})),
	errno: mostly(fc.constantFrom('ENOENT', 'EWOULDBLOCK', 'ENOTBLK', 'ENOPE')), delay: mostly(fc.constantFrom(50, 0, 0.0001, '1.5s', '10ns', '0.5ns', '5 ms')),
	signal: mostly(fc.constantFrom('SIGUSR1', 'SEGV', 'SIGIOT', 'KILLME')), count: mostly(fc.boolean())}, {requiredKeys: []});

const jsonRule = fc.oneof(
	fc.tuple(fc.constantFrom('relink', 'redefine'), fc.record({object: field, function: field, backend: field, wrapper: field}, {requiredKeys: ['function', 'backend', 'wrapper']}), extraKeys)
		.map(([kind, body, extra]) => ({[kind]: {...body, ...extra}})),
	fc.tuple(fc.record({object: field, backend: field, handler: field}, {requiredKeys: ['object', 'backend']}), extraKeys).map(([body, extra]) => ({callback: {...body, ...extra}})),
	fc.record({object: field, function: field, when: actWhen, do: actDo}, {requiredKeys: ['function', 'do']}).map(act => ({act})),
	fc.dictionary(fc.constantFrom('relink', 'redefine', 'callback', 'act', 'bogus'), fc.jsonValue({maxDepth: 2}), {maxKeys: 2}),
);

/** Objects shaped like the schema (configSchema in src/ts/config/schema.ts) with values of every kind, or any JSON value. */
const jsonConfig = fc.oneof(
	{weight: 6, arbitrary: fc.record({$schema: mostly(fc.constant('./schema.json')), options: mostly(jsonOptions),
		backends: mostly(fc.array(fc.tuple(fc.record({name, library}, {requiredKeys: ['name', 'library']}), extraKeys).map(([backend, extra]) => ({...backend, ...extra})), {maxLength: 3})),
		rules: mostly(fc.array(jsonRule, {maxLength: 4}))}, {requiredKeys: []}).chain(config => extraKeys.map(extra => ({...config, ...extra})))},
	{weight: 1, arbitrary: fc.jsonValue({maxDepth: 4})},
);

/** Text of a JSON or YAML config: a generated object, written out (and maybe mutated), or deep nesting. */
const structuredText = fc.oneof(
	{weight: 8, arbitrary: fc.tuple(jsonConfig, fc.constantFrom('.json', '.yaml', '.yml'), fc.constantFrom(0, 2, '\t'), fc.oneof({weight: 2, arbitrary: fc.constant([])}, {weight: 1, arbitrary: mutations}))
		.map(([value, extension, indent, changes]) => ({extension, text: mutateText(extension === '.json' ? JSON.stringify(value, null, indent) : yamlStringify(value), changes)}))},
	{weight: 1, arbitrary: fc.tuple(fc.constantFrom('.json', '.yaml'), fc.integer({min: 1, max: 3000}), fc.constantFrom(['[', ']'], ['{"a": ', '}'], ['{a: ', '}']), fc.boolean())
		.map(([extension, depth, [open, close], closed]) => ({extension, text: `{"rules": ${open.repeat(depth)}1${closed ? close.repeat(depth) + '}' : ''}`}))},
);

const blank = fc.constantFrom(' ', ' ', ' ', '\t', '  ', ' \t ');
const quoted = (value: string) => `"${value.replaceAll(/["\\]/g, character => `\\${character}`)}"`;
/** A field of a text-dialect line: a word, the same quoted, or an odd string (quoted or not). */
const textField = fc.oneof({weight: 4, arbitrary: fc.constantFrom('$main', '*', 'libc.so.6', 'lib*.so*', '/opt/x/liby.so', 'f', 'fix_add', 'malloc@@GLIBC_2.2.5', 'w', 'b', 'app', 'noop', 'count', './be.so', 'a#b')},
	{weight: 1, arbitrary: oddString.map(quoted)}, {weight: 1, arbitrary: oddString});
const optionKey = fc.oneof({weight: 5, arbitrary: fc.constantFrom(...Object.values(optionTable).map(spec => spec.key), 'verbose', 'debug', 'becfg_path', 'runtime', 'config')},
	{weight: 1, arbitrary: oddString});
const textValue = fc.oneof(fc.constantFrom('on', 'off', 'YES', '0', '1', '3', '4', '256', '2147483647', '2147483648', '-1', '1e3', 'fail', 'warn', 'info', 'stderr', 'log.txt', '"a b"', 'rules.cmd', 'nope.cmd'), textField);
const actToken = fc.oneof(fc.constantFrom('call=3,5', 'from=2', 'times=1', 'every=2', 'p=0.5', 'p=2', 'seed=7', 'arg0~"/etc/*"', 'arg1=42', 'arg99=1', 'return=-1',
	'return=double:1.5', 'return=0xffffffffffffffffff', 'errno=ENOENT', 'errno=ENOPE', 'errno=EWOULDBLOCK', 'delay=50ms', 'delay=1.5s', 'signal=SIGSEGV', 'signal=SIGIOT', 'count', 'call=', '=1'), oddString);
const words = (parts: readonly string[], blanks: readonly string[]) => parts.map((part, index) => index === 0 ? part : `${blanks[index % blanks.length] ?? ' '}${part}`).join('');

/** One line of the text dialect, from its grammar (docs/config.md). */
const textLine = fc.tuple(fc.oneof(
	fc.tuple(optionKey, textValue).map(([key, value]) => [key, '=', value]),
	fc.tuple(fc.constantFrom('backend', 'object'), textField, textField).map(([keyword, alias, value]) => [keyword, alias, '=', value]),
	fc.tuple(fc.constantFrom('relink', 'redefine'), fc.array(textField, {minLength: 3, maxLength: 5})).map(([kind, fields]) => [kind, ...fields]),
	fc.tuple(textField, fc.constantFrom('*', '*', 'f'), textField, fc.array(textField, {maxLength: 2})).map(([object, fn, backend, rest]) => ['callback', object, fn, backend, ...rest]),
	fc.tuple(textField, textField, fc.array(actToken, {maxLength: 4})).map(([object, fn, tokens]) => ['act', object, fn, ...tokens]),
	fc.tuple(fc.constantFrom('', 'other.cfg', 'missing.cfg', '/nonexistent/x.cfg'), fc.constantFrom('', ':a', ':b', ':global', ':missing', ':')).map(([file, section]) => ['Include', quoted(file + section)]),
	fc.constantFrom(['[a]'], ['[b]'], ['[global]'], ['[a'], ['[]'], ['reset_config'], ['#', 'comment'], [], ['Warning', 'some', 'text'], ['Warning', '"quoted \\" text"'], ['Error', 'stop']),
	fc.array(textField, {maxLength: 4}),
), fc.array(blank, {minLength: 1, maxLength: 3}), fc.constantFrom('', '', '', '   # trailing comment', '#x', ' \r')).map(([parts, blanks, tail]) => words(parts, blanks) + tail);

const textFile = fc.tuple(fc.array(textLine, {maxLength: 10}), mutations).map(([lines, changes]) => mutateText(lines.map(line => `${line}\n`).join(''), changes));
const commandFile = fc.array(fc.oneof(textLine, fc.constantFrom('backend b = noop', 'relink $main f b w', 'callback * * b')), {maxLength: 4}).map(lines => lines.join('\n'));

/** Fails unless every issue of `error` names one of the `files` that were read, and a line and column inside it. */
function checkPlaces(error: unknown, files: ReadonlyMap<string, string>, needsLine: boolean): void {
	if (!(error instanceof ConfigError)) {
		throw error;
	}

	for (const issue of error.issues) {
		const text = issue.file === undefined ? undefined : files.get(issue.file);
		if (text === undefined) {
			throw new Error(`${error.message}: names no file that was read (${issue.file})`);
		}

		const lines = text.split('\n');
		// Columns count characters (code points), as every reader counts them.
		const characters = (line: string) => [...line].length;
		if (issue.line === undefined) {
			if (needsLine) {
				throw new Error(`${error.message}: names no line`);
			}

			continue;
		}

		const line = lines[issue.line - 1];
		if (issue.line < 1 || line === undefined) {
			throw new Error(`${error.message}: line ${issue.line} is not in the file (${lines.length} lines)`);
		}

		if (issue.column !== undefined && (issue.column < 1 || issue.column > characters(line) + 1)) {
			throw new Error(`${error.message}: column ${issue.column} is not in line ${issue.line} (${characters(line)} characters)`);
		}
	}
}

/** A normalized config without its places, to compare with the same config read back. */
function withoutOrigins(config: NormalizedConfig): unknown {
	return {
		options: config.options,
		backends: config.backends.map(({origin: _origin, ...backend}) => backend),
		rules: config.rules.map(({origin: _origin, ...rule}) => rule),
		warnings: config.warnings.map(({message}) => message),
	};
}

/**
 * Fails unless `config`, compiled to the text dialect and read back by the core's reader, is the same config;
 * false when the config cannot be read alone (a rule's backend is declared by no file).
 */
function checkRoundTrip(config: NormalizedConfig): boolean {
	const declared = new Set(config.backends.map(backend => backend.name));
	if (!config.options.allowUndeclaredWrappers && config.rules.some(rule => rule.kind !== 'act' && !declared.has(rule.backend))) {
		return false; // Another file of the same run (mergeConfigs) may declare it; the dialect alone cannot read the rule.
	}

	const compiled = compileConfig(config);
	let reread: NormalizedConfig;
	try {
		reread = parseTextDialect(compiled, path.join(configDirectory, 'compiled.cfg'));
	} catch (error) {
		throw new Error(`the compiled config does not read back: ${(error as Error).message}\n${compiled}`, {cause: error});
	}

	if (!isDeepStrictEqual(withoutOrigins(reread), withoutOrigins(config))) {
		throw new Error(`the compiled config reads back as another config:\n${JSON.stringify(withoutOrigins(config))}\n${JSON.stringify(withoutOrigins(reread))}\n${compiled}`);
	}

	return true;
}

test('loadConfig of generated JSON and YAML configs throws only ConfigError, at a place in the file; what it accepts compiles and reads back the same', async t => {
	let accepted = 0;
	let roundTrips = 0;
	await fc.assert(fc.asyncProperty(structuredText, async ({extension, text}) => {
		const files = writeConfigFiles({[`config${extension}`]: text});
		const [file] = files.keys();
		let config: NormalizedConfig;
		try {
			config = await loadConfig(file!);
		} catch (error) {
			checkPlaces(error, files, true);
			return;
		}

		accepted++;
		roundTrips += checkRoundTrip(config) ? 1 : 0;
	}), settings(800));
	t.log(`${accepted} of the generated configs were accepted, ${roundTrips} compiled and read back`);
	t.true(roundTrips > 20);
});

test('the text-dialect reader throws only ConfigError on generated configs, at a line and column of a file it read; what it accepts compiles and reads back the same', async t => {
	let accepted = 0;
	let roundTrips = 0;
	await fc.assert(fc.asyncProperty(textFile, textFile, commandFile, async (main, other, commands) => {
		const files = writeConfigFiles({'main.cfg': main, 'other.cfg': other, 'rules.cmd': commands});
		const file = path.join(configDirectory, 'main.cfg');
		let config: NormalizedConfig;
		try {
			config = parseTextDialect(main, file);
		} catch (error) {
			checkPlaces(error, files, false);
			const loaded = await loadConfig(file).then(() => 'accepted', (other: unknown) => (other as Error).message);
			if (loaded !== (error as Error).message) {
				throw new Error(`loadConfig says '${loaded}', parseTextDialect '${(error as Error).message}'`, {cause: error});
			}

			return;
		}

		accepted++;
		if (!isDeepStrictEqual(await loadConfig(file), config)) {
			throw new Error('loadConfig reads another config than parseTextDialect');
		}

		roundTrips += checkRoundTrip(config) ? 1 : 0;
	}), settings(1200));
	t.log(`${accepted} of the generated configs were accepted, ${roundTrips} compiled and read back`);
	t.true(roundTrips > 20);
});

test('a YAML error names its column in characters, as the JSON and text readers do, not in UTF-16 units (found by fast-check)', async t => {
	const files = writeConfigFiles({'astral.yaml': 'rules:\n  - relink: {object: "😀😀", function: 😀, backend: 1, wrapper: w}\n'});
	const error = await loadError([...files.keys()][0]!);
	t.is(error.line, 2);
	t.is(error.column, 50);
});

test('a YAML alias without its anchor, or aliases that grow too much, are a ConfigError at an alias, not a ReferenceError (found by fast-check)', async t => {
	const ten = (alias: string) => `[${Array.from({length: 10}, () => alias).join(', ')}]`;
	const files = writeConfigFiles({'alias.yaml': 'options: *nothing\n', 'laughs.yaml': `a: &a ${ten('x')}\nb: &b ${ten('*a')}\nc: &c ${ten('*b')}\nd: ${ten('*c')}\n`});
	const messages = await Promise.all([...files.keys()].map(async file => (await loadError(file)).message.slice(file.length)));
	t.deepEqual(messages, [':1:10: syntax error: unresolved alias (the anchor must be set before the alias): nothing',
		':2:8: syntax error: excessive alias count indicates a resource exhaustion attack']);
});

test('a NUL character in a JSON string is refused where the text dialect could not hold it, not compiled to a config the core cannot read (found by fast-check)', async t => {
	const files = writeConfigFiles({'nul.json': '{"backends":[{"name":"b","library":"a\\u0000b"}],"rules":[{"act":{"function":"f","when":{"arg":0,"matches":"x\\u0000"},"do":{"count":true}}}]}'});
	const error = await loadError([...files.keys()][0]!);
	t.deepEqual(error.issues.map(issue => `${issue.line}:${issue.column}: ${issue.message}`), [
		'1:36: backends[0].library: expected a library without a NUL character, got "a\\u0000b"',
		'1:107: rules[0].act.when.matches: expected a glob without a NUL character, got "x\\u0000"',
	]);
});
