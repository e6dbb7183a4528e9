import {PdiError, shown} from '../errors.js';
import {nativeBinding, type NativeReport} from '../native/binding.js';
import type {ExportedSymbol, LoadedObject, ObjectImportSlot} from './model.js';

function parse<T>(report: NativeReport, pattern?: string): T {
	if (pattern !== undefined && report.matched === 0) {
		throw new PdiError(`no loaded object matches '${pattern}'`, {exitCode: 1});
	}

	return JSON.parse(report.json) as T;
}

/** Refuses a pattern that is not a string (from JavaScript) with a {@link PdiError} naming the function. */
function checkPattern(name: string, object: unknown): asserts object is string {
	if (typeof object !== 'string') {
		throw new PdiError(`${name}(): expected an object pattern ($main, a soname, a path or a glob), got ${shown(object)}`);
	}
}

/** Every object loaded in this Node process, in load order. */
export function objects(): LoadedObject[] {
	return parse<LoadedObject[]>(nativeBinding().objects());
}

/**
 * The import slots of the objects of this process that match `object`
 * (`$main`, a soname or file name, an absolute path or a glob), with what
 * each slot is bound to right now.
 *
 * @throws {PdiError} when no loaded object matches, or `object` is not a string.
 */
export function imports(object: string): ObjectImportSlot[] {
	checkPattern('imports', object);
	return parse<ObjectImportSlot[]>(nativeBinding().imports(object), object);
}

/**
 * The symbols defined by the objects of this process that match `object`.
 *
 * @throws {PdiError} when no loaded object matches, or `object` is not a string.
 */
export function exports(object: string): ExportedSymbol[] {
	checkPattern('exports', object);
	return parse<ExportedSymbol[]>(nativeBinding().exports(object), object);
}
