import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isoWeek, planRetention, type BackupRef } from '../../src/backup/retention.js';

const at = (iso: string, verified = true): BackupRef => ({ id: iso, at: new Date(iso), verified });
const none = { hourly: 0, daily: 0, weekly: 0, monthly: 0, min_verified: 1 };

test('ISO weeks: the Monday-to-Sunday week, with the year it belongs to', () => {
  assert.equal(isoWeek(new Date('2026-12-01T05:00:00Z')), '2026-W49');
  assert.equal(isoWeek(new Date('2027-01-01T00:00:00Z')), '2026-W53');
  assert.equal(isoWeek(new Date('2024-12-30T12:00:00Z')), '2025-W01');
});

test('daily keeps the newest backup of each of the last N days that have one', () => {
  const backups = ['2026-12-01T03:00:00Z', '2026-12-01T01:00:00Z', '2026-11-30T03:00:00Z', '2026-11-28T03:00:00Z', '2026-11-27T03:00:00Z'].map((d) => at(d));
  const plan = planRetention(backups, { ...none, daily: 3 });
  assert.deepEqual(plan.keep.map((k) => k.id), ['2026-12-01T03:00:00Z', '2026-11-30T03:00:00Z', '2026-11-28T03:00:00Z']);
  assert.deepEqual(plan.remove, ['2026-12-01T01:00:00Z', '2026-11-27T03:00:00Z']);
});

test('weekly and monthly reach further back; a backup kept for several reasons says all of them', () => {
  const backups = ['2026-12-01T03:00:00Z', '2026-11-24T03:00:00Z', '2026-11-02T03:00:00Z', '2026-10-15T03:00:00Z', '2026-09-01T03:00:00Z'].map((d) => at(d));
  const plan = planRetention(backups, { ...none, daily: 1, weekly: 2, monthly: 3 });
  assert.deepEqual(plan.keep.map((k) => k.id), ['2026-12-01T03:00:00Z', '2026-11-24T03:00:00Z', '2026-10-15T03:00:00Z']);
  assert.deepEqual(plan.keep[0]!.why, ['daily 2026-12-01', 'weekly 2026-W49', 'monthly 2026-12', 'the newest verified backup']);
  assert.deepEqual(plan.remove, ['2026-11-02T03:00:00Z', '2026-09-01T03:00:00Z']);
});

test('the newest verified backup and min_verified survive any counts', () => {
  const backups = [at('2026-12-01T03:00:00Z', false), at('2026-11-30T03:00:00Z', false), at('2026-11-29T03:00:00Z'), at('2026-11-20T03:00:00Z'), at('2026-11-10T03:00:00Z')];
  const plan = planRetention(backups, { ...none, daily: 1, min_verified: 2 });
  assert.deepEqual(
    plan.keep.map((k) => [k.id, k.why.at(-1)]),
    [
      ['2026-12-01T03:00:00Z', 'daily 2026-12-01'],
      ['2026-11-29T03:00:00Z', 'the newest verified backup'],
      ['2026-11-20T03:00:00Z', 'min_verified 2'],
    ],
  );
  assert.deepEqual(plan.remove, ['2026-11-30T03:00:00Z', '2026-11-10T03:00:00Z']);
  assert.deepEqual(planRetention([], { ...none, daily: 3 }), { keep: [], remove: [] });
});

test('a backup a restore drill proved is preferred: the newest one stays, and min_verified takes restored ones first', () => {
  const restored = (iso: string): BackupRef => ({ ...at(iso), restored: true });
  const backups = [at('2026-12-01T03:00:00Z'), at('2026-11-30T03:00:00Z'), at('2026-11-29T03:00:00Z'), restored('2026-11-20T03:00:00Z'), restored('2026-11-10T03:00:00Z'), at('2026-11-01T03:00:00Z')];
  const plan = planRetention(backups, { ...none, daily: 1, min_verified: 3 });
  assert.deepEqual(
    plan.keep.map((k) => [k.id, k.why.at(-1)]),
    [
      ['2026-12-01T03:00:00Z', 'the newest verified backup'],
      ['2026-11-20T03:00:00Z', 'the newest backup a restore drill proved'],
      ['2026-11-10T03:00:00Z', 'min_verified 3'],
    ],
    'the two restored backups fill min_verified before the newer ones that were only checked',
  );
  assert.deepEqual(plan.remove, ['2026-11-30T03:00:00Z', '2026-11-29T03:00:00Z', '2026-11-01T03:00:00Z']);
});
