import test from 'ava';
import {mergeConfigs, normalizeConfig, spawn, type NormalizedConfig, type PdiConfig} from '../src/ts/index.js';
import {compileC, scratchDirectory} from './helpers/files.js';
import {runPreloaded, writeConfig} from './helpers/preload.js';

// 20 calls of chdir, then 20 of access: a line each of 1 (the call failed: a rule fired) or 0.
const program = compileC(scratchDirectory('pdi-act-sample-'), 'sampled', `
#include <stdio.h>
#include <unistd.h>
int main(void) {
	for (int i = 0; i < 20; i++)
		putchar(chdir("/") == 0 ? '0' : '1');
	putchar('\\n');
	for (int i = 0; i < 20; i++)
		putchar(access("/", F_OK) == 0 ? '0' : '1');
	putchar('\\n');
	return 0;
}
`);

type Rule = NonNullable<PdiConfig['rules']>[number];

function sampled(name: string, seed?: number): Rule {
	return {act: {object: '$main', function: name, when: {probability: 0.5, ...(seed === undefined ? {} : {seed})}, do: {return: -1}}};
}

/** The samples of chdir and of access (20 calls each, `1` where a rule fired) with `config`. */
async function samples(config: PdiConfig | NormalizedConfig): Promise<{chdir: string; access: string}> {
	const child = spawn(config, program, [], {stdio: ['ignore', 'pipe', 'inherit']});
	let stdout = '';
	child.stdout.on('data', (chunk: Buffer) => {
		stdout += chunk.toString();
	});
	await new Promise(resolve => child.once('close', resolve));
	const [chdir = '', access = ''] = stdout.split('\n');
	return {chdir, access};
}

test('a probability rule picks the same calls whatever rules come before it in the config, a merged one included', async t => {
	const alone = (await samples({rules: [sampled('chdir', 7)]})).chdir;
	t.regex(alone, /^(?=.*1)(?=.*0)[01]{20}$/);
	// Before: after one unrelated rule the rule was the second and sampled other calls (1101001001 alone, 0111000110 after one).
	const unrelated: Rule = {act: {object: '$main', function: 'access', do: {count: true}}};
	t.is((await samples({rules: [unrelated, sampled('chdir', 7)]})).chdir, alone);
	t.is((await samples(mergeConfigs([normalizeConfig({rules: [unrelated, sampled('access', 3)]}), normalizeConfig({rules: [sampled('chdir', 7)]})]))).chdir, alone);
	t.not((await samples({rules: [sampled('chdir', 8)]})).chdir, alone, 'another seed, another sample');
});

test('two probability rules with the same seed on different functions pick different calls, and a rule without a seed samples as with seed 0', async t => {
	const both = await samples({rules: [sampled('chdir', 7), sampled('access', 7)]});
	t.not(both.chdir, both.access);
	const swapped = await samples({rules: [sampled('access', 7), sampled('chdir', 7)]});
	t.deepEqual(swapped, both);
	t.deepEqual(await samples({rules: [sampled('chdir')]}), await samples({rules: [sampled('chdir', 0)]}));
});

test('with PDI_ACT_RULES too, a probability rule picks the same calls after another rule as alone', async t => {
	const config = writeConfig(['backend act = act', 'callback $main * act']);
	const run = async (rules: string[]) => (await runPreloaded(program, [], config, {PDI_ACT_RULES: rules.join('\n')})).stdout.split('\n')[0];
	const alone = await run(['$main chdir p=0.5 seed=7 return=-1']);
	t.regex(alone ?? '', /^[01]{20}$/);
	t.is(await run(['$main access count', '$main chdir p=0.5 seed=7 return=-1']), alone);
	t.is(alone, (await samples({rules: [sampled('chdir', 7)]})).chdir, 'the same sample as from a config');
});
