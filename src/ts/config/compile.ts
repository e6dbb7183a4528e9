import type {Origin} from './config-error.js';
import {normalizeConfig} from './load.js';
import {
	isNormalizedConfig,
	optionTextKeys,
	type ConfigOptions,
	type NormalizedConfig,
	type OptionName,
	type PdiConfig,
} from './schema.js';

/** A value as the text dialect reads it back: quoted when it would otherwise lose blanks or quotes. */
function quote(value: string): string {
	return value === '' || value !== value.trim() || (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) ? `"${value}"` : value;
}

function optionLines(options: ConfigOptions): string[] {
	const lines: string[] = [];
	for (const [name, {key, kind}] of Object.entries(optionTextKeys) as Array<[OptionName, {key: string; kind: string}]>) {
		const value = name === 'log.level' ? options.log.level : name === 'log.file' ? options.log.file : options[name];
		if (Array.isArray(value)) {
			lines.push(...value.map(entry => `${key} = ${quote(entry)}`));
		} else if (kind === 'boolean') {
			lines.push(`${key} = ${value ? 'on' : 'off'}`);
		} else {
			lines.push(`${key} = ${quote(String(value))}`);
		}
	}

	return lines;
}

function originLine(origin: Origin | undefined): string[] {
	return origin ? [`#@origin ${origin.file}:${origin.line}:${origin.column}`] : [];
}

/**
 * Compiles a config to one self-contained file of the native text dialect, the file the core
 * reads from `PDI_CONFIG`: every option in `[global]` (defaults included), the `Warning` lines,
 * the `backend` declarations, an `object oN = PATTERN` alias per object pattern, and the rules in
 * order. Each line that came from a user's file is preceded by `#@origin FILE:LINE:COL`, so that
 * the core reports problems at the place the user wrote. A {@link PdiConfig} is normalized first
 * (relative paths against the current directory).
 */
export function compileConfig(config: PdiConfig | NormalizedConfig): string {
	const normalized = isNormalizedConfig(config) ? config : normalizeConfig(config);
	const backendNames = new Set(normalized.backends.map(backend => backend.name));
	const aliases = new Map<string, string>();
	let aliasCount = 0;
	const lines = [
		'# pdi config compiled by pdi (`pdi config compile`, compileConfig()); edit the source config instead.',
		'# A "#@origin FILE:LINE:COL" comment names the source of the line after it.',
		'[global]',
		...optionLines(normalized.options),
	];
	for (const warning of normalized.warnings) {
		lines.push(...originLine(warning.origin), `Warning ${quote(warning.message)}`);
	}

	for (const backend of normalized.backends) {
		lines.push(...originLine(backend.origin), `backend ${backend.name} = ${quote(backend.library)}`);
	}

	const alias = (pattern: string): string => {
		let name = aliases.get(pattern);
		if (name === undefined) {
			do {
				aliasCount++;
			} while (backendNames.has(`o${aliasCount}`));

			name = `o${aliasCount}`;
			aliases.set(pattern, name);
			lines.push(`object ${name} = ${quote(pattern)}`);
		}

		return name;
	};

	for (const rule of normalized.rules) {
		if (rule.object !== '*') {
			alias(rule.object);
		}

		if (!backendNames.has(rule.backend)) {
			alias(rule.backend);
		}
	}

	for (const rule of normalized.rules) {
		const object = rule.object === '*' ? '*' : alias(rule.object);
		const backend = backendNames.has(rule.backend) ? rule.backend : alias(rule.backend);
		const fields = rule.kind === 'callback'
			? ['callback', object, '*', backend, ...(rule.handler === undefined ? [] : [rule.handler])]
			: [rule.kind, object, rule.function, backend, rule.wrapper];
		lines.push(...originLine(rule.origin), fields.join(' '));
	}

	return lines.join('\n') + '\n';
}
