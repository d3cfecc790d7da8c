// Benchmark helpers: run commands alternately, report medians and the ratio against a baseline.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sandboxDownSync, sshArgv, type BoxInfo } from '../src/sandbox/index.js';

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

// ---------------------------------------------------------------------------------------------------------------------------
// The database benchmarks (bench/backup.ts, bench/restore.ts): an app box with PostgreSQL 15 and mono set up, an offsite box,
// and one database filled to a given size.

/** The app and its one database in the database benchmarks. */
export const BENCH_APP = 'bench';
export const BENCH_DB = 'benchdb';
const PGBENCH = '/usr/lib/postgresql/15/bin/pgbench';

/** The mono CLI to measure: this checkout's build, or another build (MONO_BIN=/path/to/dist/cli/mono.mjs). */
export const MONO = process.env['MONO_BIN'] ?? new URL('../dist/cli/mono.mjs', import.meta.url).pathname;

export const log = (message: string): void => void process.stderr.write(`# ${message}\n`);
export const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;
export const secs = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
export const kbMb = (kb: number): string => `${(kb / 1024).toFixed(0)} MB`;

/** One shell word, quoted only if it needs it. */
export function q(word: string): string {
  return /^[A-Za-z0-9_./:=@,+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

export interface DbSize {
  readonly label: string;
  /** pgbench -i -s: 100,000 rows of pgbench_accounts (~15 MB with its index) per unit. */
  readonly scale: number;
  /** Rows of the wide table (random hex text and jsonb, ~0.8 kB a row: it compresses about 2:1, not to nothing). */
  readonly wideRows: number;
}

export const DB_SIZES: Readonly<Record<string, DbSize>> = {
  small: { label: 'small', scale: 3, wideRows: 12_500 },
  large: { label: 'large', scale: 30, wideRows: 125_000 },
  /** Not in the default runs: a third point (SIZES=small,large,xl; about 1.2 GB). */
  xl: { label: 'xl', scale: 60, wideRows: 250_000 },
};

/** The sizes a run measures: SIZES=small,large (the default), in that order. */
export function dbSizes(spec = process.env['SIZES'] ?? 'small,large'): DbSize[] {
  return spec.split(',').map((name) => {
    const size = DB_SIZES[name];
    if (size === undefined) throw new Error(`SIZES: unknown size ${name} (${Object.keys(DB_SIZES).join(', ')})`);
    return size;
  });
}

/** Runs a shell script on a box as root (untimed housekeeping); throws on failure. */
export function onBox(box: BoxInfo, script: string, input?: string): string {
  const [file, ...args] = sshArgv(box, [script], { connectTimeoutS: 10 });
  const r = spawnSync(file!, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...(input === undefined ? {} : { input }) });
  if (r.status !== 0) throw new Error(`on ${box.name}: ${script.slice(0, 300)}\nexit ${String(r.status)}: ${r.stderr}`);
  return r.stdout;
}

/** The environment mono runs in: a HOME of its own in the scratch folder, no colours. */
export const benchEnv = (work: string): NodeJS.ProcessEnv => ({ PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: join(work, 'home'), NO_COLOR: '1' });

export interface Timed {
  readonly ms: number;
  readonly code: number | null;
  /** stdout and stderr lines, with the milliseconds from the start at which each arrived. */
  readonly lines: readonly { t: number; text: string; err: boolean }[];
  /** Peak RSS of the command itself (GNU time %M). */
  readonly maxRssKb: number;
}

/** Runs argv (in benchEnv(work)) under GNU time (peak RSS), timing it as a whole and stamping each output line as it arrives. */
export function timed(argv: readonly string[], cwd: string, work: string): Promise<Timed> {
  const rssFile = join(work, 'rss.txt');
  const full = ['/usr/bin/time', '-f', '%M', '-o', rssFile, ...argv];
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const lines: { t: number; text: string; err: boolean }[] = [];
    const child = spawn(full[0]!, full.slice(1), { cwd, env: benchEnv(work), stdio: ['ignore', 'pipe', 'pipe'] });
    const collect = (stream: NodeJS.ReadableStream, err: boolean): void => {
      let rest = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        const t = performance.now() - started;
        const parts = (rest + chunk).split('\n');
        rest = parts.pop() ?? '';
        for (const text of parts) lines.push({ t, text, err });
      });
    };
    collect(child.stdout, false);
    collect(child.stderr, true);
    const timer = setTimeout(() => child.kill('SIGTERM'), 30 * 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const ms = performance.now() - started;
      const rss = Number(readFileSync(rssFile, 'utf8').trim().split('\n').at(-1));
      resolve({ ms, code, lines, maxRssKb: rss });
    });
  });
}

/** The NDJSON events of a `--json` run. */
export function events(r: Timed): Record<string, unknown>[] {
  return r.lines.filter((l) => !l.err && l.text.startsWith('{')).map((l) => JSON.parse(l.text) as Record<string, unknown>);
}

/**
 * A mono project in work/project for the app box, its one database backed up to the offsite box (retention that never
 * prunes inside a run; `extra` lines are added at the top level of mono.yml), then `mono setup` and the app's role and
 * database on the box. Returns the project's folder.
 */
export function setupBenchProject(work: string, box: BoxInfo, offsite: BoxInfo, extra: readonly string[] = []): string {
  const project = join(work, 'project');
  mkdirSync(join(work, 'home'), { recursive: true });
  mkdirSync(project, { recursive: true });
  writeFileSync(join(project, 'Procfile'), 'web: node server.js\n');
  writeFileSync(
    join(project, 'mono.yml'),
    [
      `app: ${BENCH_APP}`,
      `host: root@127.0.0.1:${box.sshPort}`,
      'ssh:',
      `  identity: ${box.keyFile}`,
      `  known_hosts: ${box.knownHostsFile}`,
      '  connect_timeout: 5s',
      'nginx:',
      `  listen: 127.0.0.1:${box.httpPort}`,
      'databases:',
      `  - name: ${BENCH_DB}`,
      'backups:',
      '  retention:',
      // Nothing is pruned inside a timed run: a benchmark trims untimed where it needs to.
      '    local: { hourly: 0, daily: 0, weekly: 0, monthly: 0, min_verified: 50 }',
      '  offsite:',
      `    host: root@127.0.0.1:${offsite.sshPort}`,
      '    path: /srv/backups',
      `    known_hosts: ${offsite.knownHostsFile}`,
      `    identity: ${offsite.keyFile}`,
      ...extra,
      '',
    ].join('\n'),
  );
  log('mono setup');
  const setup = spawnSync(process.execPath, [MONO, 'setup'], { cwd: project, env: benchEnv(work), encoding: 'utf8' });
  if (setup.status !== 0) throw new Error(`mono setup failed:\n${setup.stderr}`);
  onBox(box, `cd / && runuser -u postgres -- psql -v ON_ERROR_STOP=1 -qc "CREATE ROLE ${BENCH_APP} LOGIN" -c "CREATE DATABASE ${BENCH_DB} OWNER ${BENCH_APP}"`);
  return project;
}

/** Fills the benchmark database to a size (pgbench -i and the wide table, replacing what was there); returns pg_database_size. */
export function fillBenchDb(box: BoxInfo, size: DbSize): number {
  log(`${size.label}: pgbench -i -s ${size.scale} and a wide table of ${size.wideRows.toLocaleString('en-US')} rows of random text and jsonb`);
  onBox(box, `cd / && runuser -u ${BENCH_APP} -- ${PGBENCH} -i -q -s ${size.scale} --init-steps=dtGvp ${BENCH_DB} 2>&1`);
  const hex = (n: number): string => Array.from({ length: n }, () => 'md5(random()::text)').join(' || ');
  onBox(
    box,
    `cd / && runuser -u ${BENCH_APP} -- psql -v ON_ERROR_STOP=1 -qAt -d ${BENCH_DB}`,
    `DROP TABLE IF EXISTS wide;
CREATE TABLE wide (id bigserial PRIMARY KEY, body text NOT NULL, doc jsonb NOT NULL);
INSERT INTO wide (body, doc) SELECT ${hex(16)},
  jsonb_build_object('i', i, 'name', ${hex(2)}, 'tags', jsonb_build_array(md5(random()::text), md5(random()::text)), 'score', random())
  FROM generate_series(1, ${size.wideRows}) i;
VACUUM ANALYZE wide;
`,
  );
  onBox(box, 'cd / && runuser -u postgres -- psql -qc CHECKPOINT');
  const dbBytes = Number(onBox(box, `cd / && runuser -u ${BENCH_APP} -- psql -qAt -d ${BENCH_DB} -c "SELECT pg_database_size('${BENCH_DB}')"`).trim());
  log(`${size.label}: database ${BENCH_DB} is ${mb(dbBytes)} (pg_database_size)`);
  return dbBytes;
}
