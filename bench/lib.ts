// Benchmark helpers: run commands alternately, report medians and the ratio against a baseline.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sandboxDownSync } from '../src/sandbox/index.js';

export function timeOnce(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): number {
  const [file, ...args] = argv;
  const started = process.hrtime.bigint();
  const r = spawnSync(file!, args, { stdio: ['ignore', 'ignore', 'pipe'], env });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${String(r.status)}: ${r.stderr?.toString().slice(-500) ?? ''}`);
  return ms;
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export interface Comparison {
  readonly name: string;
  readonly subjectMs: number;
  readonly baselineMs: number;
  readonly ratio: number;
  readonly runs: number;
}

/** Runs subject and baseline alternately (warm-up first), so machine noise hits both alike. */
export function compare(name: string, subject: readonly string[], baseline: readonly string[], runs: number, env?: NodeJS.ProcessEnv): Comparison {
  timeOnce(subject, env);
  timeOnce(baseline, env);
  const s: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < runs; i++) {
    s.push(timeOnce(subject, env));
    b.push(timeOnce(baseline, env));
  }
  const subjectMs = median(s);
  const baselineMs = median(b);
  return { name, subjectMs, baselineMs, ratio: subjectMs / baselineMs, runs };
}

export function report(c: Comparison, target: { maxMs?: number; maxRatio?: number }): boolean {
  const okMs = target.maxMs === undefined || c.subjectMs <= target.maxMs;
  const okRatio = target.maxRatio === undefined || c.ratio <= target.maxRatio;
  const goal = [target.maxMs === undefined ? '' : `< ${target.maxMs} ms`, target.maxRatio === undefined ? '' : `ratio <= ${target.maxRatio}`].filter(Boolean).join(', ');
  process.stdout.write(
    `${c.name}: mono ${c.subjectMs.toFixed(0)} ms, baseline ${c.baselineMs.toFixed(0)} ms, ratio ${c.ratio.toFixed(2)} (median of ${c.runs}; target ${goal}) ${okMs && okRatio ? 'PASS' : 'MISS'}\n`,
  );
  return okMs && okRatio;
}

/**
 * A benchmark's sandbox box name and scratch folder, both removed on every exit (Ctrl-C included).
 * The box is only named here; the benchmark boots it.
 */
export function benchWorkspace(kind: string): { boxName: string; work: string } {
  const boxName = `bench-${kind}-${process.pid}`;
  const work = mkdtempSync(join(tmpdir(), `mono-bench-${kind}-`));
  process.on('exit', () => {
    sandboxDownSync(boxName);
    rmSync(work, { recursive: true, force: true });
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130));
  return { boxName, work };
}

/**
 * The name of one more box for a benchmark that boots two (an offsite box beside the app box): removed on every exit like
 * benchWorkspace's box. Call benchWorkspace first (it turns Ctrl-C into a normal exit).
 */
export function benchExtraBox(kind: string): string {
  const name = `bench-${kind}-${process.pid}`;
  process.on('exit', () => sandboxDownSync(name));
  return name;
}
