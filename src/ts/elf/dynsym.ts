import {readFileSync} from 'node:fs';

const shtSymtab = 2;
const shtDynsym = 11;
const stbLocal = 0;
const shnUndef = 0;
const definedBindings = new Set([1, 2, 10]); // STB_GLOBAL, STB_WEAK, STB_GNU_UNIQUE
const definedTypes = new Set([0, 2, 10]); // STT_NOTYPE, STT_FUNC, STT_GNU_IFUNC
const dataTypes = new Set([1, 5, 6]); // STT_OBJECT, STT_COMMON, STT_TLS

/**
 * The names of the functions a shared object defines for the dynamic linker: the `.dynsym`
 * entries that are global or weak, defined (not `UND`), and of type FUNC, IFUNC or NOTYPE.
 * Reads 32- and 64-bit ELF files of either byte order; throws an Error when `file` is not ELF.
 * An object without section headers (or without `.dynsym`) defines nothing.
 */
export function definedDynamicSymbols(file: string): Set<string> {
	return dynamicSymbols(file).functions;
}

/**
 * What {@link definedDynamicSymbols} gives, the names of the variables (`OBJECT`, `COMMON`,
 * `TLS` entries) the object defines, which a rule must not take for a wrapper, and the names it
 * uses without defining them (`UND` entries, weak ones included).
 */
export function dynamicSymbols(file: string): {functions: Set<string>; data: Set<string>; undefined: Set<string>; unexported: Set<string>} {
	const data = readFileSync(file);
	if (data.length < 52 || data.readUInt32BE(0) !== 0x7F_45_4C_46 || (data[4] !== 1 && data[4] !== 2) || (data[5] !== 1 && data[5] !== 2)) {
		throw new Error(`${file} is not an ELF file`);
	}

	const is64 = data[4] === 2;
	const little = data[5] === 1;
	const u16 = (offset: number) => little ? data.readUInt16LE(offset) : data.readUInt16BE(offset);
	const u32 = (offset: number) => little ? data.readUInt32LE(offset) : data.readUInt32BE(offset);
	const word = (offset: number) => is64 ? Number(little ? data.readBigUInt64LE(offset) : data.readBigUInt64BE(offset)) : u32(offset);
	const functions = new Set<string>();
	const variables = new Set<string>();
	const used = new Set<string>();
	// Functions of the full symbol table (when it was not stripped) that are local or hidden: defined, not exported.
	const unexported = new Set<string>();
	const shoff = word(is64 ? 0x28 : 0x20);
	const shentsize = u16(is64 ? 0x3A : 0x2E);
	let shnum = u16(is64 ? 0x3C : 0x30);
	if (shoff === 0 || shentsize === 0) {
		return {functions, data: variables, undefined: used, unexported};
	}

	const section = (index: number) => {
		const base = shoff + (index * shentsize);
		if (base + shentsize > data.length) {
			throw new Error(`${file}: section header ${index} is past the end of the file`);
		}

		return {
			type: u32(base + 4),
			offset: word(base + (is64 ? 0x18 : 0x10)),
			size: word(base + (is64 ? 0x20 : 0x14)),
			link: u32(base + (is64 ? 0x28 : 0x18)),
			entsize: word(base + (is64 ? 0x38 : 0x24)),
		};
	};

	if (shnum === 0) {
		shnum = section(0).size;
	}

	for (let index = 0; index < shnum; index++) {
		const table = section(index);
		if (table.type !== shtDynsym && table.type !== shtSymtab) {
			continue;
		}

		const strings = section(table.link);
		const entsize = table.entsize || (is64 ? 24 : 16);
		for (let offset = table.offset; offset + entsize <= table.offset + table.size && offset + entsize <= data.length; offset += entsize) {
			const name = u32(offset);
			const info = data[offset + (is64 ? 4 : 12)] ?? 0;
			const other = data[offset + (is64 ? 5 : 13)] ?? 0;
			const shndx = u16(offset + (is64 ? 6 : 14));
			const hidden = (info >> 4) === stbLocal || (other & 3) !== 0;
			const kind = table.type === shtSymtab
				? (shndx !== shnUndef && hidden && definedTypes.has(info & 0xF) ? unexported : undefined)
				: (shndx === shnUndef ? used : (definedTypes.has(info & 0xF) ? functions : (dataTypes.has(info & 0xF) ? variables : undefined)));
			if (name === 0 || (table.type === shtDynsym && !definedBindings.has(info >> 4)) || kind === undefined) {
				continue;
			}

			const start = strings.offset + name;
			const end = data.indexOf(0, start);
			if (start < data.length && end !== -1) {
				kind.add(data.toString('utf8', start, end));
			}
		}
	}

	return {functions, data: variables, undefined: used, unexported};
}
