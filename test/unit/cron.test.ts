// mono cron's pure logic and its box-side runner, with real child processes in a temp folder (no box): default
// schedules, the spec sent to the box, alerts that open, repeat daily and close, judging a step, the overlap claim,
// timeouts and a stop.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/types.js';
import { backupCron } from '../../src/cron/jobs.js';
import { alertWanted, nextAlert, REPEAT_MS, type ActiveAlert } from '../../src/cron/alerts.js';
import { cronSpecJson, cronSpecPath, parseCronSpec, type CronJobSpec } from '../../src/cron/spec.js';
import { cronSpec } from '../../src/ops/cron/plan.js';
import { judgeStep, runJob } from '../../src/agent/cron/runner.js';
import { CronStore } from '../../src/agent/cron/store.js';
import { cronListing, nextRun } from '../../src/agent/cron/listing.js';
import { MonoError } from '../../src/errors.js';

function config(yaml: string, procfile = 'web: node server.js\n'): Config {
  const dir = mkdtempSync(join(tmpdir(), 'mono-cron-'));
  writeFileSync(join(dir, 'Procfile'), procfile);
  return parseConfig(`app: shop\nhost: root@203.0.113.7\n${yaml}`, join(dir, 'mono.yml'), {});
}

test('default schedules: what has something to do on this box; "off" and {cron, timeout} from mono.yml', () => {
  const bare = config('');
  assert.deepEqual(bare.jobs.map((j) => `${j.name} ${j.cron}`), ['prune_releases 7 5 * * *', 'disk */10 * * * *', 'health */5 * * * *', 'stale_lock */15 * * * *']);
  const full = config('databases:\n  - name: shopdb\nnginx:\n  tls:\n    certificate: /etc/ssl/shop.pem\n    key: /etc/ssl/shop.key\nschedules:\n  health: "off"\n  disk:\n    cron: "*/5 * * * * *"\n    timeout: 30s\n');
  assert.deepEqual(full.jobs.map((j) => `${j.name} ${j.cron} ${j.source}`), ['backup 17 3,15 * * * default', 'restore_test 47 4 * * 0 default', 'prune_releases 7 5 * * * default', 'prune_backups 27 5 * * * default', 'disk */5 * * * * * config', 'tls 37 6 * * * default', 'stale_lock */15 * * * * default']);
  assert.equal(full.jobs.find((j) => j.name === 'disk')?.timeoutMs, 30_000);
  assert.equal(full.jobs.find((j) => j.name === 'backup')?.timeoutMs, 6 * 3600_000);
});

test('the default backup schedule backs up at least twice per allowed data loss', async () => {
  assert.equal(backupCron(48 * 3600_000), '17 3 * * *');
  assert.equal(backupCron(24 * 3600_000), '17 3,15 * * *');
  assert.equal(backupCron(6 * 3600_000), '17 */3 * * *');
  assert.equal(backupCron(2 * 3600_000), '17 */1 * * *');
  assert.equal(backupCron(3600_000), '*/30 * * * *');
  assert.equal(backupCron(10 * 60_000), '*/5 * * * *');
  for (const expression of [backupCron(6 * 3600_000), backupCron(3600_000)]) assert.ok((await nextRun(expression)) !== undefined, expression);
});

test('the spec sent to the box: agent verbs per job, never a shell line; backups strict, drills without an id', () => {
  const c = config('databases:\n  - name: a\n  - name: b\nbackups:\n  offsite:\n    host: backup@198.51.100.2\n    path: /srv/backups/shop\nchecks:\n  disk:\n    max_used_percent: 80\n');
  const spec = cronSpec(c);
  assert.equal(spec.root, '/srv/shop');
  const job = (name: string): CronJobSpec => spec.jobs.find((j) => j.name === name)!;
  assert.deepEqual(job('backup').steps.map((s) => s.args.slice(0, 3)), [['backup', '--root', '/srv/shop'], ['backup', '--root', '/srv/shop']]);
  assert.ok(job('backup').steps.every((s) => s.args.includes('--strict') && s.args.includes('--offsite')));
  assert.equal(job('backup').selfAlerting, true);
  const drill = JSON.parse(job('restore_test').steps[0]!.stdin!) as { spec: Record<string, unknown> };
  assert.equal(drill.spec['id'], undefined, 'each drill gets a new id on the box');
  assert.equal((drill.spec['db'] as { name: string }).name, 'a');
  assert.equal(drill.spec['from'], 'offsite');
  assert.deepEqual(job('prune_releases').steps[0]!.args, ['prune', '--root', '/srv/shop', '--keep', '5', '--app', 'shop', '--take-lock']);
  assert.deepEqual(job('disk').steps[0]!.args, ['check', 'disk', '--root', '/srv/shop', '--path', '/srv/shop', '--path', '/var/backups/shop', '--path', '/var/log', '--path', '/', '--max-used-percent', '80', '--max-inodes-percent', '90']);
  assert.equal(job('disk').selfAlerting, false);
  // What the box reads back is what was sent.
  assert.deepEqual(parseCronSpec(JSON.stringify(spec)), spec);
});

test('a bad cron.json is refused with a clear message, never half run', () => {
  const good = { version: 1, app: 'shop', root: '/srv/shop', jobs: [{ name: 'disk', cron: '* * * * *', timeoutMs: 1000, selfAlerting: false, steps: [{ args: ['check', 'disk'] }] }] };
  assert.doesNotThrow(() => parseCronSpec(JSON.stringify(good)));
  const bad = (change: (v: typeof good) => unknown, message: RegExp): void => {
    assert.throws(() => parseCronSpec(JSON.stringify(change(structuredClone(good)))), (e: unknown) => e instanceof MonoError && message.test(e.message));
  };
  bad((v) => ({ ...v, version: 2 }), /unknown version 2/);
  bad((v) => ({ ...v, jobs: [{ ...v.jobs[0], name: 'rm' }] }), /unknown name "rm"/);
  bad((v) => ({ ...v, jobs: [v.jobs[0], v.jobs[0]] }), /disk is listed twice/);
  bad((v) => ({ ...v, jobs: [{ ...v.jobs[0], steps: [{ args: 'check disk' }] }] }), /disk has a step without args/);
  bad((v) => ({ ...v, jobs: [{ ...v.jobs[0], timeoutMs: 0 }] }), /needs cron, timeoutMs/);
  assert.throws(() => parseCronSpec('{'), /cron.json is not JSON/);
});

test('alerts: the webhook hears an alert open, change, repeat daily and close, not every failing run', () => {
  const t0 = new Date('2026-12-01T10:00:00Z');
  const fail = { status: 'fail' as const, message: 'disk 95% full' };
  assert.equal(alertWanted(undefined, fail, t0), true);
  const open = nextAlert(undefined, fail, t0, true)!;
  assert.deepEqual(open, { status: 'fail', message: 'disk 95% full', since: t0.toISOString(), notifiedAt: t0.toISOString() });
  const t1 = new Date(t0.getTime() + 600_000);
  assert.equal(alertWanted(open, { ...fail, message: 'disk 96% full' }, t1), false, 'still failing: no second webhook');
  const still = nextAlert(open, { ...fail, message: 'disk 96% full' }, t1, false)!;
  assert.equal(still.since, open.since);
  assert.equal(still.notifiedAt, open.notifiedAt);
  assert.equal(alertWanted(still, fail, new Date(t0.getTime() + REPEAT_MS)), true, 'a day later: said again');
  const warn = { status: 'warning' as const, message: 'lock held 3 h' };
  assert.equal(alertWanted(still, warn, t1), true, 'a change of status is news');
  assert.equal(nextAlert(still, warn, t1, true)!.since, t1.toISOString());
  assert.equal(alertWanted(still, { status: 'ok', message: 'fine' }, t1), true, 'the recovery is sent');
  assert.equal(nextAlert(still, { status: 'ok', message: 'fine' }, t1, true), undefined);
  assert.equal(alertWanted(undefined, { status: 'ok', message: 'fine' }, t1), false, 'a good run with no alert is not news');
  const selfAlerting: ActiveAlert = nextAlert(undefined, fail, t0, false)!;
  assert.equal(selfAlerting.notifiedAt, undefined);
});

test('judging a step by how it ended and what it printed', () => {
  const end = (code: number | null, lines: string[], why?: 'timeout' | 'interrupted') => ({ code, signal: null, lines, ...(why === undefined ? {} : { why }) });
  assert.deepEqual(judgeStep(end(0, ['checking', '/srv is 40% full', '{"check":"disk"}']), 1000), { status: 'ok', message: '/srv is 40% full' });
  assert.deepEqual(judgeStep(end(0, ['warning: size dropped 60%']), 1000), { status: 'warning', message: 'size dropped 60%' });
  assert.deepEqual(judgeStep(end(5, ['x', 'error: /srv is 95% full', 'hint: free space']), 1000), { status: 'fail', message: '/srv is 95% full', hint: 'free space' });
  assert.deepEqual(judgeStep(end(null, [], 'timeout'), 120_000, 'disk'), { status: 'timeout', message: 'timed out after 2 min and was stopped', hint: 'raise schedules.disk.timeout in mono.yml if the job needs longer' });
  assert.deepEqual(judgeStep(end(3, []), 1000), { status: 'fail', message: 'exited with status 3' });
  assert.equal(judgeStep(end(7, ['error: the deploy lock is held (deploy by ann since …); the prune waits for its next run']), 1000).status, 'skipped');
  assert.match(judgeStep(end(null, [], 'timeout'), 90_000).message, /^timed out after 90 s and was stopped$/);
  assert.equal(judgeStep(end(null, [], 'interrupted'), 1000).status, 'interrupted');
});

function scratch(): { store: CronStore; monoDir: string } {
  const monoDir = mkdtempSync(join(tmpdir(), 'mono-cron-store-'));
  return { store: new CronStore(monoDir), monoDir };
}

const sh = (args: readonly string[]): readonly [string, readonly string[]] => ['sh', ['-c', args[0] ?? 'exit 1']];

function job(steps: string[], timeoutMs = 10_000): CronJobSpec {
  return { name: 'disk', cron: '* * * * *', timeoutMs, selfAlerting: false, steps: steps.map((s) => ({ args: [s] })) };
}

test('the running mark: one live run per job across processes; a mark left by a dead process is taken over', () => {
  const { store } = scratch();
  const mark = store.claim('backup', 'schedule')!;
  assert.ok(mark !== undefined);
  assert.equal(store.claim('backup', 'manual'), undefined, 'held by this live process');
  store.release('backup', mark);
  assert.ok(store.claim('backup', 'manual') !== undefined);
  const { store: other } = scratch();
  assert.ok(other.claim('disk', 'schedule', 2 ** 22 + 12_345) !== undefined, 'a pid that does not run');
  assert.ok(other.claim('disk', 'schedule') !== undefined, 'taken over');
});

test('runJob: every step runs and the worst result counts; output is passed on line by line and recorded', async () => {
  const { store, monoDir } = scratch();
  const seen: string[] = [];
  const run = await runJob(job(['echo one; echo "warning: two"', 'echo three; echo "error: four"; echo "hint: five"; exit 5', 'echo six >&2']), { store, monoDir, trigger: 'manual', onLine: (l) => seen.push(l), agent: sh, warn: () => {} });
  assert.equal(run.status, 'fail');
  assert.equal(run.message, 'four');
  assert.equal(run.hint, 'five');
  assert.equal(run.exitCode, 5);
  assert.deepEqual(seen, ['one', 'warning: two', 'three', 'error: four', 'hint: five', 'six'], 'the third step still ran');
  assert.deepEqual(store.history().map((r) => `${r.job} ${r.status} ${r.trigger}`), ['disk fail manual']);
  assert.equal(store.state().jobs['disk']?.lastRun?.status, 'fail');
  assert.equal(store.alerts()['disk']?.status, 'fail', 'an alert is open');
  const ok = await runJob(job(['echo fine']), { store, monoDir, trigger: 'schedule', onLine: () => {}, agent: sh, warn: () => {} });
  assert.equal(ok.status, 'ok');
  assert.deepEqual(store.alerts(), {}, 'and closed by a good run');
});

test('runJob: a second run while the first goes on is skipped and recorded; a timeout stops the whole process group', async () => {
  const { store, monoDir } = scratch();
  const o = { store, monoDir, trigger: 'schedule' as const, onLine: () => {}, agent: sh, warn: () => {} };
  const first = runJob(job(['sleep 1.5; echo done']), o);
  await new Promise((r) => setTimeout(r, 300));
  const second = await runJob(job(['echo never']), o);
  assert.equal(second.status, 'skipped');
  assert.match(second.message, /^still running since \S+ \(pid \d+\); this run is skipped$/);
  assert.equal((await first).status, 'ok');
  const started = Date.now();
  // The grandchild (sleep) would keep the pipes open if only sh were killed.
  const slow = await runJob(job(['sleep 30 & wait'], 500), o);
  assert.equal(slow.status, 'timeout');
  assert.ok(Date.now() - started < 5000, `stopped at its timeout: ${Date.now() - started} ms`);
});

test('runJob: a stop (the service stopping) interrupts the run, which keeps no alert', async () => {
  const { store, monoDir } = scratch();
  const abort = new AbortController();
  setTimeout(() => abort.abort(), 300);
  const run = await runJob(job(['sleep 30 & wait', 'echo next']), { store, monoDir, trigger: 'schedule', signal: abort.signal, onLine: () => {}, agent: sh, warn: () => {} });
  assert.equal(run.status, 'interrupted');
  assert.deepEqual(store.alerts(), {});
  assert.equal(store.running('disk'), undefined, 'the mark is released');
});

test('cronListing: the next run is the service\'s saved due time while it holds, else computed from the expression', async () => {
  const root = mkdtempSync(join(tmpdir(), 'mono-cron-listing-'));
  const monoDir = join(root, '.mono');
  mkdirSync(monoDir);
  const spec = { version: 1, app: 'zz-no-such-app', root, jobs: [{ name: 'disk', cron: '*/10 * * * *', timeoutMs: 60_000, selfAlerting: false, steps: [] }, { name: 'stale_lock', cron: '0 3 * * *', timeoutMs: 60_000, selfAlerting: false, steps: [] }] };
  writeFileSync(cronSpecPath(monoDir), cronSpecJson(parseCronSpec(JSON.stringify(spec))));
  const now = new Date();
  // A time no */10 schedule gives, so that only the saved value can produce it.
  const saved = new Date(Math.floor(now.getTime() / 600_000) * 600_000 + 3 * 3600_000 + 7000).toISOString();
  const store = new CronStore(monoDir);
  store.updateJob('disk', (s) => ({ ...s, cron: '*/10 * * * *', nextDueAt: saved }));
  // Saved for another expression: not used.
  store.updateJob('stale_lock', (s) => ({ ...s, cron: '0 4 * * *', nextDueAt: saved }));
  const listing = await cronListing(root, now);
  assert.equal(listing.service, 'unknown');
  const next = Object.fromEntries(listing.jobs.map((j) => [j.name, j.nextRun]));
  assert.equal(next['disk'], saved);
  assert.equal(next['stale_lock'], (await nextRun('0 3 * * *', now))!.toISOString());
  // A saved time in the past (the job is running, or the service is stopped) is computed again.
  store.updateJob('disk', (s) => ({ ...s, nextDueAt: new Date(now.getTime() - 60_000).toISOString() }));
  const again = (await cronListing(root, now)).jobs[0]!.nextRun!;
  assert.equal(again, (await nextRun('*/10 * * * *', now))!.toISOString());
  assert.equal(new Date(again).getUTCMinutes() % 10, 0);
});
