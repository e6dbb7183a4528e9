import path from 'node:path';
import test from 'ava';
import {refusedByCheckAndRun, root} from './helpers/cli.js';
import {compileC, writeFiles} from './helpers/files.js';
import {pdiPaths} from '../src/ts/paths.js';

// A library named without a '/' is searched in the bundled directory and be_path only, never next to the config: the
// message said only where it was searched, which left a user whose backend sat next to the config puzzled. It now
// says what to write, in every dialect.
const rule = 'relink $main malloc rl w_malloc';
const directory = writeFiles({
	'plain.cfg': `backend rl = rl.so\n${rule}\n`,
	'plain.yaml': 'backends: [{name: rl, library: rl.so}]\nrules:\n  - relink: {object: $main, function: malloc, backend: rl, wrapper: w_malloc}\n',
	'plain.json': '{"backends": [{"name": "rl", "library": "rl.so"}],\n "rules": [{"relink": {"object": "$main", "function": "malloc", "backend": "rl", "wrapper": "w_malloc"}}]}\n',
	'other.cfg': `backend rl = other.so\n${rule}\n`,
}, 'pdi-next to config-');
compileC(directory, 'rl.so', '#include <stdlib.h>\nvoid *w_malloc(size_t n) { return malloc(n); }\n', ['-shared', '-fPIC', '-I', path.join(root, 'include')]);
const bundled = pdiPaths().nativeDirectory;

for (const [name, at] of [['plain.cfg', '1:14'], ['plain.yaml', '1:32'], ['plain.json', '1:41']] as const) {
	test(`a backend's file name not found where it is searched, but next to the config, is refused with what to write instead (${path.extname(name).slice(1)})`, async t => {
		const file = path.join(directory, name);
		await refusedByCheckAndRun(t, file, `pdi: ${file}:${at}: backend 'rl': library 'rl.so' not found (searched: ${path.join(bundled, 'rl.so')}); a file of that name is next to the config: write ./rl.so\n`);
	});
}

test('a backend\'s file name found nowhere, next to the config neither, gets no such hint', async t => {
	const file = path.join(directory, 'other.cfg');
	await refusedByCheckAndRun(t, file, `pdi: ${file}:1:14: backend 'rl': library 'other.so' not found (searched: ${path.join(bundled, 'other.so')})\n`);
});
