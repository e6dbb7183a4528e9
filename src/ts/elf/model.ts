/**
 * The ELF view of a process, as the native core reports it. Addresses are
 * hexadecimal strings (`"0x7f..."`) because 64-bit addresses do not fit a
 * JavaScript number.
 */

/** One loaded object: the executable, a shared library, the loader or the vDSO. */
export type LoadedObject = {
	/** Position in load (and symbol search) order. */
	index: number;
	/** Absolute path; the executable's is read from `/proc/self/exe`. */
	path: string;
	/** The soname, or the file name when the object has none. */
	name: string;
	soname: string | null;
	/** Load bias (`l_addr`): 0x0 for a non-PIE executable. */
	base: string;
	/** End of the highest loaded segment. */
	end: string;
	main: boolean;
	pie: boolean;
	/** Has a `PT_GNU_RELRO` segment. */
	relro: boolean;
	/** Linked with `-z now` (`DT_BIND_NOW`, `DF_BIND_NOW` or `DF_1_NOW`). */
	bindNow: boolean;
	vdso: boolean;
	/** The dynamic loader (ld.so). */
	loader: boolean;
	/** An object of pdi itself (the preload core or the addon). */
	pdi: boolean;
	/** Page-aligned range that the loader made read-only after relocation. */
	relroRange: [string, string] | null;
	/** Number of dynamic symbols. */
	symbols: number;
};

/** Relocation kinds that bind a slot to a named symbol. */
export type SlotKind = 'jump_slot' | 'glob_dat' | 'abs' | 'copy';

/** Where a slot points now. */
export type SlotTarget = {
	/** Path of the object that holds the address; for an IFUNC whose resolver chose code of another object, the object whose symbol the loader bound (that other object is `implementationObject`). */
	object: string;
	/** Its soname or file name. */
	name: string;
	/** The symbol at that address: the import's own name when it matches, else the exported symbol there; null when none. */
	symbol: string | null;
	version: string | null;
	/** Offset of the address inside the object that holds it (`implementationObject` when set, else `object`). */
	offset: string;
	/** The symbol is an IFUNC: the slot holds the implementation its resolver chose. */
	ifunc: boolean;
	/** For an IFUNC, the exported name of the chosen implementation, when it has one. */
	implementation: string | null;
	/** For an IFUNC whose resolver chose code of another object (glibc's `gettimeofday` picks the vdso's), the path of that object; else null. */
	implementationObject: string | null;
	/** Its soname or file name (`linux-vdso.so.1`); else null. */
	implementationName: string | null;
	/** The address is a non-PIE executable's canonical PLT entry for the symbol. */
	canonicalPlt: boolean;
};

/** One import slot: a GOT entry (or copy-relocated datum) bound to a named symbol. */
export type ImportSlot = {
	/** Absolute address of the slot. */
	address: string;
	/** Offset of the slot in its object: the `Offset` column of `readelf -r`. */
	offset: string;
	kind: SlotKind;
	symbol: string;
	/** Required version (`GLIBC_2.2.5`), or null when unversioned. */
	version: string | null;
	/** The object the version is needed from (verneed), when known. */
	versionFile: string | null;
	/** A weak reference: it may stay null. */
	weak: boolean;
	/** The relocation addend (RELA), or null for REL relocations. */
	addend: number | null;
	/** The slot's page is under RELRO (read-only after start-up). */
	relro: boolean;
	/** A PLT slot that ld.so has not bound yet. */
	lazy: boolean;
	/** The slot's current content (for `copy`, the address of the copied datum). */
	value: string;
	/** Where the slot points; null when lazy or null (a weak undefined reference), and for a callback stub (see `stub`). */
	target: SlotTarget | null;
	/** When the slot holds a callback stub of pdi's (a `callback` or `act` rule at work): which, and what the stub calls; else null. */
	stub: SlotStub | null;
};

/** A callback stub in an import slot: the rule kind that put it there, the backend whose hooks it runs, and the real function it calls. */
export type SlotStub = {
	/** `act` for an act rule's stub (the core's own act backend), `callback` for a callback rule's. */
	rule: 'act' | 'callback';
	/** The backend's path, or null when the stub runs no hook of a known object. */
	backend: string | null;
	/** The function the stub calls in the end, after the hooks (and after the stub in `over`), as `target` describes a slot. */
	calls: SlotTarget | null;
	/** The stub this one calls first, when a callback rule goes over an act rule's stub (`pdi trace --config`); else null. */
	over: SlotStub | null;
};

/** An import slot together with the object it belongs to, as `imports()` returns it. */
export type ObjectImportSlot = ImportSlot & {object: string};

/** A symbol an object defines. */
export type ExportedSymbol = {
	object: string;
	symbol: string;
	version: string | null;
	/** `foo@@V2` rather than `foo@V1`. */
	defaultVersion: boolean;
	type: 'func' | 'object' | 'ifunc' | 'tls' | 'common' | 'notype' | 'other';
	bind: 'global' | 'weak' | 'unique' | 'other';
	/** Absolute address (for `tls`, the offset in the TLS block). */
	address: string;
	size: number;
};

/** A function this object defines whose symbol table entry a redefine rule points at a wrapper. */
export type RedefinedSymbol = {
	symbol: string;
	version: string | null;
	/** Where lookups of the symbol now lead. */
	address: string;
	/** The object holding that address (the backend), and the wrapper's name there. */
	object: string | null;
	wrapper: string | null;
};

/** What `pdi inspect` reports: every object, with import slots for those that were asked for. */
export type ProcessReport = {
	pid: number;
	arch: string;
	pageSize: number;
	objects: Array<LoadedObject & {imports: ImportSlot[] | null; redefined: RedefinedSymbol[]}>;
};
