import {spawnSync} from 'node:child_process';
import path from 'node:path';
import {readExecutableInfo} from './file.js';

/** glibc's dynamic loaders (ld-linux-x86-64.so.2, ld-linux-aarch64.so.1, ld64.so.2, ld.so.1), not musl's ld-musl-*. */
const glibcLoader = /^ld(?:-linux[\w-]*|64)?\.so\.\d+$/;

let hostLoader: string | undefined | false;

/** The dynamic loader this process was started with (Node's `PT_INTERP`) when it is glibc's, else undefined. */
function glibcHostLoader(): string | undefined {
	if (hostLoader === undefined) {
		try {
			const info = readExecutableInfo(process.execPath);
			const interpreter = info.format === 'elf' ? info.interpreter : undefined;
			hostLoader = interpreter !== undefined && glibcLoader.test(path.basename(interpreter)) ? interpreter : false;
		} catch {
			hostLoader = false;
		}
	}

	return hostLoader === false ? undefined : hostLoader;
}

/**
 * The first library that the dynamic loader cannot find among those `library` needs (its `DT_NEEDED` entries and
 * theirs), in the words `dlopen` fails with (`libfoo.so.1: cannot open shared object file: No such file or
 * directory`); undefined when every one is found, or when it cannot be told.
 *
 * Asked of glibc's loader itself, in a child in its list mode (`LD_TRACE_LOADED_OBJECTS`, which is what `ldd` runs),
 * with this process's environment: the loader applies its own search rules (`RPATH`, `RUNPATH` and `$ORIGIN`,
 * `LD_LIBRARY_PATH`, `/etc/ld.so.cache`, the system directories) and neither relocates `library` nor runs any of its
 * code. Only with glibc's loader, since musl's would run the file instead of listing it; `library` must be built for
 * this process's architecture.
 */
export function missingDependency(library: string): string | undefined {
	const loader = glibcHostLoader();
	if (loader === undefined) {
		return undefined;
	}

	const listed = spawnSync(loader, [library], {
		env: {...process.env, LD_TRACE_LOADED_OBJECTS: '1'},
		encoding: 'latin1',
		stdio: ['ignore', 'pipe', 'ignore'],
		timeout: 10_000,
	});
	const missing = /^\t(\S+) => not found$/m.exec(listed.stdout ?? '')?.[1];
	return missing === undefined ? undefined : `${missing}: cannot open shared object file: No such file or directory`;
}
