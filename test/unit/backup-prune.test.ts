import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pruneLocal, recordRun } from '../../src/agent/backup/inventory.js';

const policy = { hourly: 0, daily: 1, weekly: 0, monthly: 0, min_verified: 2 };

/** A backups folder with one complete backup per id (a manifest), copied offsite when listed in `copied`. */
function folder(ids: readonly string[], copied: readonly string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'mono-prune-'));
  for (const id of ids) {
    mkdirSync(join(dir, 'shop', id), { recursive: true });
    const startedAt = `${id.slice(0, 4)}-${id.slice(4, 6)}-${id.slice(6, 8)}T${id.slice(9, 11)}:${id.slice(11, 13)}:${id.slice(13, 15)}Z`;
    writeFileSync(join(dir, 'shop', id, 'manifest.json'), JSON.stringify({ startedAt, files: [{ name: 'dump.zst', bytes: 10, sha256: 'x' }], tableCount: 1, rows: { 'public.t': 1 }, checks: { sha256: true, fullRead: true, tableCount: true } }));
    if (copied.includes(id)) writeFileSync(join(dir, 'shop', id, 'offsite.json'), JSON.stringify({ verifiedAt: startedAt }));
  }
  return dir;
}

const IDS = ['20261201T030000Z', '20261130T030000Z', '20261129T030000Z', '20261128T030000Z'];

test('prune removes what the policy lets go; --dry-run only says so', () => {
  const dir = folder(IDS, IDS);
  const dry = pruneLocal(dir, 'shop', policy, { apply: false, offsite: true });
  assert.deepEqual(dry.remove, ['20261129T030000Z', '20261128T030000Z']);
  assert.equal(readdirSync(join(dir, 'shop')).length, 4, 'a dry run removes nothing');
  pruneLocal(dir, 'shop', policy, { apply: true, offsite: true });
  assert.deepEqual(readdirSync(join(dir, 'shop')).sort(), ['20261130T030000Z', '20261201T030000Z']);
});

test('a backup still waiting for its offsite copy is kept; nothing is pruned after a failed run', () => {
  const dir = folder(IDS, ['20261201T030000Z', '20261130T030000Z', '20261128T030000Z']);
  const plan = pruneLocal(dir, 'shop', policy, { apply: true, offsite: true });
  assert.deepEqual([plan.remove, plan.pendingKept], [['20261128T030000Z'], ['20261129T030000Z']]);
  recordRun(join(dir, 'shop'), { status: 'failed', at: '2026-12-02T03:00:00Z', error: 'pg_dump was killed (SIGKILL)' });
  assert.throws(() => pruneLocal(dir, 'shop', policy, { apply: true, offsite: true }), /the last backup of shop failed \(2026-12-02T03:00:00Z: pg_dump was killed \(SIGKILL\)\): nothing is pruned until a backup succeeds/);
  recordRun(join(dir, 'shop'), { status: 'ok', at: '2026-12-02T04:00:00Z', id: '20261201T030000Z' });
  assert.deepEqual(pruneLocal(dir, 'shop', policy, { apply: false, offsite: false }).remove, ['20261129T030000Z']);
});
