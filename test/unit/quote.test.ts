import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { quoteArg, toShellLine } from '../../src/transport/quote.js';
import { remoteLine } from '../../src/transport/ssh.js';
import { HOSTILE } from '../support/hostile.js';

test('safe words stay bare, everything else is single-quoted', () => {
  assert.equal(quoteArg('/srv/shop/releases'), '/srv/shop/releases');
  assert.equal(quoteArg('a b'), "'a b'");
  assert.equal(quoteArg(''), "''");
  assert.equal(quoteArg("it's"), "'it'\\''s'");
  assert.equal(toShellLine(['echo', '$(id)', 'x;y']), "echo '$(id)' 'x;y'");
});

test('a NUL byte is refused with a clear error', () => {
  assert.throws(() => quoteArg('a\0b'), /NUL byte/);
});

test('every hostile string survives a real local sh -c as one literal argument', () => {
  for (const value of HOSTILE) {
    // The same two layers the SSH transport uses: the login shell runs `sh -c '<line>'`.
    const line = remoteLine(['printf', '%s', value]);
    const out = execFileSync('sh', ['-c', line], { encoding: 'utf8' });
    assert.equal(out, value, `hostile value ${JSON.stringify(value)}`);
  }
});
