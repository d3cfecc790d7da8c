// The progress display: silent until the summary off a TTY, one redrawn line on a TTY, throttled events with --json.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { Logger } from '../../src/log/logger.js';
import { formatBytes, formatDuration, formatEta, Progress } from '../../src/release/progress.js';

class Capture extends Writable {
  text = '';
  isTTY: boolean;
  columns = 200;
  constructor(tty: boolean) {
    super();
    this.isTTY = tty;
  }
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

function clock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1000;
  return { now: () => t, advance: (ms) => (t += ms) };
}

test('not a TTY: nothing until the end, then one summary line', () => {
  const err = new Capture(false);
  const log = new Logger({ json: false, verbose: false, err, out: new Capture(false) });
  const c = clock();
  const progress = new Progress(log, 'uploading', { bytes: 120_000_000, files: 5000 }, { stream: err, now: c.now });
  for (let i = 0; i < 100; i++) {
    c.advance(50);
    progress.add(1_200_000, 50);
  }
  assert.equal(err.text, '');
  assert.deepEqual(progress.done(), { bytes: 120_000_000, ms: 5000 });
  assert.equal(err.text, 'uploading  120.0 MB, 5,000 files in 5.0s  (24.0 MB/s)\n');
  // done() twice prints once.
  const once = err.text;
  progress.done();
  assert.equal(err.text, once);
});

test('--json: progress events at most twice a second, then a final one', () => {
  const out = new Capture(false);
  const err = new Capture(true);
  const log = new Logger({ json: true, verbose: false, err, out });
  const c = clock();
  const progress = new Progress(log, 'uploading', { bytes: 10_000, files: 10 }, { stream: err, now: c.now });
  for (let i = 0; i < 10; i++) {
    progress.add(1000, 1);
    c.advance(100);
  }
  progress.done();
  assert.equal(err.text, '', 'nothing on stderr, even if it is a TTY');
  const events = out.text.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
  assert.ok(events.every((e) => e['type'] === 'progress' && e['phase'] === 'uploading' && e['totalBytes'] === 10_000 && e['totalFiles'] === 10));
  // 1 s of adds: the first add and one every 500 ms (t = 0, 500 ms) plus the final event.
  assert.deepEqual(
    events.map((e) => [e['bytes'], e['files']]),
    [
      [1000, 1],
      [6000, 6],
      [10_000, 10],
    ],
  );
  assert.equal(events.at(-1)?.['done'], true);
  assert.equal(events.at(-1)?.['rate'], 10_000);
});

test('a TTY: one line redrawn at most 10 times a second, cleared at the end for the summary', () => {
  const err = new Capture(true);
  const log = new Logger({ json: false, verbose: false, err, out: new Capture(false) });
  const c = clock();
  const progress = new Progress(log, 'uploading', { bytes: 120_000_000, files: 5000 }, { stream: err, now: c.now });
  for (let i = 0; i < 100; i++) {
    c.advance(20);
    progress.add(452_000, 12);
  }
  const draws = err.text.split('\r').filter((s) => s.startsWith('uploading'));
  // 2 s of adds every 20 ms: at most one draw per 100 ms.
  assert.ok(draws.length >= 19 && draws.length <= 21, `${draws.length} draws`);
  assert.equal(progress.line(), 'uploading  45.2 MB / 120.0 MB  37%  22.6 MB/s  ETA 4s  (1,200 / 5,000 files)');
  progress.done();
  assert.ok(err.text.endsWith('\r\x1b[Kuploading  45.2 MB, 1,200 files in 2.0s  (22.6 MB/s)\n'), JSON.stringify(err.text.slice(-120)));
});

test('a TTY line never wraps, and byte-only counting shows no file count', () => {
  const err = new Capture(true);
  err.columns = 30;
  const log = new Logger({ json: false, verbose: false, err, out: new Capture(false) });
  const c = clock();
  const progress = new Progress(log, 'uploading', { bytes: 1000, files: 3 }, { stream: err, now: c.now });
  c.advance(2000);
  progress.add(500);
  assert.equal(progress.line(), 'uploading  500 B / 1.0 kB  50%  250 B/s  ETA 2s');
  assert.equal(err.text, '\ruploading  500 B / 1.0 kB  50\x1b[K', 'cut to columns - 1');
  progress.add(500);
  progress.abort();
  assert.ok(err.text.endsWith('\r\x1b[K'));
  assert.equal(progress.done().bytes, 1000);
});

test('formats', () => {
  assert.equal(formatBytes(999), '999 B');
  assert.equal(formatBytes(45_200_000), '45.2 MB');
  assert.equal(formatBytes(999_990_000), '1.0 GB');
  assert.equal(formatBytes(3_500_000_000_000), '3.5 TB');
  assert.equal(formatDuration(420), '0.4s');
  assert.equal(formatDuration(45_400), '45s');
  assert.equal(formatDuration(65_000), '1m05s');
  assert.equal(formatDuration(7_380_000), '2h03m');
  assert.equal(formatEta(2100), '3s');
});
