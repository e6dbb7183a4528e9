import path from 'node:path';

/**
 * `file` made absolute (against `directory`) as open() and execve() read it: path.resolve() drops a trailing slash,
 * which names a directory (`-c app.yaml/`, `-o out.txt/` and `/bin/ls/` are "not a directory", not the file).
 */
export function resolveKeepingSlash(file: string, directory = process.cwd()): string {
	const absolute = path.resolve(directory, file);
	return file.endsWith('/') && absolute !== '/' ? `${absolute}/` : absolute;
}
