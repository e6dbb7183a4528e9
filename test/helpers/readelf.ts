import {execFileSync} from 'node:child_process';

/** A relocation as `readelf -rW` prints it. */
export type ReadelfRelocation = {offset: bigint; type: string; symbol: string; version: string | null};

const slotTypes = new Set(['R_X86_64_JUMP_SLOT', 'R_X86_64_GLOB_DAT', 'R_X86_64_64', 'R_X86_64_COPY']);

export const kindOfType: Record<string, string> = {
	R_X86_64_JUMP_SLOT: 'jump_slot',
	R_X86_64_GLOB_DAT: 'glob_dat',
	R_X86_64_64: 'abs',
	R_X86_64_COPY: 'copy',
};

/** The symbol-bound GOT/data relocations of `file`, read by binutils (the independent reference). */
export function readelfSlots(file: string): ReadelfRelocation[] {
	const text = execFileSync('readelf', ['-rW', file], {encoding: 'utf8', maxBuffer: 64 * 1024 * 1024});
	const result: ReadelfRelocation[] = [];
	for (const line of text.split('\n')) {
		const fields = line.trim().split(/\s+/);
		const [offset, , type, , name] = fields;
		if (!offset || !type || !name || !slotTypes.has(type) || !/^[\da-f]+$/.test(offset)) {
			continue;
		}

		const match = /^([^@]+)(?:@@?(.+))?$/.exec(name);
		if (!match?.[1]) {
			continue;
		}

		result.push({offset: BigInt('0x' + offset), type, symbol: match[1], version: match[2] ?? null});
	}

	return result;
}

/** Dynamic section flags of `file` as `readelf -d` prints them. */
export function readelfDynamic(file: string): string {
	return execFileSync('readelf', ['-dW', file], {encoding: 'utf8'});
}

/** Whether `file` has a PT_GNU_RELRO segment. */
export function hasRelroSegment(file: string): boolean {
	return execFileSync('readelf', ['-lW', file], {encoding: 'utf8'}).includes('GNU_RELRO');
}

/** Comparable keys of import slots as pdi reports them: `offset kind symbol@version`. */
export function slotKeys(slots: ReadonlyArray<{offset: string; kind: string; symbol: string; version: string | null}>): string[] {
	return slots.map(slot => `${BigInt(slot.offset).toString(16)} ${slot.kind} ${slot.symbol}@${slot.version ?? ''}`).sort();
}

/** The same keys for the relocations readelf lists in `file`. */
export function readelfSlotKeys(file: string): string[] {
	return readelfSlots(file).map(slot => `${slot.offset.toString(16)} ${kindOfType[slot.type]} ${slot.symbol}@${slot.version ?? ''}`).sort();
}
