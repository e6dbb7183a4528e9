import {writeFileSync} from 'node:fs';
import path from 'node:path';
import {pdi} from './cli.js';
import {runPreloaded} from './preload.js';

/** Writes `text` to `directory/name`; returns the file's path. */
export function writeIn(directory: string, name: string, text: string): string {
	const file = path.join(directory, name);
	writeFileSync(file, text);
	return file;
}

/**
 * The one line `pdi config check FILE` prints when it refuses FILE (status 2), checked against the core's own for
 * the same file read by hand (`PDI_CONFIG`), which must refuse it with the same line and status.
 */
export async function refusedAlike(t: {is: (actual: unknown, expected: unknown, message?: string) => void}, file: string): Promise<string> {
	const checked = await pdi(['config', 'check', file]);
	t.is(checked.code, 2, checked.stderr);
	const byHand = await runPreloaded('/bin/true', [], file);
	t.is(byHand.code, 2, byHand.stderr);
	t.is(byHand.stderr, checked.stderr, 'the core says the same');
	return checked.stderr;
}
