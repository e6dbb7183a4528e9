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
	| {format: 'elf'; bits: 32 | 64; machine: string; dynamic: boolean; linkage: Linkage; interpreter?: string; truncated?: Truncation; problem?: string}
	| {format: 'script'; interpreter: string}
	| {format: 'unknown'};

/** Names of ELF machines as Debian's architectures call them (e_machine); another is `machine N`. */
const machines: Record<number, string> = {
	3: 'i386', 62: 'x86_64', 183: 'aarch64', 40: 'arm', 243: 'riscv64', 8: 'mips', 20: 'powerpc', 21: 'ppc64', 22: 's390x',
	2: 'sparc', 43: 'sparc64', 4: 'm68k', 42: 'sh4', 15: 'hppa', 50: 'ia64', 258: 'loongarch64', 0x90_26: 'alpha',
};

/** An ELF file cut short: where its headers say it goes on to (`needs` bytes at least), and its size. */
export type Truncation = {needs: number | bigint; has: number};

function readAt(fd: number, length: number, position: number | bigint): Buffer {
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
/** Linux's limits (fs/binfmt_elf.c): the bytes of program headers it reads, the length of a `PT_INTERP` path. */
const kernelPhdrBytes = 65_536;
const kernelPathMax = 4096;

type Segment = {type: number; offset: bigint; size: bigint};

/**
 * The ELF header fields and program headers of an open file, or undefined when it is no ELF file. `problem` is why
 * the kernel would not run it (in words naming the field), `end` where its headers say the file goes on to.
 */
type ElfHeaders = {bits: 32 | 64; type: number; machine: number; segments: Segment[]; flags1: number; soname: boolean; end: bigint; problem?: string; interpreter?: string};

/** How the fields of an ELF header are laid out: its class (EI_CLASS) and byte order (EI_DATA). */
type Layout = {wide: boolean; little: boolean};

/** Readers of the fields of `buffer` in `layout`; a field past its end reads as 0. */
function fields(buffer: Buffer, {wide, little}: Layout) {
	const u16 = (offset: number) => offset + 2 > buffer.length ? 0 : little ? buffer.readUInt16LE(offset) : buffer.readUInt16BE(offset);
	const u32 = (offset: number) => offset + 4 > buffer.length ? 0 : little ? buffer.readUInt32LE(offset) : buffer.readUInt32BE(offset);
	const u64 = (offset: number) => offset + 8 > buffer.length ? 0n : little ? buffer.readBigUInt64LE(offset) : buffer.readBigUInt64BE(offset);
	const word = (offset: number) => wide ? u64(offset) : BigInt(u32(offset));
	return {u16, u32, word};
}

/** Whether the header reads as a sane one in `layout`: an executable's type, and the sizes of its header and program headers. */
function readsAs(header: Buffer, layout: Layout): boolean {
	const {u16} = fields(header, layout);
	const type = u16(16);
	return (type === etExec || type === etDyn) && u16(layout.wide ? 52 : 40) === (layout.wide ? 64 : 52) && u16(layout.wide ? 54 : 42) === (layout.wide ? 56 : 32);
}

/**
 * When the header does not read as a sane one in the layout its identification bytes give, but does in another:
 * which of those bytes is wrong (the kernel reads its own architecture's layout whatever they say).
 */
function wrongIdentification(header: Buffer, claimed: Layout): string | undefined {
	const other = [{wide: !claimed.wide, little: claimed.little}, {wide: claimed.wide, little: !claimed.little}, {wide: !claimed.wide, little: !claimed.little}]
		.find(layout => readsAs(header, layout));
	if (other === undefined) {
		return undefined;
	}

	const wrong: string[] = [];
	if (other.wide !== claimed.wide) {
		wrong.push(`its EI_CLASS byte is ${header[4]} (${header[4] === 1 ? '32-bit' : header[4] === 2 ? '64-bit' : 'no class'}), but its fields are laid out as ${other.wide ? 64 : 32}-bit ones`);
	}

	if (other.little !== claimed.little) {
		wrong.push(`its EI_DATA byte is ${header[5]} (${header[5] === 1 ? 'little-endian' : header[5] === 2 ? 'big-endian' : 'no byte order'}), but its fields are ${other.little ? 'little' : 'big'}-endian`);
	}

	return `an inconsistent ELF header: ${wrong.join(' and ')}`;
}

const fileTypes: Record<number, string> = {0: 'an ELF file of no type (ET_NONE)', 1: 'an ELF relocatable object (ET_REL)', 4: 'an ELF core dump (ET_CORE)'};

/**
 * Why the kernel's ELF loader (fs/binfmt_elf.c) would refuse this header with ENOEXEC, checked in its order, or
 * undefined. A refused file must not reach the exec: execvp(), as Node's spawn uses it, then runs it with /bin/sh.
 */
function headerProblem(header: Buffer, layout: Layout): string | undefined {
	const {u16} = fields(header, layout);
	const type = u16(16);
	const phentsize = u16(layout.wide ? 54 : 42);
	const phnum = u16(layout.wide ? 56 : 44);
	const entry = layout.wide ? 56 : 32;
	if (type !== etExec && type !== etDyn) {
		return wrongIdentification(header, layout) ?? `not a program: ${fileTypes[type] ?? `an ELF file of type 0x${type.toString(16)} (e_type is neither ET_EXEC nor ET_DYN)`}`;
	}

	if (phentsize !== entry) {
		return wrongIdentification(header, layout) ?? `a corrupt ELF header: e_phentsize is ${phentsize}, not ${entry} (the size of a ${layout.wide ? 64 : 32}-bit program header)`;
	}

	if (phnum === 0) {
		return 'a corrupt ELF header: e_phnum is 0 (no program headers)';
	}

	return undefined;
}

/**
 * Why the kernel would refuse the program's `PT_INTERP` (the first one: the one it reads), or undefined; its path, and
 * where the file must reach for it to be read.
 */
function interpreterOf(fd: number, interp: Segment | undefined, size: number): {problem?: string; interpreter?: string; end: bigint} {
	if (interp === undefined) {
		return {end: 0n};
	}

	const end = interp.offset + interp.size;
	if (interp.size < 2n || interp.size > BigInt(kernelPathMax)) {
		return {problem: `a corrupt ELF file: the p_filesz of its PT_INTERP (the dynamic loader's path) is ${interp.size}, where the kernel takes 2 to ${kernelPathMax} bytes`, end};
	}

	if (end > BigInt(size)) {
		return {end};
	}

	const path = readAt(fd, Number(interp.size), interp.offset);
	if (path.at(-1) !== 0) {
		return {problem: 'a corrupt ELF file: its PT_INTERP (the dynamic loader\'s path) does not end in a NUL byte', end};
	}

	return {interpreter: path.toString('latin1').replace(/\0[^]*$/, ''), end};
}

/** DT_FLAGS_1 and whether there is a DT_SONAME, from the program's dynamic segments (the part of each in the file). */
function dynamicEntries(fd: number, segments: Segment[], layout: Layout, size: number): {flags1: number; soname: boolean} {
	let flags1 = 0;
	let soname = false;
	for (const segment of segments.filter(entry => entry.type === ptDynamic && entry.offset < BigInt(size))) {
		const length = Number([segment.size, BigInt(size) - segment.offset, 1n << 20n].reduce((least, value) => value < least ? value : least));
		const dynamic = readAt(fd, length, segment.offset);
		const {word} = fields(dynamic, layout);
		const entry = layout.wide ? 16 : 8;
		for (let offset = 0; offset + entry <= dynamic.length; offset += entry) {
			const tag = word(offset);
			if (tag === BigInt(dtFlags1)) {
				flags1 |= Number(word(offset + entry / 2) & 0xFF_FF_FF_FFn);
			}

			soname ||= tag === BigInt(dtSoname);
		}
	}

	return {flags1, soname};
}

function readElfHeaders(fd: number): ElfHeaders | undefined {
	const header = readAt(fd, 64, 0);
	if (header.length < 4 || header.readUInt32BE(0) !== 0x7F_45_4C_46) {
		return undefined;
	}

	// The kernel reads its own layout whatever EI_CLASS and EI_DATA say; pdi reads theirs and names one that is wrong.
	const layout = {wide: header[4] === 2, little: header[5] !== 2};
	const bits: 32 | 64 = layout.wide ? 64 : 32;
	const empty = {bits, type: 0, machine: 0, segments: [] as Segment[], flags1: 0, soname: false};
	if (header.length < (layout.wide ? 64 : 52)) {
		return {...empty, end: BigInt(layout.wide ? 64 : 52)};
	}

	const {u16, word} = fields(header, layout);
	const {size} = fstatSync(fd);
	const identity = {...empty, type: u16(16), machine: u16(18)};
	const phoff = word(layout.wide ? 32 : 28);
	const problem = headerProblem(header, layout);
	if (problem !== undefined) {
		return {...identity, end: 0n, problem};
	}

	const phentsize = u16(layout.wide ? 54 : 42);
	const tableSize = phentsize * u16(layout.wide ? 56 : 44);
	const tableEnd = phoff + BigInt(tableSize);
	if (tableEnd > BigInt(size)) {
		return {...identity, end: tableEnd};
	}

	if (tableSize > kernelPhdrBytes) {
		return {...identity, end: tableEnd, problem: `a corrupt ELF header: e_phnum is ${tableSize / phentsize}, and its program headers take ${tableSize} bytes, more than the kernel reads (${kernelPhdrBytes})`};
	}

	const table = fields(readAt(fd, tableSize, phoff), layout);
	const segments: Segment[] = [];
	for (let at = 0; at < tableSize; at += phentsize) {
		segments.push({type: table.u32(at), offset: table.word(layout.wide ? at + 8 : at + 4), size: table.word(layout.wide ? at + 32 : at + 16)});
	}

	const interp = interpreterOf(fd, segments.find(segment => segment.type === ptInterp), size);
	// Where the file must reach at least: its program headers, the loader's path, and the file contents of its loaded segments.
	const ends = [tableEnd, interp.end, ...segments.filter(segment => segment.type === ptLoad).map(segment => segment.offset + segment.size)];
	const end = ends.reduce((most, value) => value > most ? value : most);
	return {...identity, segments, ...dynamicEntries(fd, segments, layout, size), end, problem: interp.problem, interpreter: interp.interpreter};
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

/**
 * The interpreter of a `#!` line as Linux's binfmt_script takes it from the first 256 bytes (BINPRM_BUF_SIZE): the
 * line ends at a newline (or a NUL), the name at a blank, a tab or a NUL, so a carriage return is part of it (a CRLF
 * script's `/bin/sh\r`). Undefined when the kernel refuses the line (ENOEXEC): no name, or a name that may go on past
 * those bytes; execvp() then runs the file with /bin/sh, as shells do.
 */
function shebangInterpreter(start: Buffer): string | undefined {
	const buffer = Buffer.alloc(256);
	start.copy(buffer);
	const blank = (byte: number | undefined) => byte === 0x20 || byte === 0x09;
	const terminator = (byte: number | undefined) => blank(byte) || byte === 0;
	const nul = buffer.indexOf(0);
	const newline = buffer.subarray(0, nul < 0 ? 256 : nul).indexOf(0x0A);
	let end = newline;
	if (newline < 0) {
		const first = buffer.findIndex((byte, at) => at >= 2 && !blank(byte));
		if (first < 0 || !buffer.subarray(first).some(byte => terminator(byte))) {
			return undefined;
		}

		end = 255;
	}

	while (blank(buffer[end - 1])) {
		end--;
	}

	let name = 2;
	while (name < end && blank(buffer[name])) {
		name++;
	}

	if (name >= end) {
		return undefined;
	}

	let nameEnd = name;
	while (nameEnd < end && !terminator(buffer[nameEnd])) {
		nameEnd++;
	}

	return buffer.subarray(name, nameEnd).toString('latin1');
}

/** Reads the ELF header and program headers (or a `#!` line) of `file`. */
export function readExecutableInfo(file: string): ExecutableInfo {
	const fd = openSync(file, 'r');
	try {
		const start = readAt(fd, 256, 0);
		if (start.length >= 2 && start[0] === 0x23 && start[1] === 0x21) {
			return {format: 'script', interpreter: shebangInterpreter(start) ?? '/bin/sh'};
		}

		const elf = readElfHeaders(fd);
		if (elf === undefined) {
			// Text without a #! line: execvp(), which Node's spawn and shells use, runs it with /bin/sh (ENOEXEC).
			return start.includes(0) ? {format: 'unknown'} : {format: 'script', interpreter: '/bin/sh'};
		}

		const {size} = fstatSync(fd);
		const needs = elf.end <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(elf.end) : elf.end;
		const truncated = elf.end > BigInt(size) ? {needs, has: size} : undefined;
		const linkage = linkageOf(elf);
		const machine = machines[elf.machine] ?? `machine ${elf.machine}`;
		return {format: 'elf', bits: elf.bits, machine, dynamic: linkage === 'dynamic', linkage, interpreter: elf.interpreter, truncated, problem: elf.problem};
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
		const elf = readElfHeaders(fd);
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
		const elf = readElfHeaders(fd);
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
