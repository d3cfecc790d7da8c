// `npm run schema`: writes src/config/mono.schema.json (CI fails when the checked-in copy drifts from the source).
import { writeFileSync } from 'node:fs';
import { monoJsonSchema } from './json-schema.js';

const target = new URL('./mono.schema.json', import.meta.url);
writeFileSync(target, monoJsonSchema());
process.stdout.write(`wrote ${target.pathname}\n`);
