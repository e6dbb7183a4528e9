import {quotedSymbol} from '../errors.js';
import type {ConfigIssue, ConfigPlace} from './config-error.js';
import {fieldOrigin} from './field-origins.js';
import {brokenLimits, optionMessages, optionTable, type OptionName} from './options.js';
import type {NormalizedConfig} from './types.js';

/**
 * The error for a callback rule that names its own handler while `cbAllowHandler` is off, in the
 * spelling of the file that holds the rule (`cb_allow_handler = on` in a text-dialect file).
 */
export function handlerNeedsOption(handler: string, file?: string): string {
	const option: OptionName = 'cbAllowHandler';
	return `callback handler ${quotedSymbol(handler)} needs ${isTextDialectFile(file) ? `${optionTable[option].key} = on` : `options.${option}: true`}`;
}

/** Whether a config file is of the text dialect, whose messages name options by their keys (`num_threads`). */
export function isTextDialectFile(file: string | undefined): boolean {
	return file !== undefined && !/\.(?:json|ya?ml)$/i.test(file);
}

/**
 * The error for an option over the option that limits it, in the spelling of the file that sets it, as each reader
 * words it: `num_threads: expected an integer ≤ max_threads (8), got '9'` in a text-dialect file.
 */
export function limitMessage(option: OptionName, atMost: OptionName, value: number, limit: number, file?: string): string {
	return isTextDialectFile(file)
		? `${optionTable[option].key}: ${optionMessages.integerAtMost(optionTable[atMost].key, limit)}, got '${value}'`
		: `options.${option}: ${optionMessages.integerAtMost(atMost, limit)}, got ${value}`;
}

/**
 * The problems of a config as a whole, which no one value has: each option over the option that limits it
 * (`numThreads` over `maxThreads`) and, unless `handlers` is false, each callback rule naming its own handler while
 * `cbAllowHandler` is off. Worded as the file that holds each one spells it (`num_threads: expected an integer ≤
 * max_threads (4), got '8'` in a text-dialect file), at the option, else at its limit, and at the handler. The readers
 * leave them here with `deferChecks` (mergeConfigs() and verifyConfig() check them), so that `pdi config check` and
 * `pdi run` report them with the backend and wrapper checks.
 */
export function wholeConfigIssues(config: NormalizedConfig, {handlers = true}: {handlers?: boolean} = {}): ConfigIssue[] {
	const issues: ConfigIssue[] = [];
	for (const {option, atMost, value, limit} of brokenLimits(config.options)) {
		const origin: ConfigPlace = config.optionOrigins[option] ?? config.optionOrigins[atMost] ?? {};
		issues.push({message: limitMessage(option, atMost, value, limit, origin.file), file: origin.file, line: origin.line, column: origin.column});
	}

	for (const rule of handlers && !config.options.cbAllowHandler ? config.rules : []) {
		if (rule.kind === 'callback' && rule.handler !== undefined) {
			const origin = fieldOrigin(rule, 'handler') ?? rule.origin;
			issues.push({message: handlerNeedsOption(rule.handler, origin?.file), file: origin?.file, line: origin?.line, column: origin?.column});
		}
	}

	return issues;
}
