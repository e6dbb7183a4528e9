import {closeSync, fstatSync, openSync, readSync} from 'node:fs';

/**
 * How an ELF file is linked, as the loader sees it: `dynamic` (a program with an interpreter, `PT_INTERP`),
 * `static` (no interpreter, `ET_EXEC`), `static-pie` (no interpreter, `ET_DYN` flagged `DF_1_PIE`), or
 * `library` (`ET_DYN` without interpreter or `DF_1_PIE`: a shared library, which is no program to run; also one
 * with an interpreter and a `DT_SONAME` but no `DF_1_PIE`, such as libc.so.6, which runs to print its version).
 */
export type Linkage = 'dynamic' | 'static' | 'static-pie' | 'library';

/** What pdi needs to know about an executable file before preloading into it. */
export type ExecutableInfo =
	| {format: 'elf'; bits: 32 | 64; machine: string; dynamic: boolean; linkage: Linkage; interpreter?: string; truncated?: Truncation}
	| {format: 'script'; interpreter: string}
	| {format: 'unknown'};

/** Names of ELF machines as Debian's architectures call them (e_machine); another is `machine N`. */
const machines: Record<number, string> = {
	3: 'i386', 62: 'x86_64', 183: 'aarch64', 40: 'arm', 243: 'riscv64', 8: 'mips', 20: 'powerpc', 21: 'ppc64', 22: 's390x',
	2: 'sparc', 43: 'sparc64', 4: 'm68k', 42: 'sh4', 15: 'hppa', 50: 'ia64', 258: 'loongarch64', 0x90_26: 'alpha',
};

/** An ELF file cut short: where its headers say it goes on to (`needs` bytes at least), and its size. */
export type Truncation = {needs: number; has: number};

function readAt(fd: number, length: number, position: number): Buffer {
	const buffer = Buffer.alloc(length);
	const read = readSync(fd, buffer, 0, length, position);
	return buffer.subarray(0, read);
}

const ptLoad = 1;
const ptDynamic = 2;
const ptInterp = 3;
const etExec = 2;
const etDyn = 3;
const dtSoname = 14;
const dtFlags1 = 0x6F_FF_FF_FB;
const df1Pie = 0x08_00_00_00;

/** The ELF header fields and program headers of an open file, or undefined when it is no ELF file. */
type ElfHeaders = {bits: 32 | 64; type: number; machine: number; segments: Array<{type: number; offset: number; size: number}>; flags1: number; soname: boolean; end: number};

function readElfHeaders(fd: number, header: Buffer): ElfHeaders | undefined {
	if (header.length < 4 || header.readUInt32BE(0) !== 0x7F_45_4C_46) {
		return undefined;
	}

	const wide = header[4] === 2;
	if (header.length < (wide ? 64 : 52)) {
		return {bits: wide ? 64 : 32, type: 0, machine: 0, segments: [], flags1: 0, soname: false, end: wide ? 64 : 52};
	}

	const little = header[5] === 1;
	const u16 = (buffer: Buffer, offset: number) => little ? buffer.readUInt16LE(offset) : buffer.readUInt16BE(offset);
	const u32 = (buffer: Buffer, offset: number) => little ? buffer.readUInt32LE(offset) : buffer.readUInt32BE(offset);
	const word = (buffer: Buffer, offset: number) => wide
		? Number(little ? buffer.readBigUInt64LE(offset) : buffer.readBigUInt64BE(offset))
		: u32(buffer, offset);
	const phentsize = u16(header, wide ? 54 : 42);
	const phnum = u16(header, wide ? 56 : 44);
	const table = readAt(fd, phentsize * phnum, word(header, wide ? 32 : 28));
	const segments: ElfHeaders['segments'] = [];
	for (let at = 0; phentsize > 0 && at + phentsize <= table.length; at += phentsize) {
		segments.push({type: u32(table, at), offset: word(table, wide ? at + 8 : at + 4), size: word(table, wide ? at + 32 : at + 16)});
	}

	let flags1 = 0;
	let soname = false;
	for (const segment of segments.filter(entry => entry.type === ptDynamic)) {
		const dynamic = readAt(fd, Math.min(segment.size, 1 << 20), segment.offset);
		const entry = wide ? 16 : 8;
		for (let offset = 0; offset + entry <= dynamic.length; offset += entry) {
			const tag = word(dynamic, offset);
			if (tag === dtFlags1) {
				flags1 |= word(dynamic, offset + entry / 2);
			}

			soname ||= tag === dtSoname;
		}
	}

	// Where the file must reach at least: its program headers, and the file contents of its loaded segments.
	const loads = segments.filter(segment => segment.type === ptLoad).map(segment => segment.offset + segment.size);
	const end = Math.max(word(header, wide ? 32 : 28) + phentsize * phnum, ...loads);
	return {bits: wide ? 64 : 32, type: u16(header, 16), machine: u16(header, 18), segments, flags1, soname, end};
}

function linkageOf(elf: ElfHeaders): Linkage {
	const pie = (elf.flags1 & df1Pie) !== 0;
	if (elf.segments.some(segment => segment.type === ptInterp)) {
		return elf.type === etDyn && elf.soname && !pie ? 'library' : 'dynamic';
	}

	if (elf.type === etDyn) {
		return pie ? 'static-pie' : 'library';
	}

	return 'static';
}

/** Reads the ELF header and program headers (or a `#!` line) of `file`. */
export function readExecutableInfo(file: string): ExecutableInfo {
	const fd = openSync(file, 'r');
	try {
		const header = readAt(fd, 64, 0);
		if (header.length >= 2 && header[0] === 0x23 && header[1] === 0x21) {
			const line = readAt(fd, 256, 0).toString('latin1').split('\n')[0] ?? '';
			return {format: 'script', interpreter: line.slice(2).trim().split(/\s+/)[0] ?? ''};
		}

		const elf = readElfHeaders(fd, header);
		if (elf === undefined) {
			// Text without a #! line: execvp(), which Node's spawn and shells use, runs it with /bin/sh (ENOEXEC).
			return readAt(fd, 256, 0).includes(0) ? {format: 'unknown'} : {format: 'script', interpreter: '/bin/sh'};
		}

		const {size} = fstatSync(fd);
		const truncated = elf.end > size ? {needs: elf.end, has: size} : undefined;
		const linkage = linkageOf(elf);
		const interp = elf.segments.find(segment => segment.type === ptInterp);
		const interpreter = interp === undefined ? undefined : readAt(fd, Math.min(interp.size, 4096), interp.offset).toString('latin1').replace(/\0[^]*$/, '');
		return {format: 'elf', bits: elf.bits, machine: machines[elf.machine] ?? `machine ${elf.machine}`, dynamic: linkage === 'dynamic', linkage, interpreter, truncated};
	} finally {
		closeSync(fd);
	}
}

/** The core's names of ELF machines (src/native/core/elf-machine.h), by e_machine and class. */
function coreMachineName(machine: number, bits: 32 | 64): string {
	const names: Record<number, string> = {62: bits === 32 ? 'x32' : 'x86-64', 3: 'i386', 183: 'aarch64', 40: 'arm', 243: bits === 32 ? 'riscv32' : 'riscv64'};
	return names[machine] ?? `machine ${machine}, ${bits}-bit`;
}

/** This Node process's ELF machine and class: the architecture of the pdi build it runs. */
const hostElf: Record<string, {machine: number; bits: 32 | 64}> = {x64: {machine: 62, bits: 64}, arm64: {machine: 183, bits: 64}, ia32: {machine: 3, bits: 32}};

/** The architecture of this pdi build as {@link readExecutableInfo} names a program's (`x86_64`, `aarch64`, `i386`). */
export function hostMachineName(): string {
	const host = hostElf[process.arch];
	return host === undefined ? process.arch : machines[host.machine] ?? process.arch;
}

/**
 * The architectures, in the core's names (`aarch64`, `x86-64`), of an ELF file built for another one than this pdi
 * build's (glibc's dlopen says only that such a file is missing); undefined when it is not, or is no ELF file.
 */
export function foreignArchitecture(file: string): {built: string; host: string} | undefined {
	const fd = openSync(file, 'r');
	try {
		const elf = readElfHeaders(fd, readAt(fd, 64, 0));
		const host = hostElf[process.arch];
		if (elf === undefined || host === undefined || (elf.machine === host.machine && elf.bits === host.bits)) {
			return undefined;
		}

		return {built: coreMachineName(elf.machine, elf.bits), host: coreMachineName(host.machine, host.bits)};
	} finally {
		closeSync(fd);
	}
}

/**
 * Why the dynamic loader would refuse to `dlopen` this ELF file as a library, in glibc's words
 * (an executable, a position-independent one included), or undefined when it is a library.
 */
export function dlopenRefusal(file: string): string | undefined {
	const fd = openSync(file, 'r');
	try {
		const elf = readElfHeaders(fd, readAt(fd, 64, 0));
		if (elf === undefined) {
			return undefined;
		}

		if (elf.type === etExec) {
			return 'cannot dynamically load executable';
		}

		return (elf.flags1 & df1Pie) !== 0 ? 'cannot dynamically load position-independent executable' : undefined;
	} finally {
		closeSync(fd);
	}
}
