// A traced program's locale and rounding mode are its own: the trace shows its floating-point values as C shows them.
// Before, the backend formatted them under the program's settings: `ddiv(1,5, 2,5) = 0,6` (JSON: strings "1,5") under
// LC_NUMERIC=de_DE, and 1.0/10.0 as 0.100001 under FE_UPWARD.
import {execFileSync} from 'node:child_process';
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {pdi} from './helpers/cli.js';
import {compileC, scratchDirectory} from './helpers/files.js';

const scratch = scratchDirectory('pdi trace doubles ');
const library = compileC(scratch, 'libdiv.so', 'double ddiv(double a, double b) { return a / b; }\n', ['-O2', '-fPIC', '-shared']);
const prototypes = path.join(scratch, 'div.h');
writeFileSync(prototypes, 'double ddiv(double a, double b);\n');
const locales = path.join(scratch, 'locales');
mkdirSync(locales);
execFileSync('localedef', ['-i', 'de_DE', '-f', 'UTF-8', path.join(locales, 'de_DE.UTF-8')]);

const program = (name: string, body: string) => compileC(scratch, name, `#include <fenv.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
double ddiv(double, double);
int main(void) {
${body}
}
`, ['-O2', library, `-Wl,-rpath,${scratch}`, '-lm']);

const german = program('german', `  if (setlocale(LC_NUMERIC, "de_DE.UTF-8") == NULL)
    return 9;
  printf("%g %g\\n", ddiv(1.5, 2.5), strtod("2,5", NULL));
  return 0;`);
const upward = program('upward', `  fesetround(FE_UPWARD);
  double tenth = ddiv(1.0, 10.0);
  fesetround(FE_TONEAREST);
  printf("%.17g\\n", tenth);
  return 0;`);

test('a program that sets a locale with a decimal comma is traced with decimal points, and its JSON has numbers', async t => {
	const env = {...process.env, LOCPATH: locales};
	const text = await pdi(['trace', '--prototypes', prototypes, '-e', 'ddiv,strtod', '-o', '-', '--', german], {env});
	t.is(text.code, 0, text.stderr);
	t.is(text.stdout.split('\n').filter(line => !/ddiv|strtod/.test(line)).join('\n'), '0,6 2,5\n');
	t.regex(text.stdout, /german!ddiv\(1\.5, 2\.5\) = 0\.6$/m);
	t.regex(text.stdout, /german!strtod\("2,5", NULL\) = 2\.5$/m);
	const json = path.join(scratch, 'german.ndjson');
	const traced = await pdi(['trace', '--json', '--prototypes', prototypes, '-e', 'ddiv', '-o', json, '--', german], {env});
	t.is(traced.code, 0, traced.stderr);
	const call = JSON.parse(readFileSync(json, 'utf8').trim()) as {args: unknown[]; ret: unknown};
	t.deepEqual([call.args, call.ret], [[1.5, 2.5], 0.6]);
});

test('a program that rounds upward is traced with its values rounded to the nearest, as it prints them itself', async t => {
	const run = await pdi(['trace', '--prototypes', prototypes, '-e', 'ddiv', '-o', '-', '--', upward]);
	t.is(run.code, 0, run.stderr);
	t.regex(run.stdout, /upward!ddiv\(1, 10\) = 0\.1$/m);
	// The program's own output is as without the trace.
	t.is(run.stdout.split('\n').filter(line => !line.includes('ddiv')).join('\n'), execFileSync(upward, {encoding: 'utf8'}));
});
