// mono logs: the helper's arguments, checked on this machine before anything runs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { journalArgs } from '../../src/ops/logs.js';

test('mono logs asks the helper for one process or all, one release or all, lines, since and follow', () => {
  assert.deepEqual(journalArgs(['web', 'worker'], undefined, {}), ['journal', 'all', 'all', '100', '-', 'once']);
  assert.deepEqual(journalArgs(['web', 'worker'], 'worker', { follow: true, since: '-30m' }), ['journal', 'worker', 'all', '1000000', '-30m', 'follow']);
  assert.deepEqual(journalArgs(['web'], 'web', { release: '20261201T090000Z-0123abcd', lines: '20', since: '2026-12-01T09:00:00' }), ['journal', 'web', '20261201T090000Z-0123abcd', '20', '2026-12-01T09:00:00', 'once']);
});

test('a wrong process, release, time or count is a clear error', () => {
  assert.throws(() => journalArgs(['web'], 'cron', {}), /cron is not a process type of this app \(web\)/);
  assert.throws(() => journalArgs(['web'], undefined, { release: '../x' }), /--release must be a release id/);
  assert.throws(() => journalArgs(['web'], undefined, { since: '1 hour ago; rm -rf /' }), /--since 1 hour ago; rm -rf \/ is not a time mono understands/);
  assert.throws(() => journalArgs(['web'], undefined, { lines: '-5' }), /--lines must be a whole number/);
});
