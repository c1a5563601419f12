// `npm run schema`: writes schema/scenario.schema.json from the zod ScenarioSchema (from source, no build).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { scenarioJsonSchemaText } from '../harness/scenario-schema.js';

const file = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'schema', 'scenario.schema.json');
fs.mkdirSync(path.dirname(file), { recursive: true });
fs.writeFileSync(file, scenarioJsonSchemaText());
console.error(`wrote ${path.relative(process.cwd(), file)}`);
