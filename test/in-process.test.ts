import {execFileSync} from 'node:child_process';
import {realpathSync} from 'node:fs';
import test from 'ava';
import {exports, imports, objects, PdiError} from '../src/ts/index.js';
import {readelfDynamic, readelfSlotKeys, slotKeys} from './helpers/readelf.js';

const node = realpathSync(process.execPath);

test('objects() lists the Node executable first, libc, the loader and the pdi addon', t => {
	const list = objects();
	const main = list[0];
	t.is(main?.path, node);
	t.true(main?.main);
	const isPie = /Type:\s+DYN/.test(execFileSync('readelf', ['-h', node], {encoding: 'utf8'}));
	t.is(main?.pie, isPie);
	t.is(main?.bindNow, /BIND_NOW|FLAGS_1.*NOW/.test(readelfDynamic(node)));
	t.true(list.some(object => object.soname === 'libc.so.6'));
	t.true(list.some(object => object.loader));
	t.true(list.some(object => object.pdi && object.path.endsWith('.node')));
	t.deepEqual(list.map(object => object.index), list.map((_, index) => index));
});

test('imports() of the Node executable are exactly its symbol-bound relocations', t => {
	const slots = imports('$main');
	t.deepEqual(slotKeys(slots), readelfSlotKeys(node));
	t.true(slots.every(slot => slot.object === node));
});

test('imports() of the Node executable point at the addresses libc exports', t => {
	const libcExports = new Map(exports('libc.so.6').map(symbol => [`${symbol.symbol}@${symbol.version ?? ''}`, symbol]));
	const slots = imports('$main').filter(slot => slot.kind !== 'copy' && !slot.lazy && slot.target?.name === 'libc.so.6' && !slot.target.ifunc);
	t.true(slots.length > 50);
	for (const slot of slots) {
		const definition = libcExports.get(`${slot.target?.symbol ?? ''}@${slot.target?.version ?? ''}`);
		t.is(definition?.address, slot.value, `${slot.symbol}`);
	}

	const getpid = imports('$main').find(slot => slot.symbol === 'getpid');
	t.is(getpid?.target?.symbol, 'getpid');
	t.is(getpid?.target?.name, 'libc.so.6');
});

test('imports() of libc.so.6 are exactly its symbol-bound relocations, with ld.so functions among them', t => {
	const libc = objects().find(object => object.soname === 'libc.so.6');
	t.truthy(libc);
	const slots = imports('libc.so.6');
	t.deepEqual(slotKeys(slots), readelfSlotKeys(libc!.path));
	const tlsGetAddr = slots.find(slot => slot.symbol === '__tls_get_addr');
	t.is(tlsGetAddr?.versionFile, 'ld-linux-x86-64.so.2');
});

test('exports() of libc.so.6 are its defined dynamic symbols, IFUNCs marked', t => {
	const libc = objects().find(object => object.soname === 'libc.so.6')!;
	const symbols = exports('libc.so.6');
	const defined = execFileSync('readelf', ['--dyn-syms', '-W', libc.path], {encoding: 'utf8'})
		.split('\n')
		.filter(line => /^\s*\d+:/.test(line) && !/\bUND\b/.test(line) && !/\bLOCAL\b/.test(line));
	t.is(symbols.length, defined.length);
	t.is(symbols.find(symbol => symbol.symbol === 'strlen')?.type, 'ifunc');
	const printf = symbols.find(symbol => symbol.symbol === 'printf');
	t.is(printf?.type, 'func');
	t.is(printf?.version, 'GLIBC_2.2.5');
	t.true(printf?.defaultVersion);
	const realpathOld = symbols.filter(symbol => symbol.symbol === 'realpath');
	t.deepEqual(realpathOld.map(symbol => `${symbol.version}:${symbol.defaultVersion}`).sort(), ['GLIBC_2.2.5:false', 'GLIBC_2.3:true']);
});

test('imports() and exports() refuse a pattern that matches no loaded object', t => {
	t.throws(() => imports('libnothing.so.9'), {instanceOf: PdiError, message: 'no loaded object matches \'libnothing.so.9\''});
	t.throws(() => exports('/no/such/lib.so'), {instanceOf: PdiError});
});

test('imports() and exports() given a pattern that is not a string throw a PdiError naming the function, not the addon\'s TypeError', t => {
	t.throws(() => imports(5 as never), {instanceOf: PdiError, message: 'imports(): expected an object pattern ($main, a soname, a path or a glob), got 5'});
	t.throws(() => exports(undefined as never), {instanceOf: PdiError, message: 'exports(): expected an object pattern ($main, a soname, a path or a glob), got undefined'});
});

test('object patterns accept a glob, an absolute path and a file name', t => {
	const libc = objects().find(object => object.soname === 'libc.so.6')!;
	t.deepEqual(slotKeys(imports('libc.so.*')), slotKeys(imports('libc.so.6')));
	t.deepEqual(slotKeys(imports(libc.path)), slotKeys(imports('libc.so.6')));
	t.deepEqual(slotKeys(imports(realpathSync(libc.path))), slotKeys(imports('libc.so.6')));
	t.true(imports('lib*.so*').some(slot => slot.object === libc.path));
});
