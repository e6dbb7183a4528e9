// The trace goes over the stubs of act rules: its events show the calls as the act rules made them, a faked result
// and errno included (pdi trace --config, trace()'s config). Was refused at install: the act rule conflicted with
// the trace's callback on every slot of the function.
import {readFileSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {loadConfig} from '../src/ts/config/index.js';
import {trace, type CallEvent, type PdiConfig} from '../src/ts/index.js';
import {pdi} from './helpers/cli.js';
import {compileC, scratchDirectory} from './helpers/files.js';

const scratch = scratchDirectory('pdi trace act ');
const program = compileC(scratch, 'access3', `#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
int main(void) {
  for (int i = 0; i < 3; i++) {
    errno = 0;
    int result = access("/", R_OK);
    printf("%d %s\\n", result, strerror(errno));
  }
  return 0;
}
`, ['-O2']);
const faults = path.join(scratch, 'faults.yaml');
writeFileSync(faults, 'rules:\n  - act: {object: $main, function: access, when: {call: 2}, do: {return: -1, errno: EACCES}}\n');

test('pdi trace --config shows the call an act rule faked with its result and errno, and the program sees it too', async t => {
	const result = await pdi(['trace', '--config', faults, '-e', 'access', '--', program]);
	t.is(result.code, 0, result.stderr);
	t.is(result.stdout, '0 Success\n-1 Permission denied\n0 Success\n');
	t.deepEqual(result.stderr.trimEnd().split('\n').map(line => line.replace(/^\d+ \d+ +/, '')), [
		'access3!access("/", R_OK) = 0',
		'access3!access("/", R_OK) = -1 errno EACCES',
		'access3!access("/", R_OK) = 0',
	]);
});

// Was null: the callee was looked up at the act rule's stub, which belongs to no object.
test('pdi trace --config names the callee of a call that goes through an act rule\'s stub: the function\'s library', async t => {
	const output = path.join(scratch, 'callee.json');
	const result = await pdi(['trace', '--config', faults, '--json', '-e', 'access', '-o', output, '--', program]);
	t.is(result.code, 0, result.stderr);
	const calls = readFileSync(output, 'utf8').trim().split('\n').map(line => JSON.parse(line) as CallEvent);
	t.is(calls.length, 3);
	t.true(calls.every(call => call.callee !== null && /\/libc\.so\.6$/.test(call.callee)), JSON.stringify(calls.map(call => call.callee)));
});

test('pdi trace --config refuses a missing config file in one line before the program starts', async t => {
	const result = await pdi(['trace', '--config', path.join(scratch, 'no such.yaml'), '--', program]);
	t.is(result.code, 2);
	t.is(result.stdout, '');
	t.regex(result.stderr, /^pdi: .*no such\.yaml: no such file or directory\n$/);
});

for (const [name, config] of [['an in-memory config', (): PdiConfig => ({rules: [{act: {object: '$main', function: 'access', when: {call: 2}, do: {return: -1, errno: 'EACCES'}}}]})], ['a config from loadConfig()', async () => loadConfig(faults)]] as const) {
	test(`trace() with ${name} delivers the faked call as its event`, async t => {
		const {calls, done} = trace(program, [], {functions: 'access', stdio: 'ignore', config: await config()});
		const events: CallEvent[] = [];
		for await (const call of calls) {
			events.push(call);
		}

		t.is((await done).status, 0);
		t.deepEqual(events.map(event => [event.function, event.ret, event.errno]), [['access', 0, null], ['access', -1, 'EACCES'], ['access', 0, null]]);
	});
}

test('trace() refuses a config that is not an object, naming the option', t => {
	t.throws(() => trace(program, [], {config: 'faults.yaml' as never}), {message: /^config: expected a config object/});
});

test('pdi trace --config keeps its act rules over a library the program loads later, on the library and on the program, without a conflict', async t => {
	// Before: at the dlopen, `act access: conflicts with the callback at trace: --object '$main', which already redirects
	// ...'s slot for access (act rules skipped)`, and the library's own calls went unfaked.
	const library = compileC(scratch, 'libaccess.so', '#include <unistd.h>\nint lib_access(void) { return access("/", R_OK); }\n', ['-O2', '-fPIC', '-shared']);
	const loader = compileC(scratch, 'loader', `#include <dlfcn.h>
#include <stdio.h>
#include <unistd.h>
int main(void) {
  printf("main %d\\n", access("/", R_OK));
  void *handle = dlopen("${library}", RTLD_NOW);
  int (*lib_access)(void) = handle ? (int (*)(void))dlsym(handle, "lib_access") : 0;
  printf("lib %d\\n", lib_access ? lib_access() : 99);
  printf("main %d\\n", access("/", R_OK));
  return 0;
}
`, ['-O2']);
	const everywhere = path.join(scratch, 'everywhere.cfg');
	writeFileSync(everywhere, 'act * access return=-1 errno=EACCES\n');
	const result = await pdi(['trace', '--config', everywhere, '-e', 'access', '--', loader]);
	t.is(result.code, 0, result.stderr);
	t.is(result.stdout, 'main -1\nlib -1\nmain -1\n');
	t.notRegex(result.stderr, /conflict|skipped/);
	t.is(result.stderr.split('\n').filter(line => line.includes('loader!access("/", R_OK) = -1 errno EACCES')).length, 2, result.stderr);
});
