#!/usr/bin/env node
// npm run test:arch [-- AVA ARGS]: the C-level relink and redefine tests on
// aarch64 and i386, under qemu-user with the cross-built core and fixtures.
// A missing tool is a failure, never a silent skip.
import {execFileSync, spawnSync} from 'node:child_process';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const arches = {
	aarch64: {compiler: 'aarch64-linux-gnu-gcc', cxx: 'aarch64-linux-gnu-g++', qemu: 'qemu-aarch64', callback: true},
	i386: {compiler: 'i686-linux-gnu-gcc', cxx: 'i686-linux-gnu-g++', qemu: 'qemu-i386', callback: true},
};
// These tests need host programs or host libraries (/bin/ls, the host's
// gconv and NSS modules), the host-only CLI, or PR_SET_MDWE (which would bind
// qemu's own code generator); everything else runs.
const hostOnly = [
	'!*gconv module*', '!*NSS module*', '!pdi inspect -c*', '!the bundled count backend*', '!redefining libc\'s IFUNC*',
	'!a callback on all of /usr/bin/sort*', '!a callback on all of python3*', '!pdi trace*', '!pdi run*', '!interpose()*',
	'!memory-deny-write-execute*', '!a callback on all of libc.so.6*',
];
const avaArgs = process.argv.slice(2);
let failed = false;

for (const [arch, tools] of Object.entries(arches)) {
	const missing = [tools.compiler, tools.cxx, tools.qemu].filter(tool => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0);
	if (missing.length > 0) {
		console.log(`not ok - ${arch}: missing ${missing.join(', ')} (install gcc-aarch64-linux-gnu, gcc-i686-linux-gnu, their libc6-dev-*-cross and qemu-user)`);
		failed = true;
		continue;
	}

	execFileSync(process.execPath, [path.join(root, 'scripts/build-arch.mjs'), arch], {stdio: ['ignore', 'ignore', 'inherit']});
	const targets = tools.callback ? ['arch', 'arch-callback'] : ['arch'];
	execFileSync('make', ['-s', '-C', path.join(root, 'test/fixtures'), ...targets, `CC=${tools.compiler}`, `CXX=${tools.cxx}`, `OUT=out-${arch}`, '-j2'], {stdio: 'inherit'});
	const files = ['test/relink.test.ts', 'test/redefine.test.ts', ...tools.callback ? ['test/callback.test.ts', 'test/tail-calls.test.ts', 'test/hard-cases.test.ts', 'test/backend-api.test.ts', 'test/backend-helper-report.test.ts'] : [], 'test/comux-echo.test.ts'];
	console.log(`# ${arch}: ${files.join(', ')} under ${tools.qemu}`);
	const run = spawnSync('npx', ['ava', ...avaArgs, ...files, ...hostOnly.flatMap(pattern => ['--match', pattern])], {
		cwd: root,
		env: {...process.env, PDI_TEST_ARCH: arch},
		stdio: 'inherit',
	});
	failed ||= run.status !== 0;
}

process.exit(failed ? 1 : 0);
