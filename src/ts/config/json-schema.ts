import {z} from 'zod';
import {functionSchemaPatterns} from './fields.js';
import {configSchema} from './schema.js';

/**
 * The JSON Schema (draft 7) of the JSON/YAML spelling, generated from {@link configSchema}; the
 * package ships it as `pdi/schema.json` for editors (`# yaml-language-server: $schema=...`).
 */
export function configJsonSchema(): Record<string, unknown> {
	return z.toJSONSchema(configSchema, {
		io: 'input',
		target: 'draft-7',
		override({jsonSchema}) {
			if (jsonSchema.pattern === functionSchemaPatterns.spelling) {
				jsonSchema.pattern = functionSchemaPatterns.withoutGlobs;
			}
		},
	});
}
