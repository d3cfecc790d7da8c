import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lines } from '../../src/agent/stdin.js';

async function collect(chunks: (string | Buffer)[], maxLength?: number): Promise<string[]> {
  const out: string[] = [];
  async function* source(): AsyncGenerator<string | Buffer> {
    yield* chunks;
  }
  for await (const line of lines(source(), maxLength)) out.push(line);
  return out;
}

test('lines split across chunks, CRLF, and a last line without a newline', async () => {
  assert.deepEqual(await collect(['a', 'b\nc', 'd\r\n\n', 'e\nf', 'g']), ['ab', 'cd', '', 'e', 'fg']);
});

test('a multi-byte character split between two chunks stays whole', async () => {
  const bytes = Buffer.from('häh\nö\n');
  assert.deepEqual(await collect([bytes.subarray(0, 2), bytes.subarray(2, 6), bytes.subarray(6)]), ['häh', 'ö']);
});

test('a long line in many chunks comes out whole, and the next line is separate', async () => {
  const long = 'x'.repeat(300_000);
  const chunks = [];
  for (let i = 0; i < long.length; i += 7_000) chunks.push(long.slice(i, i + 7_000));
  assert.deepEqual(await collect([...chunks, '\nnext\n'], 1_000_000), [long, 'next']);
});

test('a line longer than the limit is refused', async () => {
  await assert.rejects(collect(['y'.repeat(50), 'y'.repeat(60)], 100), /a line on stdin is longer than 100 characters/);
});
