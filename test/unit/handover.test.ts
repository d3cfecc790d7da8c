import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { follow } from '../../src/agent/handover/follow.js';
import { Journal, listStates } from '../../src/agent/handover/journal.js';
import { busyTenants, pin, routeOf, routes, unpin } from '../../src/agent/handover/tenants.js';
import { newHandoverId, parseHandoverSpec, reached } from '../../src/handover/spec.js';
import { describeHandover } from '../../src/ops/handover/command.js';

const R1 = '20261201T040000Z-aaaaaaaa';
const R2 = '20261201T041000Z-bbbbbbbb';

test('a pin is a symlink to the old socket plus the marker nginx tests; moving points it at current.sock, removing nothing', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'mono-tenants-')), 'tenants');
  pin(dir, 'acme', R1);
  assert.equal(readlinkSync(join(dir, 'acme.sock')), `../${R1}.sock`);
  assert.ok(existsSync(join(dir, 'acme.route')), 'marker for nginx');
  assert.equal(routeOf(dir, 'acme'), R1);
  unpin(dir, 'acme');
  assert.equal(readlinkSync(join(dir, 'acme.sock')), '../current.sock');
  assert.ok(existsSync(join(dir, 'acme.route')), 'the marker stays: a request between its test and its connect still finds the symlink');
  assert.deepEqual([...routes(dir)], [['acme', 'current']]);
  assert.equal(routeOf(dir, 'nobody'), undefined);
});

test('busy tenants come from every instance report of the release; dead processes and idle tenants do not count', () => {
  const instances = mkdtempSync(join(tmpdir(), 'mono-busy-'));
  const report = (process: string, body: unknown): void => {
    mkdirSync(join(instances, R1, process), { recursive: true });
    writeFileSync(join(instances, R1, process, 'busy.json'), JSON.stringify(body));
  };
  report('web', { pid: 10, tenants: { acme: 1, idle: 0 } });
  report('worker', { pid: 11, tenants: { globex: 2 } });
  report('old', { pid: 12, tenants: { ghost: 1 } });
  const alive = (pid: number): boolean => pid !== 12;
  assert.deepEqual([...busyTenants(instances, R1, ['web', 'worker', 'old', 'missing'], alive)].sort(), ['acme', 'globex']);
});

const SPEC = {
  id: `${R2}.abc`,
  kind: 'deploy',
  app: 'shop',
  root: '/srv/shop',
  runDir: '/run/shop',
  helper: '/usr/local/lib/mono/priv-shop',
  release: R2,
  processes: ['web'],
  healthPath: '/up',
  healthTimeoutMs: 1000,
  verifyWindowMs: 0,
  drainBudgetsMs: { web: 1000 },
  confirm: { url: 'http://127.0.0.1:80/up', host: 'localhost' },
  by: 'me@laptop',
};

test('a handover spec from the wire is checked: ids, release, process names', () => {
  assert.equal(parseHandoverSpec(SPEC).release, R2);
  assert.match(newHandoverId(R2, 1_700_000_000_000), new RegExp(`^${R2}\\.[0-9a-z]+$`));
  assert.throws(() => parseHandoverSpec({ ...SPEC, id: `${R1}.abc` }), /bad release/);
  assert.throws(() => parseHandoverSpec({ ...SPEC, id: '../../etc.x' }), /bad id/);
  assert.throws(() => parseHandoverSpec({ ...SPEC, processes: ['web; rm -rf /'] }), /process type names/);
  assert.throws(() => parseHandoverSpec({ ...SPEC, kind: 'restart' }), /deploy or rollback/);
});

test('phases: "switched" is reached by any phase after starting; "done" only by an end', () => {
  assert.equal(reached('starting', 'switched'), false);
  assert.equal(reached('pinned', 'switched'), true);
  assert.equal(reached('draining', 'done'), false);
  assert.equal(reached('failed', 'done'), true);
});

test('follow prints the journal and stops at the phase asked for, or when the runner is gone', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mono-journal-'));
  const now = new Date().toISOString();
  const j = new Journal(dir, { id: SPEC.id, kind: 'deploy', release: R2, phase: 'starting', pid: process.pid, startedAt: now, updatedAt: now, pins: [], draining: [], drained: [] });
  j.info('  starting shop-web');
  setTimeout(() => j.update({ phase: 'switched', switchMs: 12 }), 100);
  const lines: string[] = [];
  const state = await follow(dir, SPEC.id, (l) => lines.push(l), { until: 'switched', pollMs: 10 });
  assert.equal(state?.phase, 'switched');
  assert.deepEqual(JSON.parse(lines.at(-1)!), { type: 'end', time: (JSON.parse(lines.at(-1)!) as { time: string }).time, state, lost: false });
  assert.ok(lines.some((l) => l.includes('starting shop-web')));
  assert.equal(listStates(dir)[0]?.id, SPEC.id);

  // A runner that died mid-way (its pid is gone) ends the follow as lost.
  j.update({ phase: 'pinned', pid: 2 ** 22 + 12345 });
  const lost: string[] = [];
  await follow(dir, SPEC.id, (l) => lost.push(l), { until: 'done', pollMs: 10 });
  assert.equal((JSON.parse(lost.at(-1)!) as { lost: boolean }).lost, true);
});

test('handover status names pinned tenants with their release and how long, and what is still draining', () => {
  const now = Date.parse('2026-12-01T05:00:00Z');
  const lines = describeHandover(
    {
      id: SPEC.id,
      kind: 'deploy',
      release: R2,
      from: R1,
      phase: 'pinned',
      pid: 1,
      running: true,
      startedAt: '2026-12-01T04:58:00Z',
      updatedAt: '2026-12-01T04:59:00Z',
      switchMs: 14,
      pins: [{ tenant: 'acme', release: R1, since: '2026-12-01T04:58:30Z' }],
      draining: [{ unit: `shop-worker@${R1}.service`, since: '2026-12-01T04:58:31Z' }],
      drained: [],
    },
    now,
  );
  assert.deepEqual(lines, [
    `${SPEC.id}  deploy ${R1} → ${R2}  pinned (runner running)  started 2m ago, switched in 14 ms`,
    `    pinned: tenant acme → ${R1} for 90s (its jobs are still running there)`,
    `    draining: shop-worker@${R1}.service for 89s`,
  ]);
});
