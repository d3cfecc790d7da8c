// Benchmark: the restore drill (`mono restore-test`) on the backup benchmark's database (PostgreSQL 15 on a sandbox app box,
// its backup on a second, offsite box), beside a bare `pg_restore -j2 --exit-on-error` of the same backup into a fresh
// database, in one run, at two database sizes (medians of RUNS, interleaved drill, baseline, drill, baseline…):
//   - drill: the whole `mono restore-test --json` run from this machine: connect, agent start, the drill's transient unit,
//     fetch of the newest backup from the offsite box with the box's key (one ssh connection from the box), size and sha256
//     of every file against the manifest, zstd -d to a plain archive, initdb of a throwaway cluster and its start, the
//     globals, createdb, pg_restore --jobs=2 --exit-on-error, the checks (exact rows of every table, table and index counts,
//     pg_amcheck --install-missing --heapallindexed), the cluster's stop, the folder's removal and the drill's history;
//   - baseline: `pg_restore -j2 --exit-on-error -d <fresh database> <file>` on the box as postgres into the box's live
//     PostgreSQL, started from this machine over one ssh hop as mono is (ssh root@box runuser -u postgres -- pg_restore …).
//     The file is the same backup's dump.zst decompressed once (untimed) to a plain custom-format archive on the box; the
//     fresh database is created (createdb, then CHECKPOINT) untimed before each run and dropped untimed after it. It fetches
//     nothing, checks nothing, starts no cluster and never decompresses.
// Before every timed run (untimed): `sync`. One `mono backup` per size first (untimed), so the offsite box holds it.
// The drill's cluster is tuned for one bulk load (no fsync, wal_level=minimal, maintenance_work_mem=256MB, no autovacuum;
// src/agent/restore/cluster.ts); the live cluster the baseline restores into has Debian's defaults (fsync on).
// Run as root: `npm run build && npx tsx bench/restore.ts` (RUNS=3; SIZES=small,large; about 3 minutes).
// MONO_BIN=/path/to/dist/cli/mono.mjs measures another build (`mono setup` installs that build's agent on the box).
import { spawnSync } from 'node:child_process';
import type { DrillPhases, DrillReport } from '../src/restore/spec.js';
import { sandboxDown, sandboxUp, sshArgv } from '../src/sandbox/index.js';
import {
  BENCH_APP as APP,
  BENCH_DB as DB,
  MONO,
  benchExtraBox,
  benchWorkspace,
  dbSizes,
  events,
  fillBenchDb,
  kbMb,
  log,
  mb,
  median,
  onBox,
  q,
  secs as s,
  setupBenchProject,
  timed,
  type DbSize,
} from './lib.js';

const RUNS = Number(process.env['RUNS'] ?? 3);
const JOBS = 2;
const TARGET_RATIO = 1.3;
const BACKUPS = `/var/backups/${APP}/${DB}`;
const OFFSITE_BACKUPS = `/srv/backups/${APP}/${DB}`;
/** The baseline's plain custom-format archive (the backup's dump.zst, decompressed once) and its fresh database. */
const BASELINE_DIR = '/var/tmp/bench-restore';
const BASELINE_FILE = `${BASELINE_DIR}/${DB}.pgdump`;
const BASELINE_DB = `${DB}_baseline`;
const PG_BIN = '/usr/lib/postgresql/15/bin';
const SIZES = dbSizes();

const { boxName, work } = benchWorkspace('restore');
const offsiteName = benchExtraBox('restore-offsite');

interface DrillRun {
  readonly ms: number;
  readonly cliRssKb: number;
  readonly phases: DrillPhases;
  readonly recoveryMs: number;
}

interface SizeResult {
  readonly size: DbSize;
  readonly dbBytes: number;
  readonly backupBytes: number;
  readonly archiveBytes: number;
  readonly rows: number;
  readonly tables: number;
  readonly drills: DrillRun[];
  readonly baseline: number[];
  readonly references: string[];
}

// ---------------------------------------------------------------------------------------------------------------------------
// The run

const benchStarted = performance.now();
log(`booting sandbox boxes ${boxName} (app) and ${offsiteName} (offsite)…`);
const [box, offsite] = await Promise.all([sandboxUp({ name: boxName, kind: 'app' }), sandboxUp({ name: offsiteName, kind: 'offsite' })]);

const results: SizeResult[] = [];
let settings = '';
try {
  const project = setupBenchProject(work, box, offsite, ['restore:', `  jobs: ${JOBS}`]);
  onBox(box, `install -d -o postgres -g postgres -m 755 ${BASELINE_DIR}`);
  const asPostgres = (command: string): string => `cd / && runuser -u postgres -- ${command}`;
  const live = onBox(box, asPostgres(`psql -qAtX -c "SELECT string_agg(name || '=' || current_setting(name), ', ' ORDER BY name) FROM pg_settings WHERE name IN ('fsync', 'full_page_writes', 'synchronous_commit', 'max_wal_size', 'shared_buffers', 'maintenance_work_mem')"`)).trim();
  const tmp = onBox(box, 'findmnt -no FSTYPE -T /tmp').trim();
  settings = `live cluster (baseline): ${live}; drill cluster: fsync=off, full_page_writes=off, synchronous_commit=off, wal_level=minimal, maintenance_work_mem=256MB, autovacuum=off, max_wal_size=4GB, in the drill unit's private /tmp (${tmp} on the box)`;

  const drill = async (id: string): Promise<DrillRun> => {
    spawnSync('sync');
    const r = await timed([process.execPath, MONO, 'restore-test', '--json'], project, work);
    const report = events(r).find((e) => e['type'] === 'restore_test.report') as (DrillReport & Record<string, unknown>) | undefined;
    const failed = report?.checks.filter((c) => !c.ok) ?? [];
    if (r.code !== 0 || report === undefined || !report.ok || failed.length > 0 || report.checks.length === 0 || report.backup !== id || report.from !== 'offsite') {
      throw new Error(`mono restore-test exited ${String(r.code)} (expected a passed drill of ${id} from offsite):\n${r.lines.map((l) => l.text).slice(-30).join('\n')}`);
    }
    return { ms: r.ms, cliRssKb: r.maxRssKb, phases: report.phases, recoveryMs: report.recoveryMs };
  };
  const baselineArgv = sshArgv(box, [asPostgres(`pg_restore -j${JOBS} --exit-on-error -d ${BASELINE_DB} ${BASELINE_FILE}`)], { connectTimeoutS: 10 });
  /** One baseline run into a fresh database (created before, untimed); `keep` leaves the copy for the references. */
  const baseline = async (keep = false): Promise<number> => {
    onBox(box, asPostgres(`bash -c ${q(`dropdb --if-exists ${BASELINE_DB} && createdb ${BASELINE_DB} && psql -qX -c CHECKPOINT`)}`));
    spawnSync('sync');
    const r = await timed(baselineArgv, work, work);
    if (r.code !== 0) throw new Error(`baseline exited ${String(r.code)}: ${r.lines.map((l) => l.text).slice(-30).join('\n')}`);
    if (!keep) onBox(box, asPostgres(`dropdb ${BASELINE_DB}`));
    return r.ms;
  };
  /** One run of a shell script on the box as `user`, timed from here over one ssh hop (references, single runs). */
  const reference = async (user: string, script: string): Promise<{ ms: number; out: string }> => {
    spawnSync('sync');
    const r = await timed(sshArgv(box, [`cd / && runuser -u ${user} -- bash -c ${q(`set -eo pipefail; ${script}`)}`], { connectTimeoutS: 10 }), work, work);
    if (r.code !== 0) throw new Error(`${script}: exit ${String(r.code)}: ${r.lines.map((l) => l.text).join('\n')}`);
    return { ms: r.ms, out: r.lines.filter((l) => !l.err).map((l) => l.text).join('\n').trim() };
  };

  for (const size of SIZES) {
    const dbBytes = fillBenchDb(box, size);
    // The previous size's backups go (untimed): the drill restores the newest, which is this one.
    onBox(box, `rm -rf ${BACKUPS}/2*`);
    onBox(offsite, `rm -rf ${OFFSITE_BACKUPS}/2*`);
    log(`${size.label}: mono backup (untimed), and its dump decompressed once for the baseline`);
    const b = await timed([process.execPath, MONO, 'backup', '--json'], project, work);
    const done = events(b).find((e) => e['type'] === 'backup.done');
    if (b.code !== 0 || done === undefined || events(b).find((e) => e['type'] === 'backup.offsite')?.['status'] !== 'copied') {
      throw new Error(`mono backup exited ${String(b.code)}:\n${b.lines.map((l) => l.text).slice(-30).join('\n')}`);
    }
    const id = String(done['id']);
    onBox(box, `zstd -q -dc ${BACKUPS}/${id}/dump.zst > ${BASELINE_FILE} && chown postgres: ${BASELINE_FILE} && chmod 644 ${BASELINE_FILE}`);
    const archiveBytes = Number(onBox(box, `stat -c %s ${BASELINE_FILE}`).trim());

    log(`${size.label}: warm-up (1 drill, 1 baseline), then ${RUNS} of each, interleaved`);
    const first = await drill(id);
    await baseline();
    const drills: DrillRun[] = [];
    const base: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      drills.push(await drill(id));
      base.push(await baseline(i === RUNS - 1));
      const d = drills.at(-1)!;
      const p = d.phases;
      log(`  ${size.label} run ${i + 1}/${RUNS}: drill ${s(d.ms)} (fetch ${s(p.fetchMs)}, decompress ${s(p.decryptMs)}, restore ${s(p.restoreMs)}, verify ${s(p.verifyMs)}), baseline ${s(base.at(-1)!)}`);
    }

    log(`${size.label}: single reference runs`);
    const manifest = JSON.parse(onBox(box, `cat ${BACKUPS}/${id}/manifest.json`)) as { rows: Record<string, number>; tableCount: number };
    const rows = Object.values(manifest.rows).reduce((a, n) => a + n, 0);
    // The checks by hand on the baseline's copy (on the live cluster), then the copy goes.
    const counts = Object.keys(manifest.rows).map((t) => `SELECT count(*) FROM ${t}`).join(' UNION ALL ');
    const countRef = await reference('postgres', `psql -qAtX -d ${BASELINE_DB} -c ${q(counts)} > /dev/null`);
    const amcheckRef = await reference('postgres', `${PG_BIN}/pg_amcheck --install-missing --heapallindexed -d ${BASELINE_DB}`);
    onBox(box, asPostgres(`dropdb ${BASELINE_DB}`));
    // A throwaway cluster by hand, as the drill makes it (in /tmp, the drill's settings), with the same pg_restore: where the
    // drill's restore phase goes.
    const byHand = await reference(
      APP,
      [
        `d=$(mktemp -d /tmp/bench-cluster.XXXXXX); trap 'rm -rf "$d"' EXIT; t() { date +%s%3N; }`,
        `a=$(t); ${PG_BIN}/initdb --pgdata "$d/data" --username mono_drill --auth trust --encoding UTF8 --locale C.UTF-8 --no-sync --no-instructions > /dev/null`,
        `${PG_BIN}/pg_ctl -D "$d/data" -s -w -l "$d/log" -o "-p 5432 -k $d -c listen_addresses= -c fsync=off -c full_page_writes=off -c synchronous_commit=off -c max_wal_size=4GB" start`,
        `export PGHOST=$d PGPORT=5432 PGUSER=mono_drill; b=$(t)`,
        `psql -qX -v ON_ERROR_STOP=1 -d postgres -c "CREATE ROLE ${APP}" && createdb --template=template0 ${DB}; c=$(t)`,
        `pg_restore -j${JOBS} --exit-on-error -d ${DB} ${BASELINE_FILE}; e=$(t)`,
        `${PG_BIN}/pg_ctl -D "$d/data" -s -m fast -w stop; f=$(t)`,
        'echo "$((b - a)) $((c - b)) $((e - c)) $((f - e))"',
      ].join('\n'),
    );
    const [initMs, roleMs, restoreMs, stopMs] = byHand.out.split(/\s+/).map(Number);
    const references = [
      `throwaway cluster by hand (as ${APP}, in /tmp, the drill's settings): initdb and start ${s(initMs!)}, role and createdb ${s(roleMs!)}, pg_restore -j${JOBS} ${s(restoreMs!)}, stop ${s(stopMs!)} (${s(byHand.ms)} with ssh and the folder's removal)`,
      `on the baseline's copy (live cluster): exact count(*) of the ${manifest.tableCount} tables ${s(countRef.ms)}; pg_amcheck --install-missing --heapallindexed ${s(amcheckRef.ms)}`,
      `warm-up drill ${s(first.ms)}`,
    ];
    results.push({ size, dbBytes, backupBytes: Number(done['bytes']), archiveBytes, rows, tables: manifest.tableCount, drills, baseline: base, references });
    onBox(box, `rm -f ${BASELINE_FILE}`);
  }
} finally {
  await Promise.all([sandboxDown(boxName), sandboxDown(offsiteName)]);
}

// ---------------------------------------------------------------------------------------------------------------------------
// The report

const verdict = (ok: boolean): string => (ok ? 'PASS' : 'MISS');
const med = (r: SizeResult, f: (d: DrillRun) => number): number => median(r.drills.map(f));
const drillMs = (r: SizeResult): number => med(r, (d) => d.ms);
const lines = [
  '',
  `| size (median of ${RUNS}, interleaved) | database | backup (zstd) / plain archive | mono restore-test --json | pg_restore -j${JOBS} --exit-on-error | ratio | fetch + sha256 | decompress | restore (initdb, start, globals, createdb, pg_restore) | verify (rows, tables, indexes, pg_amcheck) | outside the phases (CLI, ssh, agent, unit, cluster stop, cleanup, history) | CLI peak RSS |`,
  '|---|---|---|---|---|---|---|---|---|---|---|---|',
];
for (const r of results) {
  const base = median(r.baseline);
  lines.push(
    `| ${r.size.label}: pgbench -s ${r.size.scale} + ${r.size.wideRows.toLocaleString('en-US')} wide rows (${r.tables} tables, ${r.rows.toLocaleString('en-US')} rows) | ${mb(r.dbBytes)} | ${mb(r.backupBytes)} / ${mb(r.archiveBytes)} | ${s(drillMs(r))} | ${s(base)} | ${(drillMs(r) / base).toFixed(2)} | ` +
      `${s(med(r, (d) => d.phases.fetchMs))} | ${s(med(r, (d) => d.phases.decryptMs))} | ${s(med(r, (d) => d.phases.restoreMs))} | ${s(med(r, (d) => d.phases.verifyMs))} | ${s(med(r, (d) => d.ms - d.recoveryMs))} | ${kbMb(Math.max(...r.drills.map((d) => d.cliRssKb)))} |`,
  );
}
process.stdout.write(`${lines.join('\n')}\n\n`);
for (const r of results) {
  process.stdout.write(`${r.size.label}: drill runs ${r.drills.map((d) => s(d.ms)).join(', ')} (recovery time as the drill reports it: ${r.drills.map((d) => s(d.recoveryMs)).join(', ')}); baseline runs ${r.baseline.map(s).join(', ')}\n`);
  process.stdout.write(`  references (1 run each, timed from here over one ssh hop): ${r.references.join('; ')}\n`);
}
process.stdout.write(`${settings}\n`);
const large = results.find((r) => r.size.label === 'large') ?? results.at(-1);
if (large !== undefined) {
  const ratio = drillMs(large) / median(large.baseline);
  process.stdout.write(`\nwhole drill against bare pg_restore at ${mb(large.dbBytes)}: ratio ${ratio.toFixed(2)} (target <= ${TARGET_RATIO}) ${verdict(ratio <= TARGET_RATIO)}\n`);
}
if (results.length > 1) {
  const first = results[0]!;
  const last = results.at(-1)!;
  const grow = (f: (r: SizeResult) => number): string => `${s(f(first))} → ${s(f(last))} (×${(f(last) / f(first)).toFixed(2)})`;
  process.stdout.write(
    `growth from ${mb(first.dbBytes)} to ${mb(last.dbBytes)} (×${(last.dbBytes / first.dbBytes).toFixed(1)} the data): drill ${grow(drillMs)}; baseline ${grow((r) => median(r.baseline))}; ` +
      `drill phases: fetch ${grow((r) => med(r, (d) => d.phases.fetchMs))}, decompress ${grow((r) => med(r, (d) => d.phases.decryptMs))}, restore ${grow((r) => med(r, (d) => d.phases.restoreMs))}, verify ${grow((r) => med(r, (d) => d.phases.verifyMs))}, outside the phases ${grow((r) => med(r, (d) => d.ms - d.recoveryMs))}\n`,
  );
}
process.stdout.write(
  `\nReproduce (root): \`npm run build && RUNS=${RUNS}${process.env['SIZES'] === undefined ? '' : ` SIZES=${process.env['SIZES']}`} npx tsx bench/restore.ts\` (${((performance.now() - benchStarted) / 60_000).toFixed(1)} min on this machine)` +
    `${process.env['MONO_BIN'] === undefined ? '' : `; measured with MONO_BIN=${MONO}`}.\n`,
);
