#!/usr/bin/env node
// After prebuildify: it copies the addon and every shared object of the build
// next to each other in prebuilds/<platform>-<arch>/, but not executables, so
// pdi-inject (the injector of `pdi attach`, docs/attach.md) is copied here,
// stripped like the rest, to the directory the TypeScript side looks in.
import {spawnSync} from 'node:child_process';
import {chmodSync, copyFileSync, existsSync} from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const built = path.join(root, 'build/Release/pdi-inject');
const target = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`);
if (!existsSync(built) || !existsSync(target)) {
	console.error(`prebuild-injector: expected ${built} and ${target} after prebuildify`);
	process.exit(1);
}

const file = path.join(target, 'pdi-inject');
copyFileSync(built, file);
chmodSync(file, 0o755);
const strip = spawnSync('strip', ['--strip-all', file], {stdio: 'inherit'});
process.exit(strip.status ?? 1);
