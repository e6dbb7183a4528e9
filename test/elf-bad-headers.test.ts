import {execFileSync} from 'node:child_process';
import {chmodSync, readFileSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import test, {type ExecutionContext} from 'ava';
import {inspectProgram, PdiError} from '../src/ts/index.js';
import {pdi} from './helpers/cli.js';
import {compileC, scratchDirectory} from './helpers/files.js';

const scratch = scratchDirectory('pdi-elf-bad-headers-');

/** What the kernel says to execve() of a file: `exit N` when it ran, else the errno's name (the independent reference). */
const execve = compileC(scratch, 'execve', `#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
int main(int argc, char **argv) {
	pid_t pid = fork();
	if (pid == 0) {
		char *args[] = {argv[1], NULL};
		execv(argv[1], args);
		printf("%s\\n", errno == ENOEXEC ? "ENOEXEC" : errno == EIO ? "EIO" : strerror(errno));
		fflush(stdout);
		_exit(127);
	}
	int status;
	waitpid(pid, &status, 0);
	if (WIFEXITED(status) && WEXITSTATUS(status) != 127) printf("exit %d\\n", WEXITSTATUS(status));
	return 0;
}
`);

function kernelSays(file: string): string {
	return execFileSync(execve, [file], {encoding: 'utf8'}).trim();
}

/** /bin/true with `bytes` written at `offset` (its ELF header or program headers patched). */
function patchedTrue(name: string, patches: Array<[offset: number, bytes: Buffer]>): string {
	const file = path.join(scratch, name);
	const contents = Buffer.from(readFileSync('/bin/true'));
	for (const [offset, bytes] of patches) {
		bytes.copy(contents, offset);
	}

	writeFileSync(file, contents);
	chmodSync(file, 0o755);
	return file;
}

function u16(value: number): Buffer {
	const bytes = Buffer.alloc(2);
	bytes.writeUInt16LE(value);
	return bytes;
}

function u64(value: bigint): Buffer {
	const bytes = Buffer.alloc(8);
	bytes.writeBigUInt64LE(value);
	return bytes;
}

/** Where /bin/true's PT_INTERP program header is. */
function interpHeader(): number {
	const contents = readFileSync('/bin/true');
	const phoff = Number(contents.readBigUInt64LE(32));
	for (let index = 0; index < contents.readUInt16LE(56); index++) {
		if (contents.readUInt32LE(phoff + 56 * index) === 3) {
			return phoff + 56 * index;
		}
	}

	throw new Error('/bin/true has no PT_INTERP');
}

async function refusedEverywhere(t: ExecutionContext, file: string, reason: string): Promise<void> {
	for (const command of ['run', 'trace', 'inspect']) {
		const result = await pdi([command, '--', file]);
		t.deepEqual([result.code, result.stderr], [2, `pdi: ${file}: ${reason}\n`], `${command} ${path.basename(file)}`);
	}

	const error = await t.throwsAsync(inspectProgram(file), {instanceOf: PdiError});
	t.is(error?.message, `${file}: ${reason}`, `inspectProgram ${path.basename(file)}`);
}

test('an ELF program whose EI_DATA or EI_CLASS byte contradicts its header is refused naming the byte, not with a Node error code', async t => {
	// Before: `pdi: ./be: ERR_OUT_OF_RANGE`, and the wrong class made /bin/true 'a shared library, not a program'.
	// The kernel reads its own layout whatever the bytes say, and runs both.
	const bigEndian = patchedTrue('big-endian', [[5, Buffer.from([2])]]);
	const narrow = patchedTrue('class-32', [[4, Buffer.from([1])]]);
	t.is(kernelSays(bigEndian), 'exit 0');
	t.is(kernelSays(narrow), 'exit 0');
	await refusedEverywhere(t, bigEndian, 'an inconsistent ELF header: its EI_DATA byte is 2 (big-endian), but its fields are little-endian');
	await refusedEverywhere(t, narrow, 'an inconsistent ELF header: its EI_CLASS byte is 1 (32-bit), but its fields are laid out as 64-bit ones');
});

test('an ELF header the kernel refuses for its program header fields is refused naming the field, with the right size when they are past the end', async t => {
	// Before: ERR_OUT_OF_RANGE for e_phentsize 8 and a huge e_phoff, and for
	// e_phnum 65535 'its headers need 5548438965826939000 bytes', a size read from garbage.
	const cases: Array<[string, Array<[number, Buffer]>, string]> = [
		['phentsize-8', [[54, u16(8)]], 'a corrupt ELF header: e_phentsize is 8, not 56 (the size of a 64-bit program header)'],
		['phnum-0', [[56, u16(0)]], 'a corrupt ELF header: e_phnum is 0 (no program headers)'],
	];
	for (const [name, patches, reason] of cases) {
		const file = patchedTrue(name, patches);
		t.not(kernelSays(file), 'exit 0', name);
		await refusedEverywhere(t, file, reason);
	}

	const size = readFileSync('/bin/true').length;
	const huge = patchedTrue('phoff-huge', [[32, u64(0xFF_FF_FF_FF_FF_FF_FF_F8n)]]);
	t.is(kernelSays(huge), 'ENOEXEC');
	await refusedEverywhere(t, huge, `a truncated ELF file (its headers need ${0xFF_FF_FF_FF_FF_FF_FF_F8n + 56n * 13n} bytes, the file has ${size})`);
	const many = patchedTrue('phnum-65535', [[56, u16(65_535)]]);
	t.is(kernelSays(many), 'ENOEXEC');
	await refusedEverywhere(t, many, `a truncated ELF file (its headers need ${64 + 56 * 65_535} bytes, the file has ${size})`);
});

test('an ELF file that is no program (ET_REL, ET_CORE, another e_type) is refused instead of being run as a /bin/sh script', async t => {
	// Before: the kernel's ENOEXEC made execvp() run it with /bin/sh (`Syntax error: "(" unexpected`, and
	// inspect reported dash), and a compiled object was 'statically linked'.
	const object = compileC(scratch, 'object.o', 'int main(void) { return 3; }\n', ['-c']);
	chmodSync(object, 0o755);
	const files: Array<[string, string]> = [
		[object, 'not a program: an ELF relocatable object (ET_REL)'],
		[patchedTrue('type-rel', [[16, u16(1)]]), 'not a program: an ELF relocatable object (ET_REL)'],
		[patchedTrue('type-core', [[16, u16(4)]]), 'not a program: an ELF core dump (ET_CORE)'],
		[patchedTrue('type-1234', [[16, u16(0x12_34)]]), 'not a program: an ELF file of type 0x1234 (e_type is neither ET_EXEC nor ET_DYN)'],
	];
	for (const [file, reason] of files) {
		t.is(kernelSays(file), 'ENOEXEC', file);
		await refusedEverywhere(t, file, reason);
	}
});

test('a PT_INTERP the kernel refuses is refused naming it, and one past the end of the file is a truncated ELF file', async t => {
	// Before: an empty, overlong or unterminated one ran /bin/true as a /bin/sh script; one past the end said
	// 'could not be started: input/output error'.
	const interp = interpHeader();
	for (const [name, patches, reason] of [
		['interp-empty', [[interp + 32, u64(0n)]], 'a corrupt ELF file: the p_filesz of its PT_INTERP (the dynamic loader\'s path) is 0, where the kernel takes 2 to 4096 bytes'],
		['interp-huge', [[interp + 32, u64(1n << 40n)]], `a corrupt ELF file: the p_filesz of its PT_INTERP (the dynamic loader's path) is ${1n << 40n}, where the kernel takes 2 to 4096 bytes`],
		['interp-unterminated', [[Number(readFileSync('/bin/true').readBigUInt64LE(interp + 8)) + Number(readFileSync('/bin/true').readBigUInt64LE(interp + 32)) - 1, Buffer.from('x')]], 'a corrupt ELF file: its PT_INTERP (the dynamic loader\'s path) does not end in a NUL byte'],
	] as Array<[string, Array<[number, Buffer]>, string]>) {
		const file = patchedTrue(name, patches);
		t.is(kernelSays(file), 'ENOEXEC', name);
		await refusedEverywhere(t, file, reason);
	}

	const size = readFileSync('/bin/true').length;
	const past = patchedTrue('interp-past-end', [[interp + 8, u64(BigInt(size) + 100n)]]);
	t.is(kernelSays(past), 'EIO');
	const length = readFileSync('/bin/true').readBigUInt64LE(interp + 32);
	await refusedEverywhere(t, past, `a truncated ELF file (its headers need ${BigInt(size) + 100n + length} bytes, the file has ${size})`);
});

test('a CRLF script is refused naming its interpreter with the carriage return, as the kernel looks for it', async t => {
	// Before: 'could not be started: no such file or directory', though the script is there.
	const script = path.join(scratch, 'crlf.sh');
	writeFileSync(script, '#!/bin/sh\r\necho hi\n');
	chmodSync(script, 0o755);
	t.is(kernelSays(script), 'No such file or directory');
	const result = await pdi(['run', '--', script]);
	t.deepEqual([result.code, result.stderr], [2, `pdi: ${script}: its interpreter /bin/sh\\x0d: no such file or directory\n`]);
});

test('a script whose #! line is longer than the kernel reads runs with /bin/sh, as it does from a shell', async t => {
	// Before: 'its interpreter /: is a directory', from the first 256 bytes; the kernel refuses the line (ENOEXEC)
	// and execvp() hands the file to /bin/sh, for which the line is a comment.
	const script = path.join(scratch, 'long.sh');
	writeFileSync(script, `#!${'/'.repeat(300)}bin/sh\necho hi\n`);
	chmodSync(script, 0o755);
	t.is(kernelSays(script), 'ENOEXEC');
	t.is(execFileSync('sh', ['-c', `"${script}"`], {encoding: 'utf8'}), 'hi\n');
	const result = await pdi(['run', '--', script]);
	t.deepEqual([result.code, result.stdout, result.stderr], [0, 'hi\n', '']);
});
