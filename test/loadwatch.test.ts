// Objects a dlopen brings in one batch: pdi hears of each before its constructors run (the load watch defers them
// through one trampoline per pending object), whatever the batch's size and whether the objects have DT_INIT.
// On the host only (the libraries are built with its gcc): npm run test:arch does not list this file.
import {execFileSync, spawn} from 'node:child_process';
import {writeFileSync} from 'node:fs';
import path from 'node:path';
import {setTimeout as delay} from 'node:timers/promises';
import test from 'ava';
import {pdi} from './helpers/cli.js';
import {scratchDirectory} from './helpers/files.js';
import {runBare, runPreloaded, writeConfig} from './helpers/preload.js';

/**
 * `libtop.so`, which needs `count` libraries libd1 … libdN, each with a constructor printing `ctor I atoi("5")`; the
 * odd ones are linked without the start files, so that their constructors are in DT_INIT_ARRAY alone (no DT_INIT).
 */
function batch(count: number): {program: string; top: string} {
	const directory = scratchDirectory('pdi-loadwatch-');
	const libraries: string[] = [];
	for (let index = 1; index <= count; index++) {
		const source = path.join(directory, `d${index}.c`);
		writeFileSync(source, `#include <stdio.h>\n#include <stdlib.h>\n__attribute__((constructor)) static void ctor(void) { printf("ctor ${index} %d\\n", atoi("5")); }\nint f${index}(void) { return ${index}; }\n`);
		execFileSync('gcc', ['-O0', '-shared', '-fPIC', ...index % 2 === 1 ? ['-nostartfiles'] : [], '-o', path.join(directory, `libd${index}.so`), source]);
		libraries.push(`-ld${index}`);
	}

	const top = path.join(directory, 'libtop.so');
	writeFileSync(path.join(directory, 'top.c'), 'int top(void) { return 0; }\n');
	execFileSync('gcc', ['-shared', '-fPIC', '-o', top, path.join(directory, 'top.c'), `-L${directory}`, '-Wl,--no-as-needed', ...libraries, `-Wl,-rpath,${directory}`]);
	const program = path.join(directory, 'main');
	writeFileSync(path.join(directory, 'main.c'), '#include <dlfcn.h>\n#include <stdio.h>\nint main(int argc, char **argv) {\n\tsetvbuf(stdout, NULL, _IONBF, 0);\n\tif (dlopen(argv[1], RTLD_NOW) == NULL) {\n\t\tputs(dlerror());\n\t\treturn 1;\n\t}\n\tputs("loaded");\n\treturn 0;\n}\n');
	execFileSync('gcc', ['-o', program, path.join(directory, 'main.c')]);
	return {program, top};
}

const rule = writeConfig(['act libd* atoi return=7']);

test('a dlopen that brings 60 objects at once runs every constructor once, in the loader\'s order, each after the act rule reached its object (it crashed from 53 on, and from the 9th ran another object\'s entry)', async t => {
	t.timeout(120_000);
	const {program, top} = batch(60);
	const bare = await runBare(program, [top]);
	t.is(bare.code, 0, bare.stderr);
	const run = await runPreloaded(program, [top], rule);
	t.is(run.code, 0, run.stderr);
	t.is(run.stderr, '');
	t.is(run.stdout, bare.stdout.replaceAll(/ 5$/gm, ' 7'));
	t.is(run.stdout.match(/^ctor \d+ 7$/gm)?.length, 60);
});

test('a batch past the 64 objects whose constructors can wait degrades: the others are named, and every constructor still runs once, in order', async t => {
	t.timeout(120_000);
	const {program, top} = batch(70);
	const bare = await runBare(program, [top]);
	const run = await runPreloaded(program, [top], rule);
	t.is(run.code, 0, run.stderr);
	t.is(run.stdout.replaceAll(/ [57]$/gm, ''), bare.stdout.replaceAll(/ 5$/gm, ''));
	t.regex(run.stderr, /^pdi: warning: too many objects loading at once: rules reach \S+\/libd\d+\.so only after its constructors$/m);
});

test.serial('after a detach, the process loads objects as without pdi: a batch of 70 gets no deferred constructor and no warning', async t => {
	t.timeout(120_000);
	const {top} = batch(70);
	const directory = scratchDirectory('pdi-loadwatch-attach-');
	const reader = path.join(directory, 'reader');
	writeFileSync(path.join(directory, 'reader.c'), '#include <dlfcn.h>\n#include <stdio.h>\n#include <string.h>\nint main(void) {\n\tchar line[4096];\n\tsetvbuf(stdout, NULL, _IONBF, 0);\n\tputs("ready");\n\twhile (fgets(line, sizeof line, stdin) != NULL) {\n\t\tline[strcspn(line, "\\n")] = 0;\n\t\tputs(dlopen(line, RTLD_NOW) != NULL ? "loaded" : dlerror());\n\t}\n\treturn 0;\n}\n');
	execFileSync('gcc', ['-o', reader, path.join(directory, 'reader.c')]);
	const child = spawn(reader, [], {stdio: ['pipe', 'pipe', 'pipe']});
	let stdout = '';
	let stderr = '';
	child.stdout.on('data', (chunk: Buffer) => {
		stdout += chunk.toString();
	});
	child.stderr.on('data', (chunk: Buffer) => {
		stderr += chunk.toString();
	});
	const exited = new Promise<number | null>(resolve => child.once('close', resolve));
	for (let tries = 0; tries < 500 && !stdout.includes('ready'); tries++) {
		await delay(10);
	}

	const attached = await pdi(['attach', String(child.pid), '-c', rule, '--detach-after', '0.1']);
	t.is(attached.code, 0, attached.stderr);
	child.stdin.end(`${top}\n`);
	t.is(await exited, 0, stderr);
	t.is(stdout.match(/^ctor \d+ 5$/gm)?.length, 70, stdout);
	t.true(stdout.endsWith('loaded\n'));
	t.notRegex(stderr, /too many objects|constructors/);
});
