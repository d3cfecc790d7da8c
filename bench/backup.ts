// Benchmark: `mono backup` of a PostgreSQL 15 database on a sandbox box, with its offsite copy on a second (offsite) box,
// beside a bare `pg_dump -Fc | ssh offsite 'cat > file'`, in one run, at two database sizes (medians of RUNS, interleaved):
//   - mono: the whole `mono backup --json` run from this machine: connect, agent start, row counts in the dump's snapshot,
//     pg_dump -Z0 | zstd -3 -T2 to a 0600 file (fsynced), pg_dumpall --globals-only, the checks (sha256 read-back, a full read
//     with pg_restore, the table count), the manifest, the offsite copy (receiver: temporary name, sha256, sync, link), its
//     verification there, and the re-verification of the newest earlier offsite copies (mono re-hashes up to 3 every run);
//   - baseline: `pg_dump -Fc benchdb | ssh offsite 'cat > /srv/baseline/benchdb.dump'` run on the box as the app user with a
//     plain (unrestricted) key, started from this machine over one ssh hop as mono is (ssh root@box runuser -u bench -- bash
//     -c '…'). No local copy, no checks, no fsync, gzip (pg_dump's default) instead of zstd.
// Before every timed run (untimed): `sync`; for mono, the backups of earlier runs are trimmed to the newest KEEP (3) on the box
// and on the offsite box, so every run sees the same state (a box with a few days of backups: 3 earlier copies to re-verify),
// the retention policy in mono.yml never prunes inside a run and the free-space check (2× the last backup) never trips; for
// the baseline, its file is removed. Peak memory: backup.done's agentMaxRssKb (the agent on the box, which the dump streams
// through) and the CLI's own peak RSS (GNU time, %M).
// Run as root: `npm run build && npx tsx bench/backup.ts` (RUNS=3; SIZES=small,large; about 15 minutes).
// MONO_BIN=/path/to/dist/cli/mono.mjs measures another build (`mono setup` installs that build's agent on the box).
import { spawnSync } from 'node:child_process';
import { sandboxDown, sandboxUp, sshArgv } from '../src/sandbox/index.js';
import { BENCH_APP as APP, BENCH_DB as DB, MONO, benchExtraBox, type DbSize, benchWorkspace, dbSizes, events, fillBenchDb, kbMb, log, mb, median, onBox, q, secs as s, setupBenchProject, timed } from './lib.js';

const RUNS = Number(process.env['RUNS'] ?? 3);
/** Earlier backups left in place before each mono run (offsiteRound re-hashes the newest 3 offsite copies every run). */
const KEEP = 3;
const BACKUPS = `/var/backups/${APP}/${DB}`;
const OFFSITE_BACKUPS = `/srv/backups/${APP}/${DB}`;
const BASELINE_FILE = '/srv/baseline/benchdb.dump';
const BASELINE_KEY = '/var/tmp/bench-baseline/id_ed25519';
/** SIZES=small,large (default); SIZES=small,large,xl adds a third point for the memory curve (about 1.2 GB, 4 more minutes). */
const SIZES = dbSizes();

const { boxName, work } = benchWorkspace('backup');
const offsiteName = benchExtraBox('backup-offsite');

// ---------------------------------------------------------------------------------------------------------------------------
// Helpers

interface MonoRun {
  readonly ms: number;
  readonly cliRssKb: number;
  readonly agentRssKb: number;
  readonly bytes: number;
  /** The agent's own duration of the backup: lock, row counts, dump, globals, checks (the manifest's durationMs). */
  readonly agentMs: number;
}

async function monoBackup(project: string): Promise<MonoRun> {
  const r = await timed([process.execPath, MONO, 'backup', '--json'], project, work);
  const done = events(r).find((e) => e['type'] === 'backup.done');
  const offsite = events(r).find((e) => e['type'] === 'backup.offsite');
  if (r.code !== 0 || done === undefined || offsite?.['status'] !== 'copied') {
    throw new Error(`mono backup exited ${String(r.code)}:\n${r.lines.map((l) => l.text).slice(-30).join('\n')}`);
  }
  return { ms: r.ms, cliRssKb: r.maxRssKb, agentRssKb: Number(done['agentMaxRssKb']), bytes: Number(done['bytes']), agentMs: Number(done['ms']) };
}

/** One human-mode run (`mono backup --verbose`), for where the time goes: the agent's progress lines as they arrive. */
async function monoPhases(project: string): Promise<string> {
  const r = await timed([process.execPath, MONO, 'backup', '--verbose'], project, work);
  if (r.code !== 0) throw new Error(`mono backup exited ${String(r.code)}:\n${r.lines.map((l) => l.text).slice(-30).join('\n')}`);
  const at = (re: RegExp): number => r.lines.find((l) => re.test(l.text))?.t ?? NaN;
  const marks: [string, number][] = [
    ['start-up and connect', at(/^backing up /)],
    ['agent start, lock, row counts', at(/^ {2}dumping /)],
    ['pg_dump | zstd and globals', at(/^ {2}checking/)],
    ['checks (sha256, full read, table count)', at(/^ {2}copying /)],
    [`offsite copy, its check, re-hash of ${KEEP} earlier copies, reply`, at(/^backed up /)],
    ['exit', r.ms],
  ];
  let previous = 0;
  const parts = marks.map(([name, t]) => {
    const part = `${name} ${s(t - previous)}`;
    previous = t;
    return part;
  });
  return `${parts.join(', ')} (total ${s(r.ms)})`;
}

// ---------------------------------------------------------------------------------------------------------------------------
// The run

const benchStarted = performance.now();
log(`booting sandbox boxes ${boxName} (app) and ${offsiteName} (offsite)…`);
const [box, offsite] = await Promise.all([sandboxUp({ name: boxName, kind: 'app' }), sandboxUp({ name: offsiteName, kind: 'offsite' })]);

interface SizeResult {
  readonly size: DbSize;
  readonly dbBytes: number;
  readonly mono: MonoRun[];
  readonly baseline: number[];
  readonly baselineBytes: number;
  readonly phases: string;
  readonly references: string[];
}

const results: SizeResult[] = [];
try {
  const project = setupBenchProject(work, box, offsite);

  // The baseline's plain key: the app user's own, allowed for root on the offsite box without any restriction.
  const dir = BASELINE_KEY.slice(0, BASELINE_KEY.lastIndexOf('/'));
  const pub = onBox(box, `install -d -o ${APP} -g ${APP} -m 700 ${dir} && runuser -u ${APP} -- ssh-keygen -q -t ed25519 -N '' -C bench-baseline -f ${BASELINE_KEY} && cat ${BASELINE_KEY}.pub`);
  onBox(offsite, `mkdir -p ${BASELINE_FILE.slice(0, BASELINE_FILE.lastIndexOf('/'))} && cat >> /root/.ssh/authorized_keys`, pub);
  const offsiteSsh = `ssh -i ${BASELINE_KEY} -o IdentitiesOnly=yes -o UserKnownHostsFile=/srv/${APP}/.ssh/known_hosts_offsite -o StrictHostKeyChecking=yes -o BatchMode=yes -p ${offsite.sshPort} root@127.0.0.1`;
  const asApp = (script: string): string => `cd / && runuser -u ${APP} -- bash -c ${q(`set -o pipefail; ${script}`)}`;
  onBox(box, asApp(`${offsiteSsh} true`));
  const baselineArgv = sshArgv(box, [asApp(`pg_dump -Fc ${DB} | ${offsiteSsh} ${q(`cat > ${BASELINE_FILE}`)}`)], { connectTimeoutS: 10 });

  /** Back to the newest KEEP backups, on the box and offsite, and nothing unsynced (untimed). */
  const trim = (keep: number): void => {
    const ids = onBox(box, `ls ${BACKUPS} 2>/dev/null | grep -E '^[0-9]{8}T[0-9]{6}Z$' | sort || true`).split('\n').filter(Boolean);
    const old = keep === 0 ? ids : ids.slice(0, -keep);
    if (old.length > 0) {
      onBox(box, `cd ${BACKUPS} && rm -rf ${old.join(' ')}`);
      onBox(offsite, `cd ${OFFSITE_BACKUPS} 2>/dev/null && rm -rf ${old.join(' ')}; true`);
    }
    spawnSync('sync');
  };
  const baselineRun = async (): Promise<number> => {
    onBox(offsite, `rm -f ${BASELINE_FILE}`);
    spawnSync('sync');
    const r = await timed(baselineArgv, work, work);
    if (r.code !== 0) throw new Error(`baseline exited ${String(r.code)}: ${r.lines.map((l) => l.text).join('\n')}`);
    return r.ms;
  };
  const monoRun = async (): Promise<MonoRun> => {
    trim(KEEP);
    return monoBackup(project);
  };
  /** One run of a shell script as the app user on the box, timed from here (one ssh hop), for the references. */
  const reference = async (script: string): Promise<number> => {
    spawnSync('sync');
    const r = await timed(sshArgv(box, [asApp(script)], { connectTimeoutS: 10 }), work, work);
    if (r.code !== 0) throw new Error(`${script}: exit ${String(r.code)}: ${r.lines.map((l) => l.text).join('\n')}`);
    return r.ms;
  };

  for (const size of SIZES) {
    const dbBytes = fillBenchDb(box, size);
    trim(0);
    onBox(offsite, `rm -f ${BASELINE_FILE}`);

    log(`${size.label}: warm-up (${KEEP} mono runs, so that ${KEEP} earlier backups exist as on a box in use, and 1 baseline run)`);
    for (let i = 0; i < KEEP; i++) await monoBackup(project);
    await baselineRun();
    const mono: MonoRun[] = [];
    const baseline: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      mono.push(await monoRun());
      baseline.push(await baselineRun());
      const m = mono.at(-1)!;
      log(`  ${size.label} run ${i + 1}/${RUNS}: mono ${s(m.ms)} (agent RSS ${kbMb(m.agentRssKb)}, CLI RSS ${kbMb(m.cliRssKb)}), baseline ${s(baseline.at(-1)!)}`);
    }
    const baselineBytes = Number(onBox(offsite, `stat -c %s ${BASELINE_FILE}`).trim());

    log(`${size.label}: one human-mode run for the phases, and single reference runs`);
    trim(KEEP);
    const logins = (): number => Number(onBox(offsite, 'journalctl --no-pager _COMM=sshd | grep -c "Accepted publickey" || true').trim());
    const loginsBefore = logins();
    // Less one: the second count's own login.
    const phases = `${await monoPhases(project)}; ${logins() - loginsBefore - 1} ssh logins to the offsite box`;
    const newest = onBox(box, `ls ${BACKUPS} | grep -E '^[0-9]{8}T[0-9]{6}Z$' | sort | tail -n 1`).trim();
    const dumpFile = `${BACKUPS}/${newest}/dump.zst`;
    const references = [
      `pg_dump -Fc > /dev/null ${s(await reference(`pg_dump -Fc ${DB} > /dev/null`))}`,
      `pg_dump -Fc -Z0 | zstd -3 -T2 > /dev/null ${s(await reference(`pg_dump -Fc -Z0 ${DB} | zstd -q -3 -T2 > /dev/null`))}`,
      `cat dump.zst | ssh offsite 'cat > /dev/null' ${s(await reference(`cat ${dumpFile} | ${offsiteSsh} 'cat > /dev/null'`))}`,
      `ssh offsite sha256sum (one copy) ${s(await reference(`${offsiteSsh} sha256sum ${OFFSITE_BACKUPS}/${newest}/dump.zst`))}`,
      `one ssh login box → offsite (\`ssh offsite true\`, mean of 5 timed on the box) ${onBox(box, asApp(`s=$(date +%s%N); for i in 1 2 3 4 5; do ${offsiteSsh} true; done; echo $(( ($(date +%s%N) - s) / 5000000 ))`)).trim()} ms`,
    ];
    results.push({ size, dbBytes, mono, baseline, baselineBytes, phases, references });
    trim(0);
  }
} finally {
  await Promise.all([sandboxDown(boxName), sandboxDown(offsiteName)]);
}

// ---------------------------------------------------------------------------------------------------------------------------
// The report

const verdict = (ok: boolean): string => (ok ? 'PASS' : 'MISS');
const lines = [
  '',
  `| size (median of ${RUNS}, interleaved) | database | mono backup --json | pg_dump -Fc \\| ssh offsite cat | ratio | agent peak RSS (box) | CLI peak RSS | backup: mono (zstd -3) | baseline (-Fc gzip) |`,
  '|---|---|---|---|---|---|---|---|---|',
];
for (const r of results) {
  const monoMs = median(r.mono.map((m) => m.ms));
  const baseMs = median(r.baseline);
  const agentRss = Math.max(...r.mono.map((m) => m.agentRssKb));
  const cliRss = Math.max(...r.mono.map((m) => m.cliRssKb));
  lines.push(
    `| ${r.size.label}: pgbench -s ${r.size.scale} + ${r.size.wideRows.toLocaleString('en-US')} wide rows | ${mb(r.dbBytes)} | ${s(monoMs)} | ${s(baseMs)} | ${(monoMs / baseMs).toFixed(2)} | ${kbMb(agentRss)} | ${kbMb(cliRss)} | ${mb(median(r.mono.map((m) => m.bytes)))} | ${mb(r.baselineBytes)} |`,
  );
}
process.stdout.write(`${lines.join('\n')}\n\n`);
for (const r of results) {
  process.stdout.write(`${r.size.label}: mono runs ${r.mono.map((m) => s(m.ms)).join(', ')}; baseline runs ${r.baseline.map(s).join(', ')}\n`);
  process.stdout.write(`  the agent's own part (lock, counts, dump, globals, checks; manifest durationMs): median ${s(median(r.mono.map((m) => m.agentMs)))}\n`);
  process.stdout.write(`  phases of one human-mode run: ${r.phases}\n`);
  process.stdout.write(`  references (1 run each, on the box as ${APP}, timed from here over one ssh hop): ${r.references.join('; ')}\n`);
}
const large = results.find((r) => r.size.label === 'large') ?? results.at(-1);
if (large !== undefined) {
  const ratio = median(large.mono.map((m) => m.ms)) / median(large.baseline);
  process.stdout.write(`\nwall clock at ${mb(large.dbBytes)}: ratio ${ratio.toFixed(2)} (target <= 1.15) ${verdict(ratio <= 1.15)}\n`);
  const peak = Math.max(...results.flatMap((r) => r.mono.flatMap((m) => [m.agentRssKb, m.cliRssKb])));
  process.stdout.write(`peak memory (agent and CLI, every run, every size): ${kbMb(peak)} (target < 150 MB) ${verdict(peak < 150 * 1024)}\n`);
}
if (results.length > 1) {
  const agentRss = (r: SizeResult): number => Math.max(...r.mono.map((m) => m.agentRssKb));
  const first = results[0]!;
  const last = results.at(-1)!;
  const growth = agentRss(last) / agentRss(first);
  process.stdout.write(
    `agent peak RSS by size: ${results.map((r) => `${mb(r.dbBytes)} ${kbMb(agentRss(r))}`).join(' → ')}: ×${growth.toFixed(2)} for ×${(last.dbBytes / first.dbBytes).toFixed(1)} the data (target: not growing, <= ×1.25) ${verdict(growth <= 1.25)}\n`,
  );
}
process.stdout.write(
  `\nReproduce (root): \`npm run build && RUNS=${RUNS}${process.env['SIZES'] === undefined ? '' : ` SIZES=${process.env['SIZES']}`} npx tsx bench/backup.ts\` (${((performance.now() - benchStarted) / 60_000).toFixed(1)} min on this machine)` +
    `${process.env['MONO_BIN'] === undefined ? '' : `; measured with MONO_BIN=${MONO}`}.\n`,
);
