import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { monoJsonSchema } from '../../src/config/json-schema.js';

test('the checked-in JSON Schema matches the config source (run `npm run schema` after changing it)', () => {
  const checkedIn = readFileSync(new URL('../../src/config/mono.schema.json', import.meta.url), 'utf8');
  assert.equal(checkedIn, monoJsonSchema());
});

test('the JSON Schema rejects unknown keys and requires app and host', () => {
  const schema = JSON.parse(monoJsonSchema()) as { required: string[]; additionalProperties: boolean };
  assert.deepEqual(schema.required, ['app', 'host']);
  assert.equal(schema.additionalProperties, false);
});
