// mono agent store-missing: a blob counts only when stored whole; a truncated one is reported and deleted.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { storeMissing } from '../../src/agent/store-missing.js';
import { blobPath } from '../../src/release/protocol.js';

const sha = (text: string): string => createHash('sha256').update(text).digest('hex');

function storeWith(contents: Record<string, string>): string {
  const store = join(mkdtempSync(join(tmpdir(), 'mono-agent-missing-')), 'store');
  mkdirSync(store);
  for (const [hash, content] of Object.entries(contents)) {
    const path = blobPath(store, hash, false);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content, { mode: 0o444 });
  }
  return store;
}

test('lists absent and truncated blobs in input order, each once; deletes the truncated one', async () => {
  const present = sha('present');
  const truncated = sha('truncated content');
  const absent = sha('absent');
  const store = storeWith({ [present]: 'present', [truncated]: 'trunc' });
  const input = `${absent} 6\n${present} 7\n${truncated} 17\n${absent} 6\n\n`;
  assert.deepEqual(await storeMissing(store, Readable.from([input.slice(0, 50), input.slice(50)])), { missing: [absent, truncated] });
  assert.equal(existsSync(blobPath(store, truncated, false)), false);
  assert.equal(existsSync(blobPath(store, present, false)), true);
});

test('an empty request lists nothing', async () => {
  assert.deepEqual(await storeMissing(storeWith({}), Readable.from([])), { missing: [] });
});

test('a malformed line is a usage error naming the line', async () => {
  const store = storeWith({});
  await assert.rejects(storeMissing(store, Readable.from([`${sha('a')} 1\n${sha('b').toUpperCase()} 2\n`])), /^MonoError: store-missing: line 2 is not "<sha256> <size>"/);
  await assert.rejects(storeMissing(store, Readable.from([`${sha('a')} -1\n`])), /line 1 is not/);
});
