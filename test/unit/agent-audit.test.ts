// mono agent audit / audit-append: one JSON line per entry, time added, read from the tail skipping broken lines.
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { appendAudit, readAudit } from '../../src/agent/audit.js';

const newLog = (): string => join(mkdtempSync(join(tmpdir(), 'mono-agent-audit-')), 'audit.log');

test('append adds time when missing, keeps a given one, creates the log 0640 and writes one line each', () => {
  const log = newLog();
  const now = new Date('2026-11-30T23:20:00.000Z');
  assert.deepEqual(appendAudit(log, { action: 'deploy', release: 'r1' }, now), { time: '2026-11-30T23:20:00.000Z', action: 'deploy', release: 'r1' });
  appendAudit(log, { action: 'lock-forced', time: '2026-01-01T00:00:00.000Z', note: 'two\nlines' }, now);
  assert.equal(statSync(log).mode & 0o777, 0o640);
  assert.equal(
    readFileSync(log, 'utf8'),
    '{"time":"2026-11-30T23:20:00.000Z","action":"deploy","release":"r1"}\n{"action":"lock-forced","time":"2026-01-01T00:00:00.000Z","note":"two\\nlines"}\n',
  );
});

test('audit returns the last N parseable entries, oldest first; a missing log has none', () => {
  const log = newLog();
  assert.deepEqual(readAudit(log, 20), []);
  writeFileSync(log, '{"n":1}\nnot json\n{"n":2}\n\n{"n":3}\n{"n":4');
  assert.deepEqual(readAudit(log, 2), [{ n: 2 }, { n: 3 }]);
  assert.deepEqual(readAudit(log, 20), [{ n: 1 }, { n: 2 }, { n: 3 }]);
  assert.deepEqual(readAudit(log, 0), []);
});

test('a log much larger than the read block is read from its tail, across block boundaries', () => {
  const log = newLog();
  const pad = 'x'.repeat(997);
  const lines: string[] = [];
  for (let n = 0; n < 2000; n++) lines.push(JSON.stringify({ n, pad }));
  appendFileSync(log, lines.join('\n') + '\n');
  assert.deepEqual(
    readAudit(log, 150).map((e) => (e as { n: number }).n),
    Array.from({ length: 150 }, (_, i) => 1850 + i),
  );
  assert.equal(readAudit(log, 5000).length, 2000);
});
