import test from 'ava';
import {inspectProgram, PdiError} from '../src/ts/index.js';
import {pdi} from './helpers/cli.js';

test('pdi inspect --imports \'\' is refused before the program starts instead of listing every object', async t => {
	const result = await pdi(['inspect', '--imports', '', '--', '/bin/true']);
	t.is(result.code, 2, result.stdout);
	t.is(result.stdout, '');
	// The option as the user wrote it, as --object's and -s's messages name theirs (was: `pdi: imports: ...`).
	t.is(result.stderr, 'pdi: --imports: expected an object pattern ($main, a soname or file name, a path or a glob), got \'\'\n');
});

test('inspectProgram() with imports \'\' throws a PdiError naming the option', async t => {
	const error = await t.throwsAsync(inspectProgram('/bin/true', [], {imports: ''}), {instanceOf: PdiError});
	t.regex(error.message, /^imports: expected an object pattern .*, got ''$/);
});
