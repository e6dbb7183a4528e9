import {chmodSync, cpSync, readFileSync, symlinkSync} from 'node:fs';
import path from 'node:path';
import {pdiPaths} from '../../src/ts/index.js';
import {root} from './cli.js';
import {scratchDirectory} from './files.js';

/**
 * A copy of the built package (package.json, dist and the native directory) in a fresh directory of `mode`, for a
 * test that runs pdi as another user: a checkout may lie under a mode 0700 directory, as CI's clone does. Its
 * dependencies are a link to the checkout's (`link`: enough when this process loads the copy) or copies of the
 * production ones (`copy`: that user runs the copy's CLI, and may not pass through to the checkout's).
 */
export function copyBuiltPackage(prefix: string, mode: number, dependencies: 'link' | 'copy'): string {
	const directory = scratchDirectory(prefix);
	chmodSync(directory, mode);
	for (const part of ['package.json', 'dist', path.relative(root, pdiPaths().nativeDirectory)]) {
		cpSync(path.join(root, part), path.join(directory, part), {recursive: true});
	}

	if (dependencies === 'link') {
		symlinkSync(path.join(root, 'node_modules'), path.join(directory, 'node_modules'));
		return directory;
	}

	const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as {packages: Record<string, {dev?: boolean; devOptional?: boolean}>};
	for (const [name, entry] of Object.entries(lock.packages)) {
		if (name.startsWith('node_modules/') && !name.slice('node_modules/'.length).includes('node_modules/') && entry.dev !== true && entry.devOptional !== true) {
			cpSync(path.join(root, name), path.join(directory, name), {recursive: true});
		}
	}

	return directory;
}
