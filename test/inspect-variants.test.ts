import {readFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import type {ImportSlot, ProcessReport} from '../src/ts/index.js';
import {pdi, root} from './helpers/cli.js';
import {scratchDirectory} from './helpers/files.js';
import {hasRelroSegment, readelfDynamic, readelfSlotKeys, slotKeys} from './helpers/readelf.js';

type Variant = {name: string; pie: boolean; now: boolean; noPlt: boolean; relro: boolean};

const variants: Variant[] = [
	{name: 'lazy-pie', pie: true, now: false, noPlt: false, relro: true},
	{name: 'now-pie', pie: true, now: true, noPlt: false, relro: true},
	{name: 'noplt-pie', pie: true, now: false, noPlt: true, relro: true},
	{name: 'lazy-nopie', pie: false, now: false, noPlt: false, relro: true},
	{name: 'now-nopie', pie: false, now: true, noPlt: false, relro: true},
	{name: 'noplt-nopie', pie: false, now: false, noPlt: true, relro: true},
	{name: 'norelro-pie', pie: true, now: false, noPlt: false, relro: false},
];

const scratch = scratchDirectory('pdi-variants-');

type Run = {
	report: ProcessReport;
	/** `called X at 0x..`, `table_entry at 0x..` and the like, as the program printed them. */
	printed: Map<string, string>;
	program: string;
	library: string;
	main: ImportSlot[];
	lib: ImportSlot[];
};

const runs = new Map<string, Promise<Run>>();

async function inspectVariant(variant: Variant): Promise<Run> {
	const program = path.join(root, 'test/fixtures/out', variant.name, 'fixprog');
	const library = path.join(root, 'test/fixtures/out', variant.name, 'libfix.so');
	const output = path.join(scratch, `${variant.name}.json`);
	const result = await pdi(['inspect', '--json', '--run', '-o', output, '--', program]);
	if (result.code !== 0) {
		throw new Error(`pdi inspect --run ${variant.name} exited ${result.code}: ${result.stderr}`);
	}

	const printed = new Map<string, string>();
	for (const line of result.stdout.split('\n')) {
		const match = /^(?:called )?(\S+) at (0x[\da-f]+)$/.exec(line);
		if (match?.[1] && match[2]) {
			printed.set(match[1], match[2]);
		}
	}

	if (!result.stdout.endsWith('done\n')) {
		throw new Error(`fixprog ${variant.name} did not finish: ${result.stdout}`);
	}

	const report = JSON.parse(readFileSync(output, 'utf8')) as ProcessReport;
	const mainObject = report.objects.find(object => object.main);
	const libObject = report.objects.find(object => object.soname === 'libfix.so');
	return {report, printed, program, library, main: mainObject?.imports ?? [], lib: libObject?.imports ?? []};
}

function run(variant: Variant): Promise<Run> {
	let pending = runs.get(variant.name);
	if (!pending) {
		pending = inspectVariant(variant);
		runs.set(variant.name, pending);
	}

	return pending;
}

function slot(slots: ImportSlot[], symbol: string, version?: string): ImportSlot | undefined {
	return slots.find(candidate => candidate.symbol === symbol && (version === undefined || candidate.version === version) && candidate.kind !== 'abs');
}

for (const variant of variants) {
	test(`${variant.name}: every symbol-bound relocation of the program and the library is reported, as readelf lists them`, async t => {
		const {main, lib, program, library} = await run(variant);
		t.deepEqual(slotKeys(main), readelfSlotKeys(program));
		t.deepEqual(slotKeys(lib), readelfSlotKeys(library));
	});

	test(`${variant.name}: object flags match how the files were linked`, async t => {
		const {report, program, library} = await run(variant);
		const mainObject = report.objects.find(object => object.main)!;
		const libObject = report.objects.find(object => object.soname === 'libfix.so')!;
		t.is(mainObject.path, program);
		t.is(libObject.path, library);
		t.is(mainObject.pie, variant.pie);
		t.is(mainObject.base === '0x0', !variant.pie);
		t.is(mainObject.bindNow, variant.now);
		t.is(libObject.bindNow, variant.now);
		t.is(mainObject.relro, variant.relro);
		t.is(libObject.relro, variant.relro);
		t.is(mainObject.relro, hasRelroSegment(program));
		t.is(libObject.bindNow, /\bNOW\b|BIND_NOW/.test(readelfDynamic(library)));
	});

	test(`${variant.name}: lazy PLT slots are reported lazy before main, bound slots name their target`, async t => {
		const {main, lib} = await run(variant);
		const lazyExpected = !variant.now;
		for (const imports of [main, lib]) {
			for (const entry of imports.filter(candidate => candidate.kind === 'jump_slot')) {
				t.is(entry.lazy, lazyExpected, `${entry.symbol} lazy`);
				t.is(entry.target === null, lazyExpected, `${entry.symbol} target`);
			}

			for (const entry of imports.filter(candidate => candidate.kind === 'glob_dat' && candidate.value !== '0x0')) {
				t.false(entry.lazy);
				t.truthy(entry.target, `${entry.symbol} target`);
				t.is(entry.target?.symbol, entry.symbol);
			}
		}
	});

	test(`${variant.name}: RELRO state follows the link: GOT under RELRO, PLT slots too only with -z now`, async t => {
		const {main, lib} = await run(variant);
		for (const imports of [main, lib]) {
			for (const entry of imports) {
				if (!variant.relro) {
					t.false(entry.relro, `${entry.symbol}`);
				} else if (entry.kind === 'glob_dat') {
					t.true(entry.relro, `${entry.symbol}`);
				} else if (entry.kind === 'jump_slot') {
					t.is(entry.relro, variant.now, `${entry.symbol}`);
				} else if (entry.kind === 'copy') {
					t.false(entry.relro, `${entry.symbol}`);
				}
			}
		}
	});

	test(`${variant.name}: bound slots hold the addresses the called functions print`, async t => {
		const {main, printed} = await run(variant);
		const expectations: Array<[string, string, string]> = [
			['fix_add', 'V1', 'fix_add'],
			['foo', 'V1', 'foo@V1'],
			['foo', 'V2', 'foo@V2'],
			['fix_ifunc', 'V1', 'fix_ifunc_fast'],
		];
		for (const [symbol, version, printedName] of expectations) {
			const entry = slot(main, symbol, version);
			t.truthy(entry, `${symbol}@${version} imported`);
			t.is(entry?.kind, variant.noPlt ? 'glob_dat' : 'jump_slot');
			if (entry?.lazy) {
				continue;
			}

			t.is(entry?.value, printed.get(printedName), `${symbol}@${version} value`);
			t.is(entry?.target?.name, 'libfix.so');
			t.is(entry?.target?.symbol, symbol);
			t.is(entry?.target?.version, version);
		}

		t.is(variant.now || variant.noPlt, !slot(main, 'fix_add')?.lazy);
	});

	test(`${variant.name}: the IFUNC slot names the implementation its resolver chose`, async t => {
		const {main} = await run(variant);
		const entry = slot(main, 'fix_ifunc', 'V1');
		if (!variant.now && !variant.noPlt) {
			t.true(entry?.lazy);
			return;
		}

		t.true(entry?.target?.ifunc);
		t.is(entry?.target?.implementation, 'fix_ifunc_fast');
		const strlen = slot(main, 'strlen');
		t.is(strlen?.lazy, !variant.now && !variant.noPlt);
		if (!strlen?.lazy) {
			t.is(strlen?.target?.name, 'libc.so.6');
			t.true(strlen?.target?.ifunc);
		}
	});

	test(`${variant.name}: versioned imports name their version and the file that provides it`, async t => {
		const {main} = await run(variant);
		const versions = main.filter(entry => entry.symbol === 'foo').map(entry => `${entry.version}:${entry.versionFile}`).sort();
		t.deepEqual(versions, ['V1:libfix.so', 'V2:libfix.so']);
		t.is(slot(main, 'printf')?.version, 'GLIBC_2.2.5');
		t.is(slot(main, 'printf')?.versionFile, 'libc.so.6');
	});

	test(`${variant.name}: the weak undefined reference is reported as a null slot`, async t => {
		const {lib} = await run(variant);
		const entry = slot(lib, 'fix_optional_hook');
		t.is(entry?.kind, 'glob_dat');
		t.true(entry?.weak);
		t.is(entry?.value, '0x0');
		t.is(entry?.target, null);
		t.false(entry?.lazy);
	});

	test(`${variant.name}: data imports (stdout, environ, fix_data) are reported with their definitions`, async t => {
		const {main, lib, program} = await run(variant);
		const stdoutCopy = slot(main, 'stdout');
		t.is(stdoutCopy?.kind, 'copy');
		t.is(stdoutCopy?.target?.name, 'libc.so.6');
		t.is(slot(main, '__environ')?.target?.name, 'libc.so.6');
		t.is(slot(main, 'fix_data')?.target?.name, 'libfix.so');
		const libStdout = slot(lib, 'stdout');
		t.is(libStdout?.kind, 'glob_dat');
		t.is(libStdout?.target?.symbol, 'stdout');
		t.is(libStdout?.target?.object, program, 'libfix binds stdout to the program\'s copy');
		t.is(libStdout?.value, stdoutCopy?.value);
	});

	test(`${variant.name}: a function's address taken by program and library is one address`, async t => {
		const {main, lib, printed} = await run(variant);
		const libSlot = slot(lib, 'fix_addr_taken');
		t.is(libSlot?.value, printed.get('lib_pointer'));
		t.is(printed.get('table_entry'), printed.get('lib_pointer'));
		if (variant.pie) {
			const table = main.find(entry => entry.kind === 'abs' && entry.symbol === 'fix_addr_taken');
			t.is(table?.value, printed.get('fix_addr_taken'));
			t.is(table?.target?.name, 'libfix.so');
			t.false(libSlot?.target?.canonicalPlt);
		} else {
			t.is(libSlot?.target?.object, path.join(root, 'test/fixtures/out', variant.name, 'fixprog'));
			t.true(libSlot?.target?.canonicalPlt);
			t.not(libSlot?.value, printed.get('fix_addr_taken'));
		}
	});
}
