import assert from 'node:assert/strict';
import { test } from 'node:test';
import { previousRelease } from '../../src/ops/rollback.js';
import type { ReleaseInfo } from '../../src/release/protocol.js';

const R = (n: number): string => `20261201T00000${n}Z-0000000${n}`;
const release = (n: number, current = false): ReleaseInfo => ({ id: R(n), current, units: [], bytes: 0, processes: ['web'] });

test('the previous release is the newest other activated one still on the box', () => {
  const releases = [release(4, true), release(3), release(2), release(1)];
  const entries = [
    { action: 'activate', release: R(1) },
    { action: 'activate', release: R(2) },
    // 3 was built but never activated (its health check failed)
    { action: 'release', release: R(3) },
    { action: 'activate', release: R(4) },
  ];
  assert.equal(previousRelease(entries, releases), R(2));
  // After a rollback to 2 (current), going back again means the one active before: 4.
  const afterRollback = [...entries, { action: 'rollback', release: R(2), from: R(4) }];
  assert.equal(previousRelease(afterRollback, [release(4), release(3), release(2, true), release(1)]), R(4));
  // A pruned release is skipped.
  assert.equal(previousRelease(entries, [release(4, true), release(3), release(1)]), R(1));
  assert.equal(previousRelease([{ action: 'activate', release: R(4) }], releases), undefined);
  assert.equal(previousRelease([], []), undefined);
});

test('the release behind current.sock', async () => {
  const { releaseOfSocket: behind } = await import('../../src/handover/units.js');
  assert.equal(behind('/run/shop/20261201T000001Z-00000001.sock\n'), '20261201T000001Z-00000001');
  assert.equal(behind(''), undefined);
});

test('systemctl show -p output is read by key, whatever order systemd prints it in', async () => {
  const { parseProperties } = await import('../../src/handover/drain-wait.js');
  const props = parseProperties('Result=success\nActiveState=inactive\n');
  assert.equal(props.get('ActiveState'), 'inactive');
  assert.equal(props.get('Result'), 'success');
  assert.equal(parseProperties('').size, 0);
});
