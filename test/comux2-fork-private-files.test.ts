import {spawnSync} from 'node:child_process';
import {chmodSync, existsSync, mkdtempSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import test from 'ava';
import {comux} from '../src/ts/comux/builder.js';
import {startComuxForkServer} from '../src/ts/comux/fork-server.js';
import {runComux} from '../src/ts/comux/replay.js';
import {sharedMemoryParent} from '../src/ts/launch/temporary.js';
import {cliPath} from './helpers/cli.js';
import {freePort, nginxCommand, processesMentioning} from './helpers/servers.js';
import {temporaryEntries} from './helpers/files.js';

// nginx started as root with its default `user nobody`: its workers, where the fork server runs, cannot open a file
// that only root may reach. Needs root (and, for the first test, a mount namespace of its own).
const asRoot = process.getuid?.() === 0;
const rootTest = asRoot ? test.serial : test.serial.skip;

const maskDate = (reply: Buffer | string) => reply.toString().replaceAll(/^Date: .*\r$/gm, 'Date: (masked)\r');

function publicSite(): string {
	const site = mkdtempSync(path.join(tmpdir(), 'pdi-comux2-www-'));
	chmodSync(site, 0o755);
	writeFileSync(path.join(site, 'hello.txt'), 'hello\n', {mode: 0o644});
	writeFileSync(path.join(site, 'long.txt'), 'long '.repeat(2000) + '\n', {mode: 0o644});
	return site;
}

const get = (file: string) => comux().conn(0, `GET /${file} HTTP/1.0\r\n\r\n`, {awaitResponse: true}).bytes();

rootTest('fork mode with nginx\'s nobody workers, a private TMPDIR and no tmpfs on /dev/shm: pdi comux run --fork and replay --fork give the replies of a fresh server and leave nothing behind', async t => {
	const site = publicSite();
	const spec = nginxCommand(site, await freePort(), {workers: 1, shippedUser: true});
	const scratch = mkdtempSync(path.join(tmpdir(), 'pdi-comux2-scratch-'));
	const corpus = path.join(scratch, 'corpus');
	// mkdtemp makes it 0700, as `mktemp -d` does: nobody cannot reach anything in it.
	const privateTemporary = mkdtempSync(path.join(tmpdir(), 'pdi-comux2-tmp-'));
	// A plain directory of the disk in place of /dev/shm (as on a system without that tmpfs): the scratch files go to TMPDIR.
	const plainShm = path.join(scratch, 'shm');
	t.teardown(() => {
		for (const directory of [site, spec.directory, scratch, privateTemporary]) {
			rmSync(directory, {recursive: true, force: true});
		}
	});
	spawnSync('mkdir', ['-p', corpus, plainShm]);
	writeFileSync(path.join(corpus, 'a-hello.comux'), get('hello.txt'));
	writeFileSync(path.join(corpus, 'b-long.comux'), get('long.txt'));
	writeFileSync(path.join(corpus, 'c-hello.comux'), get('hello.txt'));
	const server = [spec.command, ...spec.args];
	const alone = await runComux(server, get('hello.txt'));
	t.is(alone.status, 0, alone.stderr);
	t.regex(alone.stdout.toString(), /^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nhello\n$/);
	const inNamespace = (args: string[]) => spawnSync('unshare', ['-m', 'sh', '-c', 'mount --bind "$0" /dev/shm && exec "$@"', plainShm, process.execPath, cliPath, ...args], {
		env: {...process.env, TMPDIR: privateTemporary}, encoding: 'utf8', timeout: 60_000,
	});
	const run = inNamespace(['comux', 'run', '--fork', path.join(corpus, 'a-hello.comux'), '--', ...server]);
	t.is(run.status, 0, run.stderr);
	t.is(maskDate(run.stdout), maskDate(alone.stdout));
	t.notRegex(run.stderr, /cannot write/);
	const replay = inNamespace(['comux', 'replay', '--fork', '--json', corpus, '--', ...server]);
	t.is(replay.status, 0, replay.stderr);
	const report = JSON.parse(replay.stdout) as {files: Array<{verdict: string; stderr: string}>};
	t.deepEqual(report.files.map(({verdict}) => verdict), ['ok', 'ok', 'ok'], replay.stdout);
	t.deepEqual(temporaryEntries(privateTemporary), []);
	t.deepEqual(readdirSync(plainShm), []);
	t.deepEqual(processesMentioning(spec.directory), []);
});

rootTest('the fork server\'s scratch files are pdi\'s alone (directory 0700, files 0600) while nginx\'s nobody workers write every reply into them, a short one after a long one with nothing of the long one left', async t => {
	const site = publicSite();
	const spec = nginxCommand(site, await freePort(), {workers: 1, shippedUser: true});
	t.teardown(() => {
		rmSync(site, {recursive: true, force: true});
		rmSync(spec.directory, {recursive: true, force: true});
	});
	const server = [spec.command, ...spec.args];
	// Other test files run fork servers at the same time: this one's directory is where nginx's inherited descriptors lead.
	const scratchDirectory = () => {
		const directories = new Set(processesMentioning(spec.directory).flatMap(pid => [4, 5, 6, 7].map(fd => {
			try {
				return path.dirname(readlinkSync(`/proc/${pid}/fd/${fd}`));
			} catch {
				return undefined;
			}
		})).filter(directory => directory?.includes('pdi-comux-fork-')));
		t.is(directories.size, 1, [...directories].join(' '));
		return [...directories][0]!;
	};
	const short = await runComux(server, get('hello.txt'));
	const long = await runComux(server, get('long.txt'));
	t.is(short.status, 0, short.stderr);
	t.is(long.status, 0, long.stderr);
	const forks = startComuxForkServer(server);
	let directory: string | undefined;
	for (const [index, [input, alone]] of ([[get('long.txt'), long], [get('long.txt'), long], [get('hello.txt'), short], [get('hello.txt'), short], [get('long.txt'), long]] as const).entries()) {
		const result = await forks.replay(input);
		t.is(result.status, 0, result.stderr);
		t.is(maskDate(result.stdout), maskDate(alone.stdout), `input ${index}`);
		directory ??= scratchDirectory();
		t.is(scratchDirectory(), directory);
		t.true(path.dirname(directory).startsWith(sharedMemoryParent()), directory);
		t.is(statSync(directory).mode & 0o777, 0o700);
		const files = readdirSync(directory);
		t.is(files.length, 4);
		for (const file of files) {
			const {mode, uid} = statSync(path.join(directory, file));
			t.is(mode & 0o777, 0o600, file);
			t.is(uid, 0, file);
		}
	}

	t.is((await forks.close()).code, 0);
	t.false(existsSync(directory!), directory);
	t.deepEqual(processesMentioning(spec.directory), []);
});
