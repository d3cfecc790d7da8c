import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { LineReader } from '../../src/ops/deploy/line-reader.js';

test('next() gives lines in order, whether they arrived before or after the call, then undefined at the end', async () => {
  const input = new PassThrough();
  const reader = new LineReader(input);
  input.write('one\ntw');
  assert.equal(await reader.next(), 'one');
  const pending = reader.next();
  input.write('o\nthree\n');
  assert.equal(await pending, 'two');
  assert.equal(await reader.next(), 'three');
  const last = reader.next();
  input.end();
  assert.equal(await last, undefined);
  assert.equal(await reader.next(), undefined);
});
