import {execFileSync} from 'node:child_process';
import {readdirSync, readFileSync, statSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {pdiPaths} from '../src/ts/index.js';
import {root} from './helpers/cli.js';

const allowedLibraries = new Set(['libc.so.6', 'libdl.so.2', 'libpthread.so.0', 'ld-linux-x86-64.so.2']);

function needed(file: string): string[] {
	return [...execFileSync('readelf', ['-dW', file], {encoding: 'utf8'}).matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map(match => match[1]!);
}

function dynamicSymbols(file: string, which: '--defined-only' | '--undefined-only'): string[] {
	return execFileSync('nm', ['-D', which, file], {encoding: 'utf8'}).split('\n').filter(Boolean).map(line => line.trim().split(/\s+/).at(-1)!);
}

test('the preload core needs nothing but the C library and the loader', t => {
	const {preload} = pdiPaths();
	t.true(needed(preload).length > 0);
	t.deepEqual(needed(preload).filter(library => !allowedLibraries.has(library)), []);
});

test('the preload core exports no internal symbol and imports only versioned glibc functions', t => {
	const {preload} = pdiPaths();
	const publicHeader = readFileSync(path.join(pdiPaths().include, 'pdi/backend.h'), 'utf8');
	// pdi_attach_*: the entry points pdi-inject calls in an attached process (src/native/preload/attach.c, docs/attach.md).
	const undeclared = dynamicSymbols(preload, '--defined-only').filter(symbol => !symbol.startsWith('pdi_attach_') && !new RegExp(`\\b${symbol}\\s*\\(`).test(publicHeader));
	t.deepEqual(undeclared, [], 'every exported symbol is public API declared in include/pdi/backend.h, or an attach entry point');
	const weakStartupSymbols = new Set(['_ITM_deregisterTMCloneTable', '_ITM_registerTMCloneTable', '__gmon_start__']);
	const unversioned = dynamicSymbols(preload, '--undefined-only').filter(symbol => !symbol.includes('@GLIBC_') && !weakStartupSymbols.has(symbol));
	t.deepEqual(unversioned, []);
});

test('the noop backend exports its entry points and needs only libc', t => {
	const backend = pdiPaths().backends['noop'];
	t.truthy(backend);
	t.deepEqual(needed(backend!).filter(library => library !== 'libc.so.6'), []);
	t.deepEqual(dynamicSymbols(backend!, '--defined-only').sort(), ['pdi_be_fini', 'pdi_be_init']);
});

test('the native directory holds exactly one Node addon next to the shared objects', t => {
	const files = readdirSync(pdiPaths().nativeDirectory);
	t.is(files.filter(file => file.endsWith('.node')).length, 1);
	t.true(files.includes('pdi-preload.so'));
});

test('the count backend exports its wrappers and finish hook and needs only libc', t => {
	const backend = pdiPaths().backends['count'];
	t.truthy(backend);
	t.deepEqual(needed(backend!).filter(library => library !== 'libc.so.6'), []);
	const exported = dynamicSymbols(backend!, '--defined-only').sort();
	t.deepEqual(exported, ['count_calloc', 'count_close', 'count_free', 'count_getpid', 'count_malloc', 'count_memcpy', 'count_open', 'count_puts', 'count_read', 'count_realloc', 'count_strlen', 'count_write', 'pdi_be_fini', 'pdi_be_init']);
});

test('the preload core exports pdi_original for backends and the entry points of pdi attach', t => {
	t.deepEqual(dynamicSymbols(pdiPaths().preload, '--defined-only').sort(), ['pdi_attach_close', 'pdi_attach_error', 'pdi_attach_open_owned', 'pdi_attach_report', 'pdi_original']);
});

test('the injector of pdi attach is an executable next to the preload core', t => {
	const {injector, nativeDirectory} = pdiPaths();
	t.is(path.dirname(injector), nativeDirectory);
	t.true((statSync(injector).mode & 0o111) !== 0);
	t.deepEqual(needed(injector).filter(library => library !== 'libc.so.6'), []);
});

test('the pdi bin is executable after a build, so npx pdi works in a checkout', t => {
	t.true((statSync(path.join(root, 'dist/cli/pdi.js')).mode & 0o111) !== 0);
});

test('the comux-accept backend exports exactly its wrappers and entry points and needs only libc', t => {
	const backend = pdiPaths().backends['comux-accept'];
	t.truthy(backend);
	t.deepEqual(needed(backend!).filter(library => library !== 'libc.so.6'), []);
	t.deepEqual(dynamicSymbols(backend!, '--defined-only').sort(), [
		'comux__Exit', 'comux__exit', 'comux_accept', 'comux_accept4', 'comux_epoll_ctl', 'comux_epoll_pwait', 'comux_epoll_wait', 'comux_listen',
		'comux_poll', 'comux_ppoll', 'comux_pselect', 'comux_select', 'pdi_be_fini', 'pdi_be_init',
	]);
});
