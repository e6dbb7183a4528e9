// Writes schema.json (the JSON Schema of pdi's JSON/YAML config) from the zod schema.
// Run `npm run generate` after changing src/ts/config/schema.ts or options.ts; a test fails when it is stale.
import {writeFileSync} from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {configJsonSchema} from '../src/ts/config/index.js';

const file = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../schema.json');
writeFileSync(file, JSON.stringify(configJsonSchema(), null, 2) + '\n');
process.stdout.write(`wrote ${file}\n`);
