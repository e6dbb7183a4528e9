import {writeFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {pdi} from './helpers/cli.js';
import {compileC, scratchDirectory} from './helpers/files.js';

// `equals` on an int argument: the ABI leaves the high half of its 64-bit register undefined, so the whole register
// was compared and close(-1) (0x00000000ffffffff) never matched `equals: -1`, nor close((int)x) with high bits in x
// `equals: 3`; trace() showed both as they are. A 32-bit value is now compared with the low half.
const scratch = scratchDirectory('pdi-act-int-');
const program = compileC(scratch, 'closes', `#include <stdio.h>
#include <unistd.h>
__attribute__((noinline)) int close_truncated(long x) { return close((int)x); }
int main(void) {
	printf("close(-1) %d\\n", close(-1));
	printf("close((int)0x100000003) %d\\n", close_truncated(0x100000003L));
	printf("close(1000) %d\\n", close(1000));
	return 0;
}
`, ['-O2']);

test('equals matches an int argument by its low 32 bits: -1 and a truncated long, not another value', async t => {
	const config = path.join(scratch, 'closes.yaml');
	writeFileSync(config, [
		'rules:',
		'  - act: {object: $main, function: close, when: {arg: 0, equals: -1}, do: {return: 42}}',
		'  - act: {object: $main, function: close, when: {arg: 0, equals: 3}, do: {return: 43}}',
		'',
	].join('\n'));
	const result = await pdi(['run', '-c', config, '--', program]);
	t.is(result.code, 0, result.stderr);
	t.is(result.stdout, 'close(-1) 42\nclose((int)0x100000003) 43\nclose(1000) -1\n');
});
