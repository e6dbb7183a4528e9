import {execFile} from 'node:child_process';
import {mkdirSync, readFileSync, symlinkSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {cliPath, root} from './helpers/cli.js';
import {scratchDirectory} from './helpers/files.js';

// README.md's examples, run as printed (`npx pdi ...`) in a project that has pdi installed.
const project = scratchDirectory('pdi-readme-');
mkdirSync(path.join(project, 'node_modules/.bin'), {recursive: true});
symlinkSync(root, path.join(project, 'node_modules/pdi'));
symlinkSync(cliPath, path.join(project, 'node_modules/.bin/pdi'));

const blocks = [...readFileSync(path.join(root, 'README.md'), 'utf8').matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map(match => match[1]!);

/** The README's sh block that holds `text`. */
function block(text: string): string {
	const found = blocks.find(candidate => candidate.includes(text));
	if (found === undefined) {
		throw new Error(`README.md has no sh block with ${text}`);
	}

	return found;
}

/** The README line that starts with `start`, without its comment. */
function line(start: string): string {
	return block(start).split('\n').find(candidate => candidate.startsWith(start))!.replace(/\s+#.*$/, '');
}

async function shell(script: string): Promise<{code: number; stdout: string; stderr: string}> {
	return new Promise(resolve => {
		execFile('sh', ['-c', script], {cwd: project, timeout: 120_000, maxBuffer: 64 * 1024 * 1024}, (error, stdout, stderr) => {
			resolve({code: error ? Number(error.code) : 0, stdout, stderr});
		});
	});
}

test.serial('README: the count example ends with "pdi-count: malloc N" on stderr', async t => {
	const result = await shell(block('count.yaml'));
	t.is(result.code, 0, result.stderr);
	t.regex(result.stderr, /pdi-count: malloc \d+\n$/);
});

test.serial('README: the act example makes cat fail with ENOENT and prints the rule\'s counts', async t => {
	const result = await shell(block('fail.yaml'));
	t.is(result.code, 1);
	t.regex(result.stderr, /^cat: \/etc\/hostname: No such file or directory$/m);
	t.regex(result.stderr, /fail\.yaml:2: act \$main open: 1 call\(s\) seen, 1 fired$/m);
});

test.serial('README: the pdi trace examples print what their comments say', async t => {
	const plain = await shell(`${line('npx pdi trace -- /bin/ls /')} 2>&1 >/dev/null`);
	t.is(plain.code, 0);
	t.regex(plain.stdout, /^\d+ \d+ {2}ls!getenv\("BLOCK_SIZE"\) = NULL$/m);
	const timed = await shell(line('npx pdi trace -T'));
	t.is(timed.code, 0);
	t.regex(timed.stderr, /^\d+ \d+ {2}cat!open\("\/etc\/hostname", O_RDONLY\) = 3 <\d\.\d{6}>$/m);
	const summary = await shell(line('npx pdi trace -c -f'));
	t.is(summary.code, 0);
	t.is(summary.stderr.match(/^pid \d+ \(\/.+\)\nfunction +calls +errors +seconds +usecs\/call +% time$/gm)?.length, 3, summary.stderr);
	const json = await shell(`${line('npx pdi trace --json -o calls.ndjson')} >/dev/null && cat calls.ndjson`);
	t.is(json.code, 0);
	const events = json.stdout.trim().split('\n').map(text => JSON.parse(text) as {function: string});
	t.true(events.length > 10);
	t.true(events.some(event => event.function === 'opendir'));
});

test.serial('README: the TypeScript trace example, saved as a module and run with node, prints its comment\'s line', async t => {
	const source = /^```ts\n([\s\S]*?)^```$/m.exec(readFileSync(path.join(root, 'README.md'), 'utf8'))![1]!;
	writeFileSync(path.join(project, 'readme-trace.mjs'), source);
	const result = await shell(`${JSON.stringify(process.execPath)} readme-trace.mjs`);
	t.is(result.code, 0, result.stderr);
	t.true(result.stdout.includes("open [ '/etc/hostname', 'O_RDONLY' ] 3\n"), result.stdout);
});

test.serial('README: the AFL++ line starts afl-fuzz with the environment pdi printed, and not at all when pdi fails', async t => {
	// Before, `eval "$(npx pdi comux config --afl ...)" && afl-fuzz` started afl-fuzz without the variables when pdi failed.
	const documented = line('env=$(npx pdi comux config --afl');
	const [setup, fuzz] = documented.split(' && afl-fuzz ');
	t.truthy(fuzz, documented);
	// The README's /tmp/comux.cfg, here in the test's own directory.
	t.true(setup!.includes('-o /tmp/comux.cfg'), setup);
	const started = `${setup!.replace('-o /tmp/comux.cfg', `-o ${project}/comux.cfg`)} && echo "started with $PDI_CONFIG and $AFL_PRELOAD"`;
	const good = await shell(started);
	t.is(good.code, 0, good.stderr);
	t.regex(good.stdout, /^started with \/\S+\/comux\.cfg and \S*pdi-preload\.so\n$/);
	const failing = await shell(started.replace(`-o ${project}/comux.cfg`, '-o no-such-directory/comux.cfg'));
	t.deepEqual([failing.code, failing.stdout], [2, '']);
	t.regex(failing.stderr, /no-such-directory\/comux\.cfg: no such file or directory\n$/);
});
