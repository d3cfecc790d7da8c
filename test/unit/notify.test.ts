// Alerts: ping URLs, log tails and webhook payloads as data; delivery and the job wrapper against a real local HTTP server.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, test } from 'node:test';
import { judgeBackup } from '../../src/agent/backup/notified.js';
import { sendTests } from '../../src/notify/test.js';
import { MonoError } from '../../src/errors.js';
import { Logger } from '../../src/log/logger.js';
import { RecordingLogger } from '../../src/log/recording.js';
import { Secret } from '../../src/log/secret.js';
import { withAlerts, type Send } from '../../src/notify/job.js';
import { endPing, logTail, pingBody, pingUrl, webhookPayload, webhookWanted } from '../../src/notify/message.js';
import { deliver } from '../../src/notify/send.js';
import { notifySettingsJson, parseNotifySettings, readNotifySettings, type NotifySettings } from '../../src/notify/settings.js';
import { notifySettingsStep } from '../../src/ops/setup/notify-step.js';
import { DryRunTransport } from '../../src/transport/dry-run.js';

interface Hit {
  readonly method: string;
  readonly path: string;
  readonly body: string;
  readonly contentType: string;
}

/** A real HTTP server on 127.0.0.1 that records every request and answers with `status(path, n)` (n: hits so far on that path). */
async function receiver(status: (path: string, n: number) => number | 'hang' = () => 200): Promise<{ base: string; hits: Hit[]; server: Server }> {
  const hits: Hit[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '';
      hits.push({ method: req.method ?? '', path, body: Buffer.concat(chunks).toString('utf8'), contentType: req.headers['content-type'] ?? '' });
      const answer = status(path, hits.filter((h) => h.path === path).length);
      if (answer === 'hang') return;
      res.writeHead(answer, { 'content-type': 'text/plain' });
      res.end('OK');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  after(() => {
    server.closeAllConnections();
    server.close();
  });
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits, server };
}

/** A port that nothing listens on (bound, then closed). */
async function deadPort(): Promise<number> {
  const { server } = await receiver();
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const fast: Send = (d) => deliver(d, { timeoutMs: 2000, retries: 2, backoffMs: [10] });

test('ping URLs follow healthchecks.io: /start, the URL itself, /fail; a query string stays at the end', () => {
  assert.equal(pingUrl('https://hc-ping.com/5b3c-uuid', 'start'), 'https://hc-ping.com/5b3c-uuid/start');
  assert.equal(pingUrl('https://hc-ping.com/5b3c-uuid', 'success'), 'https://hc-ping.com/5b3c-uuid');
  assert.equal(pingUrl('https://hc-ping.com/5b3c-uuid/', 'fail'), 'https://hc-ping.com/5b3c-uuid/fail');
  assert.equal(pingUrl('https://hc-ping.com/KEY/backup?create=1', 'fail'), 'https://hc-ping.com/KEY/backup/fail?create=1');
  assert.equal(pingUrl('not a url', 'start'), undefined);
  assert.equal(pingUrl('ftp://example.com/x', 'start'), undefined);
});

test('the log tail keeps the newest 100 lines and at most 10 kB, without colour codes', () => {
  const lines = Array.from({ length: 250 }, (_, i) => `line ${i}`);
  const tail = logTail(lines);
  assert.equal(tail.split('\n').length, 101);
  assert.ok(tail.startsWith('line 150\n'));
  assert.ok(tail.endsWith('line 249\n'));
  const wide = Array.from({ length: 100 }, (_, i) => `${i} ${'x'.repeat(300)}`);
  const capped = logTail(wide);
  assert.ok(Buffer.byteLength(capped) <= 10 * 1024, `${Buffer.byteLength(capped)} bytes`);
  assert.ok(capped.endsWith(`99 ${'x'.repeat(300)}\n`));
  assert.ok(capped.startsWith(`${100 - Math.floor(10 * 1024 / 304)} `), 'whole lines only, the oldest dropped');
  assert.equal(logTail(['\u001b[33mwarning:\u001b[39m the backup is 30% smaller', 'two\nlines']), 'warning: the backup is 30% smaller\ntwo\nlines\n');
  const huge = logTail(['é'.repeat(20_000)], 100, 1000);
  assert.ok(Buffer.byteLength(huge) <= 1000 && /^é+\n$/.test(huge), 'one line longer than the budget: its end, no broken character');
  assert.equal(logTail([]), '');
});

test('ping bodies, which ping ends a run, and the webhook payload', () => {
  const tail = 'backing up shopdb\n  dump 1 MB\n';
  assert.equal(pingBody(tail, { status: 'ok', message: 'fine' }), tail);
  assert.equal(pingBody(tail, { status: 'warning', message: 'smaller' }), tail, 'the warning lines are in the tail already');
  assert.equal(pingBody(tail, { status: 'fail', message: 'cannot connect', hint: 'check PostgreSQL' }), `${tail}error: cannot connect\nhint: check PostgreSQL\n`);
  assert.deepEqual([endPing({ status: 'ok', message: '' }), endPing({ status: 'warning', message: '' }), endPing({ status: 'fail', message: '' })], ['success', 'success', 'fail']);
  assert.deepEqual([webhookWanted({ status: 'ok', message: '' }), webhookWanted({ status: 'warning', message: '' }), webhookWanted({ status: 'fail', message: '' })], [false, true, true]);
  const at = new Date('2026-12-01T05:20:01Z');
  assert.deepEqual(webhookPayload({ app: 'shop', host: 'box1', job: 'backup', outcome: { status: 'fail', message: 'boom', hint: 'fix it' }, tail, at }), {
    app: 'shop',
    host: 'box1',
    job: 'backup',
    status: 'fail',
    message: 'boom',
    hint: 'fix it',
    logTail: tail,
    at: '2026-12-01T05:20:01.000Z',
  });
  assert.equal('hint' in webhookPayload({ app: 'a', host: 'h', job: 'backup', outcome: { status: 'warning', message: 'm' }, tail: '', at }), false);
});

test('notify.json: written from the config with the secrets revealed, read back, and damage reported without quoting it', () => {
  const config = { app: 'shop', notifications: { webhook: new Secret('https://hooks.example/T0KEN'), ping: { backup: new Secret('https://hc-ping.com/uuid') } } };
  const text = notifySettingsJson(config);
  assert.deepEqual(JSON.parse(text), { app: 'shop', webhook: 'https://hooks.example/T0KEN', ping: { backup: 'https://hc-ping.com/uuid' } });
  assert.deepEqual(parseNotifySettings(text), { app: 'shop', webhook: 'https://hooks.example/T0KEN', ping: { backup: 'https://hc-ping.com/uuid' } });
  assert.equal(notifySettingsJson({ app: 'shop', notifications: { ping: {} } }), '{\n  "app": "shop",\n  "ping": {}\n}\n');
  assert.equal(parseNotifySettings('{"app":"shop","ping":{"backup":1}}'), '"ping" is not an object of URLs');
  assert.equal(parseNotifySettings('https://hooks.example/T0KEN'), 'it is not valid JSON');
  const dir = mkdtempSync(join(tmpdir(), 'mono-notify-'));
  const warnings: string[] = [];
  assert.equal(readNotifySettings(join(dir, 'missing.json'), (m) => warnings.push(m)), undefined);
  assert.equal(warnings.length, 0, 'a box set up before alerts existed: no alerts, no warning');
  writeFileSync(join(dir, 'notify.json'), '{"app":"shop","webhook":"https://hooks.example/T0KEN"');
  assert.equal(readNotifySettings(join(dir, 'notify.json'), (m) => warnings.push(m)), undefined);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /notify\.json is damaged \(it is not valid JSON\): no alerts are sent; run mono setup again/);
  assert.doesNotMatch(warnings[0]!, /T0KEN/);
});

test('the setup step writes notify.json 0600 for the app user through stdin; its description and dry-run lines never show a URL', async () => {
  const config = { app: 'shop', user: 'shop', notifications: { webhook: new Secret('https://hooks.example/T0KEN'), ping: { backup: new Secret('https://hc-ping.com/SECRET-UUID') } } };
  const step = notifySettingsStep(config, '/srv/shop/.mono', '/var/lib/mono/staging/shop');
  assert.equal(step.describe, 'notification settings /srv/shop/.mono/notify.json (0600: webhook, backup ping)');
  const recorder = new DryRunTransport(undefined);
  await step.apply(recorder);
  const shown = recorder.lines().join('\n') + step.describe;
  assert.doesNotMatch(shown, /T0KEN|SECRET-UUID/);
  assert.match(shown, /< \(content on stdin\)/);
  const install = recorder.recorded.find((c) => c.argv.includes('/srv/shop/.mono/notify.json') && c.argv.includes('0600'));
  assert.deepEqual(install?.argv.slice(-4), ['/srv/shop/.mono/notify.json', '0600', 'shop', 'shop']);
  assert.ok(recorder.recorded.every((c) => !c.argv.join(' ').includes('T0KEN')), 'never in argv');
  assert.ok(recorder.recorded.some((c) => String(c.stdin).includes('T0KEN')), 'on stdin');
  assert.equal(notifySettingsStep({ ...config, notifications: { ping: {} } }, '/srv/shop/.mono', '/s').describe, 'notification settings /srv/shop/.mono/notify.json (0600: none configured)');
});

test('deliver: POSTs the body; retries a 5xx; gives up at once on a 404; never says the URL', async () => {
  const { base, hits } = await receiver((path, n) => (path === '/flaky' && n === 1 ? 503 : path === '/gone' ? 404 : 200));
  assert.equal(await fast({ url: `${base}/ok`, body: 'tail\n', contentType: 'text/plain; charset=utf-8' }), undefined);
  assert.deepEqual(hits[0], { method: 'POST', path: '/ok', body: 'tail\n', contentType: 'text/plain; charset=utf-8' });
  assert.equal(await fast({ url: `${base}/flaky`, body: '', contentType: 'text/plain' }), undefined);
  assert.equal(hits.filter((h) => h.path === '/flaky').length, 2);
  assert.equal(await fast({ url: `${base}/gone`, body: '', contentType: 'text/plain' }), 'HTTP 404');
  assert.equal(hits.filter((h) => h.path === '/gone').length, 1);
});

test('deliver: a receiver that is down or never answers gives a reason without the URL', async () => {
  const port = await deadPort();
  const refused = await fast({ url: `http://127.0.0.1:${port}/ping/SECRET-UUID`, body: '', contentType: 'text/plain' });
  assert.equal(refused, 'connection refused (after 3 tries)');
  const { base, hits } = await receiver(() => 'hang');
  const started = Date.now();
  const hung = await deliver({ url: `${base}/ping/SECRET-UUID`, body: '', contentType: 'text/plain' }, { timeoutMs: 300, retries: 1, backoffMs: [10] });
  assert.equal(hung, 'no answer within 0.3 s (after 2 tries)');
  assert.equal(hits.length, 2);
  assert.ok(Date.now() - started < 5000);
});

function settings(base: string): NotifySettings {
  return { app: 'shop', webhook: `${base}/hook`, ping: { backup: `${base}/ping/SECRET-UUID` } };
}

test('a good run: /start, then the success ping with the lines it printed; no webhook', async () => {
  const { base, hits } = await receiver();
  const lines: string[] = [];
  const warnings: string[] = [];
  const result = await withAlerts({
    settings: settings(base),
    job: 'backup',
    run: async () => {
      lines.push('backing up shopdb', '  checked');
      return 42;
    },
    judge: () => ({ status: 'ok', message: 'fine' }),
    lines: () => lines,
    warn: (m) => warnings.push(m),
    send: fast,
  });
  assert.equal(result, 42);
  assert.deepEqual(hits.map((h) => `${h.method} ${h.path}`), ['POST /ping/SECRET-UUID/start', 'POST /ping/SECRET-UUID']);
  assert.equal(hits[1]!.body, 'backing up shopdb\n  checked\n');
  assert.deepEqual(warnings, []);
});

test('a failed run: /fail with the tail, the error and its hint, the webhook with status "fail"; the error still reaches the caller', async () => {
  const { base, hits } = await receiver();
  const lines = ['backing up shopdb'];
  await assert.rejects(
    withAlerts({
      settings: settings(base),
      job: 'backup',
      run: async () => {
        throw new MonoError('REMOTE_FAILED', 'cannot connect to database shopdb', { hint: 'check that PostgreSQL runs' });
      },
      judge: () => ({ status: 'ok', message: '' }),
      lines: () => lines,
      warn: () => {},
      send: fast,
      now: () => new Date('2026-12-01T05:20:01Z'),
    }),
    /cannot connect to database shopdb/,
  );
  assert.deepEqual(hits.map((h) => h.path).sort(), ['/hook', '/ping/SECRET-UUID/fail', '/ping/SECRET-UUID/start']);
  assert.equal(hits[0]!.path, '/ping/SECRET-UUID/start');
  assert.equal(hits.find((h) => h.path.endsWith('/fail'))!.body, 'backing up shopdb\nerror: cannot connect to database shopdb\nhint: check that PostgreSQL runs\n');
  const hook = hits.find((h) => h.path === '/hook')!;
  assert.equal(hook.contentType, 'application/json');
  assert.deepEqual(JSON.parse(hook.body), { app: 'shop', host: hostname(), job: 'backup', status: 'fail', message: 'cannot connect to database shopdb', hint: 'check that PostgreSQL runs', logTail: 'backing up shopdb\n', at: '2026-12-01T05:20:01.000Z' });
});

test('a run with warnings: the success ping, and the webhook with status "warning"', async () => {
  const { base, hits } = await receiver();
  await withAlerts({ settings: settings(base), job: 'backup', run: async () => undefined, judge: () => ({ status: 'warning', message: 'smaller by 30%' }), lines: () => ['warning: smaller by 30%'], warn: () => {}, send: fast });
  assert.deepEqual(hits.map((h) => h.path).sort(), ['/hook', '/ping/SECRET-UUID', '/ping/SECRET-UUID/start']);
  assert.equal((JSON.parse(hits.find((h) => h.path === '/hook')!.body) as { status: string }).status, 'warning');
});

test('receivers that are down: the job still succeeds, with warnings that name the ping, not its URL', async () => {
  const port = await deadPort();
  const warnings: string[] = [];
  const down = { app: 'shop', webhook: `http://127.0.0.1:${port}/hook/T0KEN`, ping: { backup: `http://127.0.0.1:${port}/ping/SECRET-UUID` } };
  const result = await withAlerts({ settings: down, job: 'backup', run: async () => 'done', judge: () => ({ status: 'warning', message: 'w' }), lines: () => [], warn: (m) => warnings.push(m), send: fast });
  assert.equal(result, 'done');
  assert.deepEqual(warnings.sort(), [
    'could not deliver the backup alert to the webhook: connection refused (after 3 tries); the backup itself is not affected',
    'could not deliver the backup start ping: connection refused (after 3 tries); the backup itself is not affected',
    'could not deliver the backup success ping: connection refused (after 3 tries); the backup itself is not affected',
  ]);
  const bad: string[] = [];
  await withAlerts({ settings: { app: 'shop', ping: { backup: 'hc-ping.com/SECRET-UUID' } }, job: 'backup', run: async () => 1, judge: () => ({ status: 'ok', message: '' }), lines: () => [], warn: (m) => bad.push(m), send: fast });
  assert.equal(bad[0], 'could not deliver the backup start ping: its URL is not a valid http(s) URL; the backup itself is not affected');
});

test('an interrupted run sends the fail ping from its cleanup', async () => {
  const { base, hits } = await receiver();
  let interrupt: (() => Promise<void>) | undefined;
  let release: () => void = () => {};
  const running = withAlerts({
    settings: settings(base),
    job: 'backup',
    run: () => new Promise<void>((resolve) => (release = resolve)),
    judge: () => ({ status: 'ok', message: '' }),
    lines: () => ['backing up shopdb'],
    warn: () => {},
    send: fast,
    onInterrupt: (fn) => {
      interrupt = fn;
      return () => (interrupt = undefined);
    },
  });
  await interrupt?.();
  assert.match(hits.find((h) => h.path.endsWith('/fail'))?.body ?? '', /error: the backup was interrupted/);
  release();
  await running;
  assert.equal(hits.filter((h) => h.path === '/ping/SECRET-UUID').length, 0, 'no success ping after the fail ping');
  assert.equal(interrupt, undefined, 'unregistered when the run ends');
});

test('the recording logger prints exactly what the logger it wraps prints, and keeps the lines', () => {
  const err = new PassThrough();
  const out = new PassThrough();
  const inner = new Logger({ json: false, verbose: false, err, out });
  const log = new RecordingLogger(inner, 3);
  log.info('one');
  log.warn('smaller by 30%');
  log.debug('hidden');
  log.info('two');
  log.info('three');
  log.data('{"manifest":{}}');
  assert.equal(String(err.read()), 'one\nwarning: smaller by 30%\ntwo\nthree\n');
  assert.equal(String(out.read()), '{"manifest":{}}\n');
  assert.deepEqual(log.lines(), ['warning: smaller by 30%', 'two', 'three']);
  assert.deepEqual(log.warnings(), ['smaller by 30%']);
  assert.equal(log.lastData(), '{"manifest":{}}');
});

test('judging a backup from its reply: a pending or damaged offsite copy is a failure, warnings a warning', () => {
  const reply = (offsite?: object): string => JSON.stringify({ manifest: { db: 'shopdb', id: '20261201T052001Z' }, ...(offsite === undefined ? {} : { offsite }) });
  assert.deepEqual(judgeBackup(reply({ status: 'copied', copied: ['20261201T052001Z'] }), []), { status: 'ok', message: 'backup shopdb/20261201T052001Z made and checked' });
  assert.deepEqual(judgeBackup(reply({ status: 'pending', copied: [], error: { code: 'REMOTE_FAILED', message: 'the offsite host is not reachable', hint: 'check it' } }), []), {
    status: 'fail',
    message: 'backup shopdb/20261201T052001Z is kept on the box, but its offsite copy is pending: the offsite host is not reachable',
    hint: 'check it',
  });
  assert.equal(judgeBackup(reply({ status: 'damaged', copied: [], error: { code: 'CHECK_FAILED', message: 'sha256 differs' } }), []).message, 'backup shopdb/20261201T052001Z is kept on the box, but an offsite copy is damaged: sha256 differs');
  assert.deepEqual(judgeBackup(reply(), ['the backup is 30% smaller than the last one']), { status: 'warning', message: 'backup shopdb/20261201T052001Z was made, with a warning: the backup is 30% smaller than the last one' });
});

test('mono notify test sends one success ping per job and the webhook, naming each target and what failed', async () => {
  const sent: { url: string; body: string }[] = [];
  const results = await sendTests(
    { app: 'shop', webhook: 'https://hooks.example/x', ping: { backup: 'https://hc.example/ping/abc', restore_test: 'not a url' } },
    (d) => {
      sent.push({ url: d.url, body: d.body });
      return Promise.resolve(d.url.includes('hooks') ? 'HTTP 500 (after 3 tries)' : undefined);
    },
    new Date('2026-12-01T10:00:00Z'),
  );
  assert.deepEqual(results, [{ target: 'the backup ping' }, { target: 'the restore_test ping', failed: 'its URL is not a valid http(s) URL' }, { target: 'the webhook', failed: 'HTTP 500 (after 3 tries)' }]);
  assert.deepEqual(sent.map((s) => s.url), ['https://hc.example/ping/abc', 'https://hooks.example/x']);
  assert.match(sent[0]!.body, /^mono notify test from \S+ \(shop\) at 2026-12-01T10:00:00\.000Z: this is a test, nothing failed$/);
  assert.equal((JSON.parse(sent[1]!.body) as { job: string; status: string }).job, 'notify-test');
});
