/*
 * Compile-time checks that the config types written out as plain TypeScript (types.ts, act-types.ts), which the
 * package's declarations name, stay what the zod schemas accept and give: a check that fails is a type error in
 * the schema's module, where the type is `true`.
 */

/** `true` when `A` and `B` are the same type, not merely assignable to each other (optional keys, `readonly`...). */
export type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;

/** The type `true`, and a type error where a check of `Checks` is not true. */
export type AllTrue<Checks extends readonly true[]> = Checks[number];

/**
 * `T` with every list readonly, at every depth, and nothing else changed: what the plain types accept where the
 * schema's inferred ones have mutable lists (a rule written `as const`).
 */
export type ReadonlyListsIn<T> = T extends readonly (infer Item)[]
	? ReadonlyArray<ReadonlyListsIn<Item>>
	: T extends object ? {[Key in keyof T]: ReadonlyListsIn<T[Key]>} : T;
