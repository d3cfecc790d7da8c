// Generates the JSON Schema of mono.yml from the same zod source that validates it.
import { z } from 'zod';
import { configSchema } from './schema.js';

export function monoJsonSchema(): string {
  const schema = z.toJSONSchema(configSchema, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' });
  return JSON.stringify({ ...schema, $id: 'https://mono.invalid/mono.schema.json' }, null, 2) + '\n';
}
