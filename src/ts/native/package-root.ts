import {existsSync, readFileSync} from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

/** The directory of pdi's own package.json, found by walking up from this file (tsx and dist differ in depth). */
export function packageRoot(): string {
	let directory = path.dirname(fileURLToPath(import.meta.url));
	for (;;) {
		const manifest = path.join(directory, 'package.json');
		if (existsSync(manifest)) {
			const {name} = JSON.parse(readFileSync(manifest, 'utf8')) as {name?: string};
			if (name === 'pdi') {
				return directory;
			}
		}

		const parent = path.dirname(directory);
		if (parent === directory) {
			throw new Error('pdi: cannot find the package root (no package.json named "pdi" above ' + fileURLToPath(import.meta.url) + ')');
		}

		directory = parent;
	}
}

/** The `version` field of pdi's package.json. */
export function packageVersion(): string {
	const {version} = JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as {version: string};
	return version;
}
