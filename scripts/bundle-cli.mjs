// Bundles the CLI (dist/ts/cli/main.js, from tsc) into dist/cli/pdi.js, the package's `pdi` bin.
// Why: Node resolves and compiles each ES module file on its own, and the CLI's ~250 files
// (commander, zod, yaml, ...) cost it ~150 ms at every start. One file per start path, with the
// schema and the YAML reader in chunks that load only when a command needs them (docs/architecture.md).
import {chmodSync, rmSync} from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {build} from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outdir = path.join(root, 'dist/cli');
rmSync(outdir, {recursive: true, force: true});
await build({
	entryPoints: {pdi: path.join(root, 'dist/ts/cli/main.js')},
	outdir,
	bundle: true,
	splitting: true,
	format: 'esm',
	platform: 'node',
	target: 'node20',
	// CommonJS dependencies (commander, cli-progress) call require(): give the bundle one.
	banner: {js: 'import {createRequire as pdiCreateRequire} from \'node:module\'; const require = pdiCreateRequire(import.meta.url);'},
	chunkNames: 'chunks/[name]-[hash]',
	logLevel: 'warning',
});
chmodSync(path.join(outdir, 'pdi.js'), 0o755);
