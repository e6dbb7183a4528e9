import {execFile} from 'node:child_process';
import {chmodSync, chownSync, cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmdirSync, rmSync, symlinkSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {pathToFileURL} from 'node:url';
import test from 'ava';
import {comux} from '../src/ts/comux/builder.js';
import {pdiPaths} from '../src/ts/index.js';
import {sharedLinkName} from '../src/ts/launch/preload.js';
import type * as PdiIndex from '../src/ts/index.js';
import {root, type CliResult} from './helpers/cli.js';
import {scratchDirectory} from './helpers/files.js';
import {fixBackend, fixtures, values} from './helpers/preload.js';
import {comuxRunKilledWhileStarting} from './helpers/comux-killed.js';
import {shellWord} from './helpers/quote.js';

// A copy of the built package under a directory name the dynamic loader would split
// (space, ':') with more characters a shell treats specially.
const installed = path.join(scratchDirectory('pdi-spaces-'), `dir with space $HOME:x 'q' "d" &;(#)`);
const packageCopy = path.join(installed, 'pdi');
const nativeRelative = path.relative(root, pdiPaths().nativeDirectory);
mkdirSync(packageCopy, {recursive: true});
cpSync(path.join(root, 'package.json'), path.join(packageCopy, 'package.json'));
cpSync(path.join(root, 'dist'), path.join(packageCopy, 'dist'), {recursive: true});
cpSync(pdiPaths().nativeDirectory, path.join(packageCopy, nativeRelative), {recursive: true});
symlinkSync(path.join(root, 'node_modules'), path.join(packageCopy, 'node_modules'));
const copiedCli = path.join(packageCopy, 'dist/cli/pdi.js');

const program = path.join(fixtures, 'now-pie/fixprog');
const rules = path.join(installed, 'rules.yaml');
writeFileSync(rules, `backends:\n  - {name: fix, library: ${fixBackend}}\nrules:\n  - relink: {object: $main, function: fix_add, backend: fix, wrapper: wrap_fix_add}\n`);

/** The link directory the copied package keeps in a temporary directory (docs/launching.md). */
const sharedLink = sharedLinkName(path.join(packageCopy, nativeRelative));

// A TMPDIR with a blank sends the link to /tmp (docs/launching.md): the copy's link goes with the copy.
test.after.always(() => {
	for (const parent of ['/tmp', '/dev/shm', '/var/tmp']) {
		rmSync(path.join(parent, sharedLink), {recursive: true, force: true});
	}
});

/**
 * Runs the copied package's CLI with a fresh private TMPDIR (by default a plain one) and returns what it left there
 * besides its kept link directory, and whether that is there.
 */
async function copiedPdi(args: readonly string[], temporary = scratchDirectory('pdi-spaces-tmp-'), cli = copiedCli): Promise<CliResult & {left: string[]; linked: boolean}> {
	return new Promise(resolve => {
		execFile(process.execPath, [cli, ...args], {env: {...process.env, TMPDIR: temporary}, timeout: 60_000}, (error, stdout, stderr) => {
			const code = error ? (typeof error.code === 'number' ? error.code : 128) : 0;
			const entries = readdirSync(temporary);
			resolve({code, stdout, stderr, left: entries.filter(name => name !== sharedLink), linked: entries.includes(sharedLink)});
		});
	});
}

test('the copied package resolves its core under the directory with special characters', async t => {
	const result = await copiedPdi(['paths', '--json']);
	t.is(result.code, 0, result.stderr);
	t.is((JSON.parse(result.stdout) as {preload: string}).preload, path.join(packageCopy, nativeRelative, 'pdi-preload.so'));
});

test('pdi run from a path with a space runs the program with the relink in effect and leaves no temporary file', async t => {
	const result = await copiedPdi(['run', '-c', rules, '--', program]);
	t.is(result.code, 0, result.stderr);
	t.is(values(result.stdout).get('fix_add'), '105');
	t.notRegex(result.stderr, /ld\.so|cannot be preloaded/);
	t.deepEqual(result.left.filter(name => name.startsWith('pdi-')), []);
});

test('pdi run from a path with a space works when TMPDIR has a space as well', async t => {
	const temporary = path.join(scratchDirectory('pdi-spaces-'), 'tmp with space');
	mkdirSync(temporary);
	const result = await copiedPdi(['run', '-c', rules, '--', program], temporary);
	t.is(result.code, 0, result.stderr);
	t.is(values(result.stdout).get('fix_add'), '105');
	t.deepEqual(result.left, []);
});

test('pdi run from a path with a space works with a relative TMPDIR in a directory with a space', async t => {
	// Before, the relative TMPDIR passed the loader's check as written and the link went under the directory with the
	// space: the loader split LD_PRELOAD and the program ran without pdi, status 0, only the loader's ERROR lines said so.
	const directory = path.join(scratchDirectory('pdi-spaces-'), 'work dir');
	mkdirSync(path.join(directory, 'reltmp'), {recursive: true});
	const result = await new Promise<CliResult>(resolve => {
		execFile(process.execPath, [copiedCli, 'run', '-c', rules, '--', program], {cwd: directory, env: {...process.env, TMPDIR: 'reltmp'}, timeout: 60_000}, (error, stdout, stderr) => {
			resolve({code: error ? (typeof error.code === 'number' ? error.code : 128) : 0, stdout, stderr});
		});
	});
	t.is(result.code, 0, result.stderr);
	t.notRegex(result.stderr, /ld\.so/);
	t.is(values(result.stdout).get('fix_add'), '105');
	t.deepEqual(readdirSync(path.join(directory, 'reltmp')), []);
});

test('pdi trace from a path with a space traces the program with the bundled trace backend', async t => {
	const result = await copiedPdi(['trace', '--', program]);
	t.is(result.code, 0, result.stderr);
	t.is(values(result.stdout).get('fix_add'), '5');
	t.regex(result.stderr, /^\d+ \d+ {2}fixprog!fix_add\(0x2, 0x3, 0x1\) = 0x5$/m);
	t.notRegex(result.stderr, /ld\.so|cannot be preloaded/);
	t.deepEqual(result.left.filter(name => name.startsWith('pdi-')), []);
});

test('pdi inspect from a path with a space gets the report from the preloaded core', async t => {
	const result = await copiedPdi(['inspect', '--json', '--imports', '$main', '--', program]);
	t.is(result.code, 0, result.stderr);
	const report = JSON.parse(result.stdout) as {objects: Array<{path: string; pdi: boolean; imports: unknown[] | null}>};
	t.true(report.objects.some(object => object.pdi && object.path.endsWith('/pdi-preload.so')));
	t.true(report.objects[0]!.imports!.length > 0);
	t.deepEqual(result.left.filter(name => name.startsWith('pdi-')), []);
});

// Serial: it sets TMPDIR for the whole test process, where the other tests make their scratch directories.
test.serial('spawn() of the copied package runs the program with the relink through the kept link and leaves nothing else', async t => {
	const temporary = scratchDirectory('pdi-spaces-tmp-');
	const previous = process.env['TMPDIR'];
	process.env['TMPDIR'] = temporary;
	try {
		const copied = await import(pathToFileURL(path.join(packageCopy, 'dist/ts/index.js')).href) as typeof PdiIndex;
		t.is(copied.pdiPaths().preload, path.join(packageCopy, nativeRelative, 'pdi-preload.so'));
		const child = copied.spawn({
			backends: [{name: 'fix', library: fixBackend}],
			rules: [{relink: {object: '$main', function: 'fix_add', backend: 'fix', wrapper: 'wrap_fix_add'}}],
		}, program, [], {stdio: ['ignore', 'pipe', 'pipe']});
		let stdout = '';
		let stderr = '';
		child.stdout.on('data', (chunk: Buffer) => {
			stdout += chunk.toString();
		});
		child.stderr.on('data', (chunk: Buffer) => {
			stderr += chunk.toString();
		});
		t.true(readdirSync(temporary).includes(sharedLink));
		const code = await new Promise(resolve => child.once('close', resolve));
		t.is(code, 0, stderr);
		t.is(values(stdout).get('fix_add'), '105');
		t.deepEqual(readdirSync(temporary), [sharedLink]);
	} finally {
		if (previous === undefined) {
			delete process.env['TMPDIR'];
		} else {
			process.env['TMPDIR'] = previous;
		}
	}
});

test('pdi from a path with a space keeps one link directory per user and install, private to its user but searchable, and every launch uses it', async t => {
	const temporary = scratchDirectory('pdi-spaces-tmp-');
	const first = await copiedPdi(['run', '-c', rules, '--', program], temporary);
	t.is(first.code, 0, first.stderr);
	t.true(first.linked);
	t.deepEqual(first.left, []);
	const link = path.join(temporary, sharedLink);
	const stats = lstatSync(link);
	t.is(stats.mode & 0o7777, 0o711);
	t.is(stats.uid, process.geteuid!());
	t.deepEqual(readdirSync(link), ['native']);
	t.is(readlinkSync(path.join(link, 'native')), path.join(packageCopy, nativeRelative));
	const inode = stats.ino;
	const second = await copiedPdi(['trace', '-e', 'fix_add', '--', program], temporary);
	t.is(second.code, 0, second.stderr);
	t.regex(second.stderr, /fixprog!fix_add\(/);
	t.deepEqual(second.left, []);
	t.is(lstatSync(link).ino, inode);
});

test('a program spawn() started from a path with a space loads the core when Node exits at once, and a daemon\'s later exec does too', async t => {
	// Before: the link was the launch's, removed as Node exited, so the program the loader started a moment later
	// printed "ERROR: ld.so: object '.../pdi-core-XXXXXX/native/pdi-preload.so' ... cannot be preloaded" and ran without pdi.
	const temporary = scratchDirectory('pdi-spaces-tmp-');
	const module = pathToFileURL(path.join(packageCopy, 'dist/ts/index.js')).href;
	const config = {backends: [{name: 'fix', library: fixBackend}], rules: [{relink: {object: '$main', function: 'fix_add', backend: 'fix', wrapper: 'wrap_fix_add'}}]};
	const later = shellWord(program);
	const source = `import {spawn} from ${JSON.stringify(module)};\nspawn(${JSON.stringify(config)}, 'sh', ['-c', ${JSON.stringify(`sleep 0.3; exec ${later}`)}], {stdio: 'inherit'});\nprocess.exit(0);\n`;
	const output = await new Promise<string>(resolve => {
		execFile(process.execPath, ['--input-type=module', '-e', source], {env: {...process.env, TMPDIR: temporary}, timeout: 30_000}, (_error, stdout, stderr) => {
			resolve(`${stdout}${stderr}`);
		});
	});
	t.notRegex(output, /ld\.so|cannot be preloaded/);
	// The config, removed with Node, is gone for the exec: the program runs without the rule, as docs/launching.md says.
	t.regex(output, /is gone: it was the temporary config of a pdi command that has ended/);
	t.is(values(output).get('fix_add'), '5');
});

(process.getuid?.() === 0 ? test : test.skip)('pdi from a path with a space whose link name is taken by another user\'s directory makes a link for the launch alone and leaves that directory alone', async t => {
	const temporary = scratchDirectory('pdi-spaces-tmp-');
	const squatted = path.join(temporary, sharedLink);
	mkdirSync(squatted);
	writeFileSync(path.join(squatted, 'native'), 'not a link\n');
	chownSync(squatted, 65_534, 65_534);
	const result = await copiedPdi(['run', '-c', rules, '--', program], temporary);
	t.is(result.code, 0, result.stderr);
	t.is(values(result.stdout).get('fix_add'), '105');
	t.deepEqual(result.left, []);
	t.is(lstatSync(squatted).uid, 65_534);
	t.is(readFileSync(path.join(squatted, 'native'), 'utf8'), 'not a link\n');
});

test.serial('pdi comux config --afl from a path with a space points AFL_PRELOAD at a link next to the config, and says so', async t => {
	const directory = scratchDirectory('pdi-spaces-afl-');
	const config = path.join(directory, 'comux.cfg');
	const result = await copiedPdi(['comux', 'config', '--afl', '-o', config]);
	t.is(result.code, 0, result.stderr);
	const link = path.join(directory, 'pdi-native');
	t.true(result.stdout.includes(`# AFL_PRELOAD and AFL_CUSTOM_MUTATOR_LIBRARY cannot name ${path.join(packageCopy, nativeRelative)} (a blank, ':', ';', ',' or '$' in it): ${link} is a link to it, made for this campaign.\n`));
	t.true(result.stdout.includes(`export AFL_PRELOAD='${path.join(link, 'pdi-preload.so')}'\n`));
	t.true(existsSync(path.join(link, 'pdi-preload.so')));
});

test.serial('pdi comux config --afl from a path with a space replaces only its own link: a file or a directory named pdi-native is refused in one line and left alone', async t => {
	const directory = scratchDirectory('pdi-spaces-afl-taken-');
	const config = path.join(directory, 'comux.cfg');
	const link = path.join(directory, 'pdi-native');
	mkdirSync(link);
	const refusedDirectory = await copiedPdi(['comux', 'config', '--afl', '-o', config]);
	t.is(refusedDirectory.code, 2, refusedDirectory.stderr);
	t.regex(refusedDirectory.stderr, /^pdi: \S+\/pdi-native: AFL_PRELOAD and AFL_CUSTOM_MUTATOR_LIBRARY need a link of this name to .+, but a directory is there; move it or write the config \(-o\) into another directory\n$/);
	rmdirSync(link);
	writeFileSync(link, 'mine\n');
	const refusedFile = await copiedPdi(['comux', 'config', '--afl', '-o', config]);
	t.is(refusedFile.code, 2, refusedFile.stderr);
	t.regex(refusedFile.stderr, /but a file is there/);
	t.is(readFileSync(link, 'utf8'), 'mine\n');
	t.false(existsSync(config), 'a refused config --afl writes no config'); // Before, the config was written first.
	rmSync(link);
	const made = await copiedPdi(['comux', 'config', '--afl', '-o', config]);
	t.is(made.code, 0, made.stderr);
	const again = await copiedPdi(['comux', 'config', '--afl', '-o', config]);
	t.is(again.code, 0, again.stderr);
	t.true(existsSync(path.join(link, 'pdi-preload.so')));
});

test.serial('pdi comux config --afl from a path with a space makes no link when the config cannot be written, and names the config file', async t => {
	// Before: the link was made first, so /dev/pdi-native stayed behind /dev/full's refusal, and /proc/x.cfg was
	// refused naming /proc/pdi-native.
	const full = await copiedPdi(['comux', 'config', '--afl', '-o', '/dev/full']);
	t.deepEqual([full.code, full.stderr], [2, 'pdi: /dev/full: no space left on device\n']);
	t.false(existsSync('/dev/pdi-native'));
	rmSync('/dev/pdi-native', {force: true});
	const proc = await copiedPdi(['comux', 'config', '--afl', '-o', '/proc/pdi-test.cfg']);
	t.is(proc.code, 2);
	t.regex(proc.stderr, /^pdi: \/proc\/pdi-test\.cfg: /);
});

/** The entries afl-fuzz loads from AFL_CUSTOM_MUTATOR_LIBRARY: it splits the list at ';', ':' and ',' (src/afl-fuzz-mutators.c). */
function aflMutators(exports: string): string[] {
	const value = /^export AFL_CUSTOM_MUTATOR_LIBRARY='([^']*)'$/m.exec(exports)?.[1] ?? '';
	return value.split(/[;:,]/).filter(entry => entry !== '');
}

test.serial('pdi comux config --afl from a path with \':\' and \';\' points AFL_CUSTOM_MUTATOR_LIBRARY at the link too: afl-fuzz splits that list at \';\', \':\' and \',\'', async t => {
	const directory = scratchDirectory('pdi-spaces-afl-mutator-');
	const result = await copiedPdi(['comux', 'config', '--afl', '-o', path.join(directory, 'comux.cfg')]);
	t.is(result.code, 0, result.stderr);
	const link = path.join(directory, 'pdi-native');
	t.deepEqual(aflMutators(result.stdout), [path.join(link, 'pdi-comux-mutator.so')]);
	t.true(existsSync(path.join(link, 'pdi-comux-mutator.so')));
	t.regex(result.stdout, /^# AFL_PRELOAD and AFL_CUSTOM_MUTATOR_LIBRARY cannot name .+: \S+\/pdi-native is a link to it, made for this campaign\.$/m);
});

test.serial('pdi comux config --afl from a path with only a \',\' (the loader takes it, afl-fuzz splits the mutator there) makes the link for AFL_CUSTOM_MUTATOR_LIBRARY; a -o directory with a \',\' is refused then', async t => {
	const commaCopy = path.join(scratchDirectory('pdi-spaces-comma-'), 'pdi,1', 'pdi');
	mkdirSync(commaCopy, {recursive: true});
	cpSync(path.join(root, 'package.json'), path.join(commaCopy, 'package.json'));
	cpSync(path.join(root, 'dist'), path.join(commaCopy, 'dist'), {recursive: true});
	cpSync(pdiPaths().nativeDirectory, path.join(commaCopy, nativeRelative), {recursive: true});
	symlinkSync(path.join(root, 'node_modules'), path.join(commaCopy, 'node_modules'));
	const directory = scratchDirectory('pdi-spaces-afl-comma-');
	const result = await copiedPdi(['comux', 'config', '--afl', '-o', path.join(directory, 'comux.cfg')], undefined, path.join(commaCopy, 'dist/cli/pdi.js'));
	t.is(result.code, 0, result.stderr);
	const link = path.join(directory, 'pdi-native');
	t.deepEqual(aflMutators(result.stdout), [path.join(link, 'pdi-comux-mutator.so')]);
	t.true(result.stdout.includes(`export AFL_PRELOAD='${path.join(commaCopy, nativeRelative, 'pdi-preload.so')}'\n`));
	t.true(result.stdout.includes(`# AFL_CUSTOM_MUTATOR_LIBRARY cannot name ${path.join(commaCopy, nativeRelative)} (a blank, ':', ';', ',' or '$' in it): ${link} is a link to it, made for this campaign.\n`));
	t.true(existsSync(path.join(link, 'pdi-comux-mutator.so')));
	const commaDirectory = path.join(scratchDirectory('pdi-spaces-afl-comma-'), 'a,b');
	mkdirSync(commaDirectory);
	const refused = await copiedPdi(['comux', 'config', '--afl', '-o', path.join(commaDirectory, 'comux.cfg')], undefined, path.join(commaCopy, 'dist/cli/pdi.js'));
	t.is(refused.code, 2, refused.stderr);
	t.regex(refused.stderr, /^pdi: .+pdi-comux-mutator\.so: AFL_CUSTOM_MUTATOR_LIBRARY cannot name this path \(it has a blank, ':', ';', ',' or '\$'\), nor a link next to \S+a,b\/comux\.cfg; write the config \(-o\) into a directory without them\n$/);
	t.deepEqual(readdirSync(commaDirectory), []);
});

test('pdi run from a path with a space prints the warnings pdi config check prints, word for word, naming the bundled backends where they are installed, not under the launch\'s link', async t => {
	const config = path.join(installed, 'warned.cfg');
	writeFileSync(config, 'on_error = warn\ncb_allow_handler = on\nbackend g = nosuchbackend\nbackend t = trace\nrelink $main fix_add g x\ncallback libfix.so * t no_such_handler\n');
	const check = await copiedPdi(['config', 'check', config]);
	t.is(check.code, 0, check.stderr);
	const native = path.join(packageCopy, nativeRelative);
	t.deepEqual(check.stderr.trimEnd().split('\n'), [
		`pdi: warning: ${config}:3:13: backend 'g': library 'nosuchbackend' not found (searched: ${native}/pdi-backend-nosuchbackend.so) (backend skipped)`,
		`pdi: warning: ${config}:5:22: relink fix_add: its backend 'g' failed to load (rule skipped)`,
		`pdi: warning: ${config}:6:24: callback libfix.so: handler 'no_such_handler' is not defined by t (${native}/pdi-backend-trace.so) (rule skipped)`,
	]);
	// Before, the core named them under the link, a directory gone when pdi ends: /tmp/pdi-core-XXXXXX/native/pdi-backend-trace.so.
	const run = await copiedPdi(['run', '-c', config, '--', program]);
	t.is(run.code, 0, run.stderr);
	t.is(values(run.stdout).get('fix_add'), '5');
	t.deepEqual(run.stderr.split('\n').filter(line => line.startsWith('pdi:')), check.stderr.trimEnd().split('\n'));
});

test('pdi comux run from a path with a space, killed with SIGKILL, leaves no server behind and nothing but the kept link', async t => {
	const input = path.join(installed, 'one.comux');
	writeFileSync(input, comux().conn(0, 'GET / HTTP/1.0\r\n\r\n', {awaitResponse: true}).bytes());
	const temporary = scratchDirectory('pdi-spaces-tmp-');
	const run = await comuxRunKilledWhileStarting(t, copiedCli, input, temporary, 4000);
	t.is(run.serverWhileRunning, 2);
	t.deepEqual(run.serverLeft, []);
	t.deepEqual(readdirSync(temporary), [sharedLink]);
});

(process.getuid?.() === 0 ? test : test.skip)('pdi run from a path with a space, on a wrapper that changes the user, gets to the core\'s word on the private config, not the loader\'s "cannot be preloaded"', async t => {
	// Before: the launch's link sat in a mode 0700 directory, so uid 65534 could not reach the core through it.
	chmodSync(path.dirname(installed), 0o755);
	const temporary = scratchDirectory('pdi-spaces-tmp-');
	chmodSync(temporary, 0o755);
	const result = await copiedPdi(['run', '-c', rules, '--', 'setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '/bin/ls', '/'], temporary);
	t.is(result.code, 2, result.stderr);
	t.is(result.stdout, '');
	t.regex(result.stderr, /^pdi: PDI_CONFIG: cannot read '\S+\/pdi\.cfg': permission denied \(the temporary config of the pdi command, readable by its user only: this process runs as uid 65534, changed by a wrapper such as setpriv or runuser or by the program itself \(setuid, then exec\); start pdi as that user instead, docs\/launching\.md\)\n$/);
	t.deepEqual(result.left.filter(name => name.startsWith('pdi-')), []);
});
