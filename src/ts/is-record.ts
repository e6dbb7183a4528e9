/** Whether `value` is a plain object of keys (not null, not an array): a JSON or YAML mapping. */
export function isRecord(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}
