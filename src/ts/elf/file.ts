import {closeSync, openSync, readSync} from 'node:fs';

/** What pdi needs to know about an executable file before preloading into it. */
export type ExecutableInfo =
	| {format: 'elf'; bits: 32 | 64; machine: string; dynamic: boolean}
	| {format: 'script'; interpreter: string}
	| {format: 'unknown'};

const machines: Record<number, string> = {3: 'i386', 62: 'x86_64', 183: 'aarch64', 40: 'arm', 243: 'riscv64'};

function readAt(fd: number, length: number, position: number): Buffer {
	const buffer = Buffer.alloc(length);
	const read = readSync(fd, buffer, 0, length, position);
	return buffer.subarray(0, read);
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

		if (header.length < 52 || header.readUInt32BE(0) !== 0x7F_45_4C_46) {
			return {format: 'unknown'};
		}

		const bits = header[4] === 2 ? 64 : 32;
		const little = header[5] === 1;
		const u16 = (buffer: Buffer, offset: number) => little ? buffer.readUInt16LE(offset) : buffer.readUInt16BE(offset);
		const u32 = (buffer: Buffer, offset: number) => little ? buffer.readUInt32LE(offset) : buffer.readUInt32BE(offset);
		const machine = machines[u16(header, 18)] ?? `machine ${u16(header, 18)}`;
		const phoff = bits === 64 ? Number(little ? header.readBigUInt64LE(32) : header.readBigUInt64BE(32)) : u32(header, 28);
		const phentsize = u16(header, bits === 64 ? 54 : 42);
		const phnum = u16(header, bits === 64 ? 56 : 44);
		const table = readAt(fd, phentsize * phnum, phoff);
		let dynamic = false;
		for (let index = 0; index < phnum && (index + 1) * phentsize <= table.length; index++) {
			const type = u32(table, index * phentsize);
			if (type === 3) { // PT_INTERP
				dynamic = true;
			}
		}

		return {format: 'elf', bits, machine, dynamic};
	} finally {
		closeSync(fd);
	}
}

const dtFlags1 = 0x6F_FF_FF_FB;
const df1Pie = 0x08_00_00_00;

/**
 * Why the dynamic loader would refuse to `dlopen` this ELF file as a library, in glibc's words
 * (an executable, a position-independent one included), or undefined when it is a library.
 */
export function dlopenRefusal(file: string): string | undefined {
	const fd = openSync(file, 'r');
	try {
		const header = readAt(fd, 64, 0);
		if (header.length < 52 || header.readUInt32BE(0) !== 0x7F_45_4C_46) {
			return undefined;
		}

		const wide = header[4] === 2;
		const little = header[5] === 1;
		const u16 = (offset: number) => little ? header.readUInt16LE(offset) : header.readUInt16BE(offset);
		const word = (buffer: Buffer, offset: number) => wide
			? Number(little ? buffer.readBigUInt64LE(offset) : buffer.readBigUInt64BE(offset))
			: (little ? buffer.readUInt32LE(offset) : buffer.readUInt32BE(offset));
		if (u16(16) === 2) { // ET_EXEC
			return 'cannot dynamically load executable';
		}

		const phentsize = u16(wide ? 54 : 42);
		const table = readAt(fd, phentsize * u16(wide ? 56 : 44), word(header, wide ? 32 : 28));
		for (let at = 0; at + phentsize <= table.length; at += phentsize) {
			if ((little ? table.readUInt32LE(at) : table.readUInt32BE(at)) !== 2) { // PT_DYNAMIC
				continue;
			}

			const dynamic = readAt(fd, word(table, wide ? at + 32 : at + 16), word(table, wide ? at + 8 : at + 4));
			const entry = wide ? 16 : 8;
			for (let offset = 0; offset + entry <= dynamic.length; offset += entry) {
				if (word(dynamic, offset) === dtFlags1 && (word(dynamic, offset + entry / 2) & df1Pie) !== 0) {
					return 'cannot dynamically load position-independent executable';
				}
			}
		}

		return undefined;
	} finally {
		closeSync(fd);
	}
}
