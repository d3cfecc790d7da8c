// The lines of mono status that judge the box, the schedule and the alerts: what turns red, and what only turns yellow.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { boxLines, cronLines } from '../../src/ops/status.js';
import { memoryOf, type BoxFacts } from '../../src/agent/status.js';
import type { CronListing } from '../../src/agent/cron/listing.js';

const NOW = Date.parse('2026-12-01T12:00:00Z');
const disk = (usedPercent: number, inodesUsedPercent = 3) => ({ path: '/srv/shop', totalBytes: 100e9, availBytes: (100 - usedPercent) * 1e9, usedPercent, inodesTotal: 1000, inodesFree: 1000 - inodesUsedPercent * 10, inodesUsedPercent });
const box = (disks: BoxFacts['disks']): BoxFacts => ({ uptimeS: 90_061, load: [0.5, 0.25, 0.1], cores: 2, memory: { totalBytes: 8e9, availableBytes: 6e9 }, disks });
const thresholds = { paths: [], maxUsedPercent: 90, maxInodesPercent: 90 };

test('the box line, and a disk line that is red at or above its threshold', () => {
  const ok = boxLines(box([disk(40)]), thresholds);
  assert.equal(ok[0]!.text, 'box: up 1d 1h, load 0.5 0.25 0.1 (2 cores), memory 2.0 GB of 8.0 GB used (25%)');
  assert.equal(ok[0]!.level, undefined);
  assert.equal(ok[1]!.level, undefined);
  assert.match(ok[1]!.text, /^disk: \/srv\/shop 40% of /);
  const full = boxLines(box([disk(90)]), thresholds)[1]!;
  assert.equal(full.level, 'red');
  assert.match(full.text, /\/srv\/shop is 90% full \(threshold 90%\)/);
  assert.equal(boxLines(box([disk(10, 95)]), thresholds)[1]!.level, 'red', 'inodes too');
  assert.equal(boxLines(box([{ path: '/gone', error: 'does not exist' }]), thresholds)[1]!.level, 'red', 'a path that cannot be checked');
});

test('memory is what the kernel can give, not just free pages', () => {
  assert.deepEqual(memoryOf('MemTotal:        8000000 kB\nMemFree:          100000 kB\nMemAvailable:    6000000 kB\n'), { totalBytes: 8_192_000_000, availableBytes: 6_144_000_000 });
});

const listing = (over: Partial<CronListing> = {}): CronListing => ({
  service: 'active',
  jobs: [
    { name: 'backup', cron: '17 3 * * *', timeoutMs: 1, nextRun: '2026-12-02T03:17:00Z', lastRun: { job: 'backup', trigger: 'schedule', startedAt: '2026-12-01T03:17:00Z', endedAt: '2026-12-01T03:17:09Z', ms: 9000, status: 'ok', message: 'backed up shopdb' } },
    { name: 'disk', cron: '*/10 * * * *', timeoutMs: 1, nextRun: '2026-12-01T12:10:00Z' },
  ],
  alerts: {},
  ...over,
});

test('cron lines: the service, each job, and the alerts; red for a stopped service, a failed run and a failing alert', () => {
  const lines = cronLines(listing(), 'shop-cron.service', NOW);
  assert.deepEqual(lines.map((l) => l.level), [undefined, undefined, undefined, undefined]);
  assert.match(lines[1]!.text, /^ {2}backup +17 3 \* \* \* +next in 15h +last 9h ago: ok \(9 s\): backed up shopdb$/);
  assert.match(lines[2]!.text, /never ran$/);
  assert.equal(lines[3]!.text, 'alerts: none');
  const inactive = cronLines(listing({ service: 'inactive' }), 'shop-cron.service', NOW)[0]!;
  assert.equal(inactive.level, 'red');
  assert.equal(inactive.text, 'cron: service inactive (nothing runs on schedule: sudo systemctl start shop-cron.service on the box, or run mono setup)');
  const failed = listing();
  const job = failed.jobs[0]!;
  const red = cronLines({ ...failed, jobs: [{ ...job, lastRun: { ...job.lastRun!, status: 'timeout', message: 'timed out after 6.0 h and was stopped' } }] }, 'shop-cron.service', NOW);
  assert.equal(red[1]!.level, 'red');
  const alerts = cronLines(listing({ alerts: { disk: { status: 'fail', message: '/srv is 95% full', since: '2026-12-01T11:00:00Z' }, stale_lock: { status: 'warning', message: 'held 3 h', since: '2026-12-01T11:30:00Z' } } }), 'shop-cron.service', NOW);
  assert.deepEqual(alerts.slice(-3).map((l) => `${l.level ?? '-'} ${l.text}`), ['- alerts:', 'red   disk: fail since 60m ago: /srv is 95% full', 'yellow   stale_lock: warning since 30m ago: held 3 h']);
  assert.equal(cronLines({ error: 'cron.json does not exist' }, 'shop-cron.service', NOW)[0]!.level, 'red');
});
