// pdi trace -C -c of a C++ program: a demangled name past the function column's cap has a line of its own and its
// numbers under the columns on the next; the table was as wide as the longest name (200 characters for one
// std::operator<< of the standard library).
import {execFileSync} from 'node:child_process';
import {writeFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {pdi} from './helpers/cli.js';
import {scratchDirectory} from './helpers/files.js';

const scratch = scratchDirectory('pdi-trace-summary-long-');
const source = path.join(scratch, 'hello.cc');
writeFileSync(source, '#include <iostream>\nint main() { std::cout << "hello" << std::endl; return 0; }\n');
const program = path.join(scratch, 'hello');
execFileSync('g++', ['-O2', '-o', program, source]);

test('a -c table keeps its columns when a demangled name is longer than the function column', async t => {
	const result = await pdi(['trace', '-C', '-c', '--', program]);
	t.is(result.code, 0, result.stderr);
	t.is(result.stdout, 'hello\n');
	const lines = result.stderr.trimEnd().split('\n');
	const [header, rule] = [lines[1]!, lines[2]!];
	t.regex(header, /^function {42}calls {2}errors/);
	const width = rule.length;
	const long = lines.findIndex(line => line.startsWith('std::basic_ostream<char, std::char_traits<char> >& std::operator<<'));
	t.true(long > 2, result.stderr);
	t.regex(lines[long + 1]!, /^ {48}  +\d+ +\d+ +\d+\.\d{6} /);
	for (const [index, line] of lines.entries()) {
		if (index !== long && index > 0) {
			t.true(line.length <= width, line);
		}
	}
});
