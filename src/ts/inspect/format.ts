import path from 'node:path';
import type {ImportSlot, LoadedObject, ProcessReport, SlotStub, SlotTarget} from '../elf/model.js';
import {escapeControls} from '../errors.js';

/** Rows as aligned columns; control characters of a cell (a newline in a path) are written `\xHH`, so each row stays one line. */
function table(cells: string[][], indent = '  '): string {
	const rows = cells.map(row => row.map(escapeControls));
	const widths: number[] = [];
	for (const row of rows) {
		for (const [column, cell] of row.entries()) {
			widths[column] = Math.max(widths[column] ?? 0, cell.length);
		}
	}

	return rows
		.map(row => indent + row.map((cell, column) => column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd())
		.join('\n');
}

/** Short flags of an object: `main pie relro now vdso loader pdi`. */
export function objectFlags(object: LoadedObject): string {
	const flags = [
		object.main && 'main',
		object.pie && 'pie',
		object.relro && (object.bindNow ? 'full-relro' : 'relro'),
		object.bindNow && 'now',
		object.vdso && 'vdso',
		object.loader && 'loader',
		object.pdi && 'pdi',
	].filter(Boolean);
	return flags.length > 0 ? flags.join(',') : '-';
}

function versioned(symbol: string, version: string | null): string {
	return version ? `${symbol}@${version}` : symbol;
}

/** `: fix_ifunc_fast`, `: linux-vdso.so.1!__vdso_time` (code of another object), `: linux-vdso.so.1+0x830`, or nothing. */
function describeImplementation(target: SlotTarget): string {
	if (target.implementationName) {
		return `: ${target.implementationName}${target.implementation ? `!${target.implementation}` : `+${target.offset}`}`;
	}

	return target.implementation ? `: ${target.implementation}` : '';
}

/** `libc.so.6!strlen@GLIBC_2.2.5 (ifunc: __strlen_avx2)`, or `-`. */
export function describeTarget(target: SlotTarget | null): string {
	if (!target) {
		return '-';
	}

	const symbol = target.symbol ? versioned(target.symbol, target.version) : `+${target.offset}`;
	let text = `${target.name}!${symbol}`;
	if (target.ifunc) {
		text += ` (ifunc${describeImplementation(target)})`;
	}

	if (target.canonicalPlt) {
		text += ' (canonical PLT)';
	}

	return text;
}

/** A slot's TARGET column: its target, or for a callback stub the rules at work and what they call (`pdi act -> libc.so.6!malloc@GLIBC_2.2.5`, `callback pdi-backend-trace.so -> pdi act -> ...`). */
export function describeSlotTarget(slot: ImportSlot): string {
	if (!slot.stub) {
		return describeTarget(slot.target);
	}

	const rules: string[] = [];
	for (let stub: SlotStub | null = slot.stub; stub; stub = stub.over) {
		rules.push(stub.rule === 'act' ? 'pdi act' : `callback ${stub.backend ? path.basename(stub.backend) : '?'}`);
	}

	return `${rules.join(' -> ')} -> ${describeTarget(slot.stub.calls)}`;
}

/** `bound`, `lazy` or `null` (a weak reference that nothing defines). */
export function slotState(slot: ImportSlot): string {
	if (slot.lazy) {
		return 'lazy';
	}

	return slot.value === '0x0' ? 'null' : 'bound';
}

/** The human-readable form of a report, as `pdi inspect` prints it. */
export function formatReport(report: ProcessReport): string {
	const lines: string[] = [`process ${report.pid} (${report.arch}, page size ${report.pageSize}): ${report.objects.length} objects`, ''];
	lines.push(table([
		['#', 'BASE', 'FLAGS', 'SONAME', 'PATH'],
		...report.objects.map(object => [String(object.index), object.base, objectFlags(object), object.soname ?? '-', object.path]),
	]));
	for (const object of report.objects) {
		for (const entry of object.redefined ?? []) {
			lines.push('', escapeControls(`redefined in ${object.path}: ${versioned(entry.symbol, entry.version)} -> ${entry.object ? path.basename(entry.object) : '?'}!${entry.wrapper ?? entry.address}`));
		}
	}

	for (const object of report.objects) {
		if (object.imports === null) {
			continue;
		}

		lines.push('', escapeControls(`imports of ${object.path} (${object.imports.length} slots)`));
		if (object.imports.length === 0) {
			continue;
		}

		lines.push(table([
			['OFFSET', 'KIND', 'STATE', 'RELRO', 'SYMBOL', 'TARGET'],
			...object.imports.map(slot => [
				slot.offset,
				slot.kind,
				slotState(slot),
				slot.relro ? 'ro' : 'rw',
				versioned(slot.symbol, slot.version) + (slot.weak ? ' (weak)' : ''),
				describeSlotTarget(slot),
			]),
		]));
	}

	return lines.join('\n') + '\n';
}
