// `mono agent restore-test` (the front, in the operator's SSH session): takes the drill spec on stdin, records it under
// <root>/.mono/drills/, and starts the drill in a transient unit through the privileged helper, passing its output and
// exit status through. `mono agent restore-test-run` is the drill itself, inside that unit, with its alerts and history.
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Context } from '../../cli/context.js';
import { MonoError } from '../../errors.js';
import { RecordingLogger } from '../../log/recording.js';
import { withAlerts } from '../../notify/job.js';
import { notifyPath, readNotifySettings } from '../../notify/settings.js';
import { DRILL_ID, newDrillId, parseDrillSpec, type DrillReport } from '../../restore/spec.js';
import { agentHandler } from '../handler.js';
import { agentPaths, requireRoot } from '../paths.js';
import { isRecord, parseJson, readAll } from '../stdin.js';
import { sudoArgv } from '../../commands/cmd.js';
import { priv } from '../../handover/units.js';
import { AGE_IDENTITY } from '../backup/encryption.js';
import { runDrill } from './drill.js';
import { recordDrill } from './history.js';

const KEEP_SPECS = 20;

function drillsDir(root: string): string {
  return `${agentPaths(root).monoDir}/drills`;
}

export const restoreTestHandler = agentHandler('restore-test', async (_ctx: Context, o: { root?: string }) => {
  const root = requireRoot(o.root);
  const payload = parseJson((await readAll(process.stdin, 256 * 1024, 'the drill request')).trim(), 'the drill request');
  if (!isRecord(payload)) throw new MonoError('USAGE', 'the drill request must be a JSON object');
  // mono cron's restore_test job sends the same spec every week, without an id: each drill gets a new one here.
  const requested = payload['spec'];
  const spec = parseDrillSpec(JSON.stringify(isRecord(requested) && requested['id'] === undefined ? { ...requested, id: newDrillId() } : requested));
  const identity = payload['identity'];
  if (identity !== undefined && !(typeof identity === 'string' && AGE_IDENTITY.test(identity))) throw new MonoError('USAGE', 'the identity must be an age secret key (AGE-SECRET-KEY-1…)');
  if (spec.root !== root) throw new MonoError('USAGE', `the drill is for ${spec.root}, this agent serves ${root}`);
  const dir = drillsDir(root);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(`${dir}/${spec.id}.json`, JSON.stringify(spec) + '\n', { mode: 0o600, flag: 'wx' });
  // The identity waits in the app user's private folder (0600) only until the unit reads it, which removes it at once.
  if (typeof identity === 'string') writeFileSync(identityFile(dir, spec.id), identity, { mode: 0o600, flag: 'wx' });
  for (const old of readdirSync(dir).filter((n) => n.endsWith('.json')).sort().slice(0, -KEEP_SPECS)) rmSync(`${dir}/${old}`, { force: true });
  // The drill runs in its own unit: whatever happens to this session, its cluster and folder go when it ends.
  // A restore, and a drill into a scratch database, need the helper for the live server: their unit may use sudo.
  const live = spec.restore !== undefined || spec.target === 'scratch';
  // Its output and exit status are passed straight through (stdio inherited), so it is spawned here, not run by a transport.
  // Under mono cron's hardened service nothing can gain privileges (no sudo): the drill runs right here instead, as the
  // app user in that service's own private /tmp, which is what its unit would give it.
  const here = cannotGainPrivileges();
  if (here && live) throw new MonoError('USAGE', 'a drill into a scratch database (restore.target: scratch) needs the privileged helper, which mono cron\'s hardened service cannot call', { hint: 'use restore.target: cluster (the default) for scheduled drills, or run mono restore-test from your machine' });
  const [file, ...args] = here ? [process.execPath, process.argv[1] ?? '', 'agent', 'restore-test-run', '--root', root, '--id', spec.id] : sudoArgv(priv(spec.helper, live ? 'restore' : 'drill', spec.id).argv);
  const child = spawn(file!, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  try {
    return await new Promise<number>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code) => resolve(code ?? 1));
    });
  } finally {
    rmSync(identityFile(dir, spec.id), { force: true });
  }
});

/** The no_new_privs flag of this process (systemd's NoNewPrivileges=): sudo cannot work under it. */
function cannotGainPrivileges(): boolean {
  try {
    return /^NoNewPrivs:\s*1$/m.test(readFileSync('/proc/self/status', 'utf8'));
  } catch {
    return false;
  }
}

function identityFile(dir: string, id: string): string {
  return `${dir}/${id}.identity`;
}

/** Takes the run's identity, if one was given, and removes its file before anything else happens. */
function takeIdentity(root: string, id: string): string | undefined {
  const file = identityFile(drillsDir(root), id);
  try {
    const text = readFileSync(file, 'utf8');
    rmSync(file, { force: true });
    return text;
  } catch {
    return undefined;
  }
}

function failure(report: DrillReport): MonoError {
  const e = report.error!;
  const what = report.mode === 'drill' ? `restore drill of ${report.db}/${report.backup}` : `restore of ${report.db}/${report.backup} into ${report.to ?? '?'}`;
  const code = e.code === 'CHECK_FAILED' || e.code === 'DISK_FULL' || e.code === 'USAGE' || e.code === 'PREREQ_MISSING' ? e.code : 'REMOTE_FAILED';
  return new MonoError(code, `${what} failed: ${e.message}`, { ...(e.hint === undefined ? {} : { hint: e.hint }) });
}

export const restoreTestRunHandler = agentHandler('restore-test-run', async (ctx: Context, o: { root?: string; id?: string }) => {
  const root = requireRoot(o.root);
  if (o.id === undefined || !DRILL_ID.test(o.id)) throw new MonoError('USAGE', '--id must be a drill id');
  const spec = parseDrillSpec(readFileSync(`${drillsDir(root)}/${o.id}.json`, 'utf8'));
  const identity = takeIdentity(root, o.id);
  const settings = readNotifySettings(notifyPath(agentPaths(root).monoDir), (m) => ctx.log.warn(m));
  const log = new RecordingLogger(ctx.log);
  const drill = async (): Promise<DrillReport> => {
    const report = await runDrill(spec, { info: (m) => log.info(m), warn: (m) => log.warn(m) }, identity);
    recordDrill(spec.dir, report);
    // The report is the reply, passed or not; a failed drill then fails the run (exit status, alerts).
    ctx.log.data(JSON.stringify(report));
    if (!report.ok) throw failure(report);
    if (report.dataAgeMs > report.maxDataLossMs) log.warn(`the restored data was ${Math.round(report.dataAgeMs / 60_000)} min old, more than backups.max_data_loss allows (${Math.round(report.maxDataLossMs / 60_000)} min)`);
    return report;
  };
  // Alerts are for the scheduled drill; a restore is run by a person who watches it.
  if (settings === undefined || spec.restore !== undefined) {
    await drill();
    return;
  }
  await withAlerts({
    settings,
    job: 'restore_test',
    run: drill,
    judge: (r) => (log.warnings().length > 0 ? { status: 'warning', message: `restore drill of ${r.db}/${r.backup} passed with warnings: ${log.warnings().join('; ')}` } : { status: 'ok', message: `restore drill of ${r.db}/${r.backup} passed in ${(r.recoveryMs / 1000).toFixed(1)} s` }),
    lines: () => log.lines(),
    warn: (m) => ctx.log.warn(m),
    onInterrupt: (fn) => ctx.onCleanup(fn),
  });
});
