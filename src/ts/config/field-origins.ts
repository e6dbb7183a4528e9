import type {ActField} from './act-tokens.js';
import type {Origin} from './config-error.js';
import type {NormalizedBackend, NormalizedRule} from './types.js';

/** The fields of a backend or a rule that {@link fieldOrigin} knows the place of (an act rule's `when.arg`, `do.return`...). */
export type PlacedField = 'library' | 'object' | 'function' | 'backend' | 'wrapper' | 'handler' | ActField;

const fieldOrigins = new WeakMap<NormalizedBackend | NormalizedRule, Partial<Record<PlacedField, Origin>>>();

/** Notes where each of `fields` of `entry` was written, when `locate` knows and it is not the entry's own place; returns `entry`. */
export function placeFields<T extends NormalizedBackend | NormalizedRule>(entry: T, fields: readonly PlacedField[], locate: (field: PlacedField) => Origin | undefined): T {
	const places: Partial<Record<PlacedField, Origin>> = {};
	for (const field of fields) {
		const origin = locate(field);
		if (origin !== undefined && (origin.file !== entry.origin?.file || origin.line !== entry.origin.line || origin.column !== entry.origin.column)) {
			places[field] = origin;
		}
	}

	fieldOrigins.set(entry, places);
	return entry;
}

/**
 * Where one field of a backend or a rule was written (its value: the `library` of a backend,
 * the `wrapper` of a relink), for a config read from a file; otherwise, or when the field was not
 * written, the entry's own origin.
 */
export function fieldOrigin(entry: NormalizedBackend | NormalizedRule, field: PlacedField): Origin | undefined {
	return fieldOrigins.get(entry)?.[field] ?? entry.origin;
}

const entryNames = new WeakMap<NormalizedBackend | NormalizedRule, string>();

/** Notes how messages name `entry` when it has no place: `rules[2]`, its index in the config it was given in; returns `entry`. */
export function nameEntry<T extends NormalizedBackend | NormalizedRule>(entry: T, name: string): T {
	entryNames.set(entry, name);
	return entry;
}

/**
 * How messages name an entry of a config given in memory: its index in the object it was written in
 * (also after {@link mergeConfigs} put it behind the rules of files), else `fallback`.
 */
export function entryName(entry: NormalizedBackend | NormalizedRule, fallback: string): string {
	return entryNames.get(entry) ?? fallback;
}
