#!/usr/bin/env node
// Builds the preload core and the bundled backends for another architecture
// with a cross compiler, from the source lists of binding.gyp (the one list),
// into build/arch/<arch>/. The Node addon stays host-only.
//
//   node scripts/build-arch.mjs aarch64|i386 [...]   (one or more, each into its own directory)
import {execFileSync} from 'node:child_process';
import {accessSync, constants, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const compilers = {aarch64: 'aarch64-linux-gnu-gcc', i386: 'i686-linux-gnu-gcc'};
const crossLibraries = {aarch64: '/usr/aarch64-linux-gnu/lib', i386: '/usr/i686-linux-gnu/lib'};
const packages = {aarch64: 'gcc-aarch64-linux-gnu libc6-dev-arm64-cross', i386: 'gcc-i686-linux-gnu libc6-dev-i386-cross'};

/** Ends the script with one line on stderr, as pdi's own commands do, never a stack trace. */
function fail(message) {
	console.error(`build-arch: ${message}`);
	process.exit(1);
}

/** Whether `command` is an executable file in one of PATH's directories. */
function inPath(command) {
	return (process.env.PATH ?? '').split(':').some(directory => {
		try {
			accessSync(path.resolve(directory || '.', command), constants.X_OK);
			return true;
		} catch {
			return false;
		}
	});
}

/**
 * build/arch/<arch>/sysroot, qemu-user's -L for the tests and benchmarks: the
 * cross libraries as /lib and /usr/lib, and an empty /etc/ld.so.cache. With
 * the cross directory itself as -L, the guest's loader reads the host's
 * ld.so.cache, and once Debian's libc6-i386 is installed (afl++ pulls it in)
 * that names /lib32/libc.so.6: a libc of another build than the cross loader,
 * whose fork() then loops forever in the child.
 */
function makeSysroot(out, arch) {
	const sysroot = path.join(out, 'sysroot');
	mkdirSync(path.join(sysroot, 'etc'), {recursive: true});
	mkdirSync(path.join(sysroot, 'usr'), {recursive: true});
	for (const link of [path.join(sysroot, 'lib'), path.join(sysroot, 'usr/lib')]) {
		rmSync(link, {force: true});
		symlinkSync(crossLibraries[arch], link);
	}

	writeFileSync(path.join(sysroot, 'etc/ld.so.cache'), '');
}

const usage = `usage: node scripts/build-arch.mjs ${Object.keys(compilers).join('|')} [...]`;
const arches = process.argv.slice(2);
const unknown = arches.filter(arch => !Object.hasOwn(compilers, arch));
if (arches.length === 0 || unknown.length > 0) {
	// An architecture it does not build is refused before anything is built: one
	// given after a known one was ignored, so `aarch64 i386` built aarch64 only.
	console.error(unknown.length > 0 ? `build-arch: ${unknown.map(arch => `'${arch}'`).join(', ')}: not an architecture it builds; ${usage}` : usage);
	process.exit(2);
}

for (const arch of new Set(arches)) {
	if (!inPath(compilers[arch])) {
		fail(`${compilers[arch]}: not found in PATH (Debian: apt-get install ${packages[arch]})`);
	}

	if (!existsSync(crossLibraries[arch])) {
		fail(`${crossLibraries[arch]}: no such directory: the ${arch} C library is missing (Debian: apt-get install ${packages[arch]})`);
	}
}

const gyp = JSON.parse(readFileSync(path.join(root, 'binding.gyp'), 'utf8'));
const variables = gyp.variables;
const expand = list => list.flatMap(entry => {
	const match = /^<@\((\w+)\)$/.exec(entry);
	return match ? variables[match[1]] : [entry];
});

/** Builds the core and the bundled backends for `arch` into build/arch/<arch>/. */
function build(arch) {
	const out = path.join(root, 'build/arch', arch);
	mkdirSync(out, {recursive: true});
	makeSysroot(out, arch);
	const common = ['-O2', '-fPIC', '-fvisibility=hidden', '-Wall', '-Wextra', '-Werror', '-Iinclude', '-shared', '-Wl,-z,nodelete'];

	for (const target of gyp.targets) {
		if (target.type !== 'shared_library') {
			continue;
		}

		const sources = [...(target.dependencies ?? []).includes('pdi_core') ? variables.core_sources : [], ...expand(target.sources)];
		const c = sources.filter(file => file.endsWith('.c'));
		const assembly = sources.filter(file => file.endsWith('.S'));
		// binding.gyp's paths in flags are relative to build/, where node-gyp links (no absolute path: make splits one
		// that holds a blank); this link runs in the root.
		const ldflags = (target.ldflags ?? []).map(flag => flag.replace('=../', `=${root}/`));
		const output = path.join(out, `${target.target_name}.so`);
		try {
			execFileSync(compilers[arch], [
				...common, '-std=c11', '-o', output, ...c, ...assembly, ...ldflags, ...(target.libraries ?? []),
			], {cwd: root, stdio: 'inherit'});
		} catch {
			fail(`${compilers[arch]} could not build ${path.relative(root, output)} (its messages are above)`);
		}

		process.stdout.write(`${path.relative(root, output)}\n`);
	}
}

for (const arch of new Set(arches)) {
	build(arch);
}
