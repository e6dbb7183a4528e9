import {mkdirSync, symlinkSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import {root} from './cli.js';
import {scratchDirectory} from './files.js';

/** What the compiler said of a consumer's project: its complaints, by file, and every file the program read. */
export type Compiled = {
	/** `FILE(LINE): message`, FILE relative to node_modules or to the project; empty when it type-checks. */
	errors: string[];
	/** Every file the program read (the consumer's, pdi's declarations and what they reach), absolute. */
	files: string[];
};

/**
 * A consumer's project, `type` its package.json's `type`, with pdi installed as node_modules/pdi (a link to this
 * checkout, whose package.json, dist/ and dependencies are what `npm install pdi` brings).
 */
export function consumerProject(type: 'module' | 'commonjs'): string {
	const project = scratchDirectory('pdi-consumer-');
	mkdirSync(path.join(project, 'node_modules'));
	symlinkSync(root, path.join(project, 'node_modules', 'pdi'));
	writeFileSync(path.join(project, 'package.json'), JSON.stringify({name: 'consumer', type}));
	return project;
}

function where(diagnostic: ts.Diagnostic): string {
	const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
	if (diagnostic.file === undefined || diagnostic.start === undefined) {
		return message;
	}

	const {line} = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
	const file = diagnostic.file.fileName.replace(/^.*\/node_modules\//, '').replace(`${root}/`, 'pdi/');
	return `${file}(${line + 1}): ${message}`;
}

/**
 * Type-checks `source` as `index.ts` of `project` with the strict options of an experienced user and `options`
 * on top: every file the program reads is checked (no skipLibCheck, unless `options` says so), pdi's declarations
 * and whatever they reach included.
 */
export function compileConsumer(project: string, source: string, options: ts.CompilerOptions): Compiled {
	const file = path.join(project, `index-${Math.random().toString(36).slice(2)}.ts`);
	writeFileSync(file, source);
	const program = ts.createProgram([file], {
		strict: true,
		skipLibCheck: false,
		target: ts.ScriptTarget.ES2022,
		types: ['node'],
		typeRoots: [path.join(root, 'node_modules', '@types')],
		noEmit: true,
		...options,
	});
	return {errors: ts.getPreEmitDiagnostics(program).map(where), files: program.getSourceFiles().map(sourceFile => sourceFile.fileName)};
}
