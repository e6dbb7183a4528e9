import {statSync, type Stats} from 'node:fs';
import path from 'node:path';
import type {Command} from '@commander-js/extra-typings';
import type {NormalizedConfig} from '../config/types.js';
import {formatPlace, type ConfigPlace} from '../config/config-error.js';
import {PdiError, printLine} from '../errors.js';
import {pdiPaths} from '../paths.js';
import {writeOutputFile} from './output-file.js';

/** One warning line, as the core prints it: `pdi: warning: FILE:LINE:COL: message`. */
function printWarning(issue: ConfigPlace & {message: string}): void {
	const where = formatPlace(issue);
	printLine(`pdi: warning: ${where ? `${where}: ` : ''}${issue.message}`);
}

/** The config file an operand names: `-` is stdin, as `-o -` is stdout (its spelling by its first line, its relative paths from the file it stands for, else the current directory). */
function configFile(operand: string): string {
	return operand === '-' ? '/dev/stdin' : operand;
}

/** The files a config was read from: the one named and those it took lines from (command files, included sections). */
function sourceFiles(config: NormalizedConfig): string[] {
	const origins = [...config.backends, ...config.rules].map(entry => entry.origin?.file);
	return [...new Set([...origins, ...Object.values(config.optionOrigins ?? {}).map(origin => origin?.file)])].filter(file => file !== undefined);
}

/**
 * Refuses an output that is one of the files the config was read from (`compile k.yaml -o k.yaml` replaced the YAML
 * with text and lost it), and warns of one whose name says JSON or YAML: `pdi run -c` would read the text as such.
 */
function checkCompileOutput(output: string, input: string, config: NormalizedConfig): void {
	if (output === '-') {
		return;
	}

	const target = statIfAny(output);
	const source = target === undefined ? undefined : [input, ...sourceFiles(config)].find(file => {
		const read = statIfAny(file);
		return read !== undefined && read.dev === target.dev && read.ino === target.ino;
	});
	if (source !== undefined) {
		throw new PdiError(`-o ${output}: the config is read from ${source}: write the compiled text to another file`);
	}

	if (/\.(?:json|ya?ml)$/i.test(output)) {
		printLine(`pdi: warning: -o ${output}: the compiled config is the text dialect, and pdi run -c and config check read a file named ${path.extname(output)} as ${/json/i.test(output) ? 'JSON' : 'YAML'}: PDI_CONFIG takes it by any name; name it .cfg for the others`);
	}
}

function statIfAny(file: string): Stats | undefined {
	try {
		return statSync(file);
	} catch {
		return undefined;
	}
}

/**
 * Adds `pdi config check FILE`, `pdi config compile FILE [-o OUT]` and `pdi config schema`.
 * A bad config throws its {@link ConfigError}, which the CLI prints as one line.
 */
export function registerConfigCommands(cli: Command): void {
	const config = cli.command('config')
		.description('check and compile configs (JSON, YAML or the text dialect), and print their JSON Schema');

	config.command('check')
		.description('check FILE as `pdi run` would (syntax, options, backends and their wrappers, conflicts); print it normalized, as JSON')
		.argument('<file>', 'the config: .json, .yaml/.yml, or the text dialect; - reads it from stdin')
		.action(async file => {
			const {loadConfig, verifyConfig} = await import('../config/index.js');
			// Its options and handlers checked by verifyConfig(), with the backends and wrappers: every problem in one run.
			const normalized = await loadConfig(configFile(file), {deferChecks: true});
			const paths = pdiPaths();
			const {warnings} = verifyConfig(normalized, {backendDirectory: paths.nativeDirectory, bundled: paths.backends, foreignBackendsWarn: true, dependencies: true});
			for (const warning of normalized.warnings) {
				printWarning({message: warning.message, ...warning.origin});
			}

			for (const warning of warnings) {
				printWarning(warning);
			}

			process.stdout.write(JSON.stringify(normalized, null, 2) + '\n');
		});

	config.command('compile')
		.description('compile FILE to one self-contained file of the native text dialect (for PDI_CONFIG); its Warning lines are kept, and printed when it runs')
		.argument('<file>', 'the config: .json, .yaml/.yml, or the text dialect; - reads it from stdin')
		.option('-o, --output <file>', 'write to FILE instead of stdout')
		.action(async (file, options) => {
			const {compileConfig, loadConfig} = await import('../config/index.js');
			const {readWithCore} = await import('../config/verify.js');
			const config = await loadConfig(configFile(file));
			// What the core would refuse when it reads the output (PDI_CONFIG), as config check says it.
			readWithCore(config);
			const text = compileConfig(config);
			if (options.output) {
				checkCompileOutput(options.output, file, config);
				await writeOutputFile(options.output, text);
			} else {
				process.stdout.write(text);
			}
		});

	config.command('schema')
		.description('print the JSON Schema of the JSON/YAML spelling')
		.action(async () => {
			const {configJsonSchema} = await import('../config/index.js');
			process.stdout.write(JSON.stringify(configJsonSchema(), null, 2) + '\n');
		});
}
