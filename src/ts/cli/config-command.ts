import {writeFileSync} from 'node:fs';
import type {Command} from '@commander-js/extra-typings';
import {compileConfig, configJsonSchema, formatPlace, loadConfig, verifyConfig, type NormalizedConfig} from '../config/index.js';
import {pdiPaths} from '../paths.js';

function printWarnings(config: NormalizedConfig): void {
	for (const warning of config.warnings) {
		const where = warning.origin ? `${formatPlace({file: warning.origin.file, line: warning.origin.line})}: ` : '';
		process.stderr.write(`pdi: ${where}warning: ${warning.message}\n`);
	}
}

/**
 * Adds `pdi config check FILE`, `pdi config compile FILE [-o OUT]` and `pdi config schema`.
 * A bad config throws its {@link ConfigError}, which the CLI prints as one line.
 */
export function registerConfigCommands(cli: Command): void {
	const config = cli.command('config')
		.description('check, compile and describe configs (JSON, YAML or the text dialect)');

	config.command('check')
		.description('check FILE (syntax, options, backends and their wrappers, conflicts); print it normalized, as JSON')
		.argument('<file>', 'the config: .json, .yaml/.yml, or the text dialect')
		.action(async file => {
			const normalized = await loadConfig(file);
			printWarnings(normalized);
			const paths = pdiPaths();
			verifyConfig(normalized, {backendDirectory: paths.nativeDirectory, bundled: paths.backends});
			process.stdout.write(JSON.stringify(normalized, null, 2) + '\n');
		});

	config.command('compile')
		.description('compile FILE to one self-contained file of the native text dialect (for PDI_CONFIG)')
		.argument('<file>', 'the config: .json, .yaml/.yml, or the text dialect')
		.option('-o, --output <file>', 'write to FILE instead of stdout')
		.action(async (file, options) => {
			const normalized = await loadConfig(file);
			printWarnings(normalized);
			const text = compileConfig(normalized);
			if (options.output) {
				writeFileSync(options.output, text);
			} else {
				process.stdout.write(text);
			}
		});

	config.command('schema')
		.description('print the JSON Schema of the JSON/YAML spelling')
		.action(() => {
			process.stdout.write(JSON.stringify(configJsonSchema(), null, 2) + '\n');
		});
}
