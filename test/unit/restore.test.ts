// The restore drill's pure parts: comparing a restored copy with its manifest, smoke-check verdicts, the spec the CLI
// sends and the box reads back, and the report as the operator reads it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareCatalog, judgeSmoke } from '../../src/agent/restore/verify.js';
import { parseDrillSpec, type DrillReport } from '../../src/restore/spec.js';
import { formatDrill, span } from '../../src/ops/restore/report.js';
import { backupHealth } from '../../src/ops/backup/health.js';

const manifest = { rows: { 'public.a': 3, 'billing.b': 0 }, tableCount: 2, indexCount: 1 };

test('a restored copy equal to its manifest passes rows, tables and indexes', () => {
  const r = compareCatalog(manifest, { rows: { 'public.a': 3, 'billing.b': 0 }, indexCount: 1 });
  assert.deepEqual(r.map((c) => [c.name, c.ok]), [['rows', true], ['tables', true], ['indexes', true]]);
});

test('missing rows, a missing table, an extra table and a lost index are each named', () => {
  const r = compareCatalog(manifest, { rows: { 'public.a': 2, 'public.extra': 0 }, indexCount: 0 });
  assert.equal(r[0]!.ok, false);
  assert.equal(r[0]!.detail, 'public.a has 2 rows, the manifest 3; billing.b is missing; public.extra is not in the manifest');
  assert.deepEqual(r.slice(1).map((c) => [c.ok, c.detail]), [[true, '2 tables, the manifest 2'], [false, '0 indexes, the manifest 1']]);
});

test('smoke checks: an expected value, or a timestamp no older than max_age before the backup', () => {
  const at = new Date('2026-12-01T06:00:00Z');
  assert.equal(judgeSmoke({ name: 'n', sql: 's', expect: '5000' }, '5000', at).ok, true);
  assert.equal(judgeSmoke({ name: 'n', sql: 's', expect: '5000' }, 5000, at).ok, true, 'numbers compare as text');
  assert.deepEqual(judgeSmoke({ name: 'n', sql: 's', expect: '5000' }, null, at), { name: 'check "n"', ok: false, detail: 'returned nothing, expected 5000' });
  const fresh = { name: 'f', sql: 's', maxAgeMs: 6 * 3600_000 };
  assert.equal(judgeSmoke(fresh, new Date('2026-12-01T01:00:00Z'), at).ok, true);
  const stale = judgeSmoke(fresh, new Date('2026-11-30T23:00:00Z'), at);
  assert.deepEqual([stale.ok, stale.detail], [false, 'newest 2026-11-30T23:00:00.000Z is 7.0 h older than the backup, more than 6.0 h']);
  assert.equal(judgeSmoke(fresh, 'not a date', at).ok, false);
});

const spec = {
  id: '20261201T060000Z-ab12cd34',
  app: 'shop',
  root: '/srv/shop',
  helper: '/usr/local/lib/mono/priv-shop',
  dir: '/var/backups/shop',
  db: { name: 'shopdb', user: 'shop', port: 5432 },
  from: 'offsite',
  offsite: { user: 'backup', host: 'b.example', port: 22 },
  jobs: 2,
  maxDataLossMs: 86_400_000,
  checks: [],
};

test('the drill spec is checked field by field when the box reads it', () => {
  assert.equal(parseDrillSpec(JSON.stringify(spec)).db.name, 'shopdb');
  for (const bad of [{ id: '../x' }, { db: { name: 'shop; drop', user: 'shop', port: 5432 } }, { from: 'elsewhere' }, { offsite: undefined }, { backup: 'latest' }, { dir: 'relative' }]) {
    assert.throws(() => parseDrillSpec(JSON.stringify({ ...spec, ...bad })), /the drill spec is incomplete or malformed/, JSON.stringify(bad));
  }
  assert.equal(parseDrillSpec(JSON.stringify({ ...spec, from: 'local', offsite: undefined })).from, 'local');
  assert.throws(() => parseDrillSpec('{'), /the drill spec is not JSON/);
});

test('the report says the verdict, the recovery time by phase and the data age against the allowed loss', () => {
  const r: DrillReport = {
    id: spec.id, mode: 'drill', db: 'shopdb', backup: '20261201T030000Z', from: 'offsite', ok: true, startedAt: '2026-12-01T06:00:00.000Z', backupAt: '2026-12-01T03:00:00.000Z',
    dataAgeMs: 3 * 3600_000 + 12 * 60_000, maxDataLossMs: 86_400_000, phases: { fetchMs: 1200, decryptMs: 400, restoreMs: 8100, verifyMs: 2600 }, recoveryMs: 12_300, tables: 3, rows: 205_000, checks: [],
  };
  assert.equal(formatDrill(r), [
    'restore drill of shopdb/20261201T030000Z passed: 3 tables, 205000 rows from the offsite copy',
    '  recovery time 12.3 s: fetch 1.2 s, decrypt 0.4 s, restore 8.1 s, verify 2.6 s',
    '  data age 3 h 12 min at the drill (backup taken 2026-12-01T03:00:00.000Z); allowed data loss 24 h 0 min',
  ].join('\n'));
  assert.match(formatDrill({ ...r, dataAgeMs: 2 * 86_400_000 }), /allowed data loss 24 h 0 min: TOO OLD$/);
  assert.deepEqual([span(45_000), span(600_000), span(3 * 86_400_000 + 3_600_000)], ['45 s', '10 min', '3 d 1 h']);
});

test('mono status: a failed backup, a backup older than the allowed loss, a pending offsite copy and a failed drill are red', () => {
  const now = Date.parse('2026-12-01T12:00:00Z');
  const backup = { db: 'shopdb', id: '20261201T030000Z', startedAt: '2026-12-01T03:00:00.000Z', bytes: 1, tables: 3, rows: 9, checked: true, offsiteVerifiedAt: '2026-12-01T03:01:00.000Z' };
  const drill = { id: 'd', mode: 'drill' as const, db: 'shopdb', backup: backup.id, from: 'offsite' as const, ok: true, startedAt: '2026-12-01T04:00:00.000Z', backupAt: backup.startedAt, dataAgeMs: 3_600_000, maxDataLossMs: 86_400_000, phases: { fetchMs: 1, decryptMs: 1, restoreMs: 1, verifyMs: 1 }, recoveryMs: 4000, tables: 3, rows: 9, checks: [] };
  const good = backupHealth({ databases: [{ db: 'shopdb', lastRun: { status: 'ok', at: backup.startedAt }, lastDrill: drill, backups: [backup] }] }, 86_400_000, true, now);
  assert.deepEqual(good.map((l) => l.red), [false, false]);
  assert.equal(good[0]!.text, 'shopdb: newest backup 20261201T030000Z, 9 h 0 min old (allowed 24 h 0 min); offsite copy verified');
  assert.match(good[1]!.text, /^shopdb: last restore drill passed 8h ago \(20261201T030000Z from offsite\): recovery time 4\.0 s, data age 1 h 0 min$/);
  const stale = backupHealth({ databases: [{ db: 'shopdb', lastRun: null, backups: [backup] }] }, 3_600_000, true, now);
  assert.deepEqual([stale[0]!.red, /OLDER than the allowed data loss \(1 h 0 min\)/.test(stale[0]!.text)], [true, true]);
  const pendingBackup = { db: backup.db, id: backup.id, startedAt: backup.startedAt, bytes: 1, tables: 3, rows: 9, checked: true };
  assert.equal(backupHealth({ databases: [{ db: 'shopdb', lastRun: null, backups: [pendingBackup] }] }, 86_400_000, true, now)[0]!.red, true, 'offsite pending');
  const failed = backupHealth({ databases: [{ db: 'shopdb', lastRun: { status: 'failed', at: backup.startedAt, error: 'pg_dump was killed' }, lastDrill: { ...drill, ok: false, error: { code: 'CHECK_FAILED', message: 'rows differ' } }, backups: [] }] }, 86_400_000, false, now);
  assert.deepEqual(failed.map((l) => [l.red, l.text.replace(/ \d+h ago/, ' …')]), [
    [true, 'shopdb: last backup FAILED …: pg_dump was killed'],
    [true, 'shopdb: no backup yet (run mono backup)'],
    [true, 'shopdb: last restore drill FAILED … (20261201T030000Z from offsite): rows differ'],
  ]);
});
