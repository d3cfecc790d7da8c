// `mono deploy`: package, send what the box lacks, build and verify the release there, then activate it.
import { CommandFailedError, MonoError } from '../../errors.js';
import type { Context } from '../../cli/context.js';
import { faultCorruptBlobs } from '../../release/pack.js';
import { formatBytes, Progress } from '../../release/progress.js';
import type { BuildRequest, BuildResult } from '../../release/protocol.js';
import type { RemoteProcess, SshTransport } from '../../transport/ssh.js';
import { connect } from '../connect.js';
import { layoutOf } from '../setup/layout.js';
import { runBuild } from './build.js';
import { readEnvSource, uploadEnv } from './env.js';
import { acquireLock, AgentSession, holdingLock } from './lock.js';
import { prepareRelease, type PreparedRelease } from './prepare.js';
import { priv } from '../../handover/units.js';
import { closeReceiver, startReceiver, uploadRound, type UploadBlob } from './upload.js';
import { auditVia } from './audit-entry.js';
import { cronSpec } from '../cron/plan.js';
import { describeAfter, handoverWatchMs } from '../handover/watch.js';
import { followHandover, startHandover } from '../handover/follow.js';
import { handoverSpecFor } from '../handover/spec-for.js';

export interface DeployOptions {
  readonly waitLock?: boolean;
  readonly message?: string;
  readonly from?: string;
  /** Wait until the old instances have finished their work and exited. */
  readonly wait?: boolean;
}

const MAX_ROUNDS = 3;

/** Sends every blob the box lacks; blobs the box rejects (wrong sha256) are sent again, up to MAX_ROUNDS times. */
async function sendMissing(ctx: Context, t: SshTransport, root: string, release: PreparedRelease, missing: readonly string[], compress: boolean, receiver?: Promise<RemoteProcess>): Promise<{ wireBytes: number; blobs: number; resent: number }> {
  let pending: UploadBlob[] = missing.map((sha) => release.blobs.get(sha)).filter((b): b is UploadBlob => b !== undefined);
  const blobs = pending.length;
  let wireBytes = 0;
  let resent = 0;
  const corrupt = faultCorruptBlobs();
  let early = receiver;
  for (let round = 1; pending.length > 0; round++) {
    if (round > MAX_ROUNDS) {
      throw new MonoError('REMOTE_FAILED', `${pending.length} blobs failed verification on the box ${MAX_ROUNDS} times`, { hint: 'the connection or the box corrupts data: check the disk and memory of the box; nothing was switched' });
    }
    const total = pending.reduce((n, b) => n + b.size, 0);
    const progress = new Progress(ctx.log, round === 1 ? 'uploading' : 'sending again', { bytes: total, files: pending.length });
    const r = await uploadRound(t, root, pending, { gzip: compress, onContentBytes: (n) => progress.add(n), ...(round === 1 && corrupt !== undefined ? { corrupt } : {}), ...(early === undefined ? {} : { receiver: early }) });
    early = undefined;
    progress.done();
    wireBytes += r.wireBytes;
    if (r.result.rejected.length > 0) {
      ctx.log.warn(`${r.result.rejected.length} blob${r.result.rejected.length === 1 ? '' : 's'} failed verification on the box and will be sent again`);
      ctx.log.event('upload.rejected', { blobs: r.result.rejected });
      resent += r.result.rejected.length;
    }
    const rejected = new Set(r.result.rejected);
    pending = pending.filter((b) => rejected.has(b.sha256));
  }
  // The receiver started early, in case something was missing: nothing was, so it only gets the end of an empty stream.
  if (early !== undefined) await closeReceiver(await early, compress);
  return { wireBytes, blobs, resent };
}

export async function deployCommand(ctx: Context, options: DeployOptions): Promise<number> {
  const started = performance.now();
  const config = await ctx.config();
  const L = layoutOf(config);
  const c = ctx.log.colors;

  if (config.release.build !== undefined && options.from === undefined) {
    if (ctx.options.dryRun) ctx.log.info(`dry run: would run the build command: ${config.release.build}`);
    else await runBuild(config.release.build, config.dir, ctx.log);
  }
  // Connecting, and starting the agent on the box, overlap with scanning and hashing here.
  const connecting = ctx.options.dryRun ? undefined : early(connect(ctx, config, 'deploy'));
  const starting = connecting === undefined ? undefined : early(connecting.then((t) => AgentSession.start(t, L.root, (m) => ctx.log.warn(m))));
  const release = await prepareRelease(config, ctx, options);
  const step = (name: string): void => ctx.log.event('deploy.step', { step: name, ms: Math.round(performance.now() - started) });
  step('prepared');
  // Under --dry-run the secrets command is not run either: it may prompt, or cost something.
  const env = ctx.options.dryRun ? undefined : await readEnvSource(config);
  ctx.log.info(`release ${c.bold(release.id)}: ${release.stats.files} files, ${formatBytes(release.stats.bytes)}${release.meta.git === undefined ? '' : `, git ${release.meta.git.commit.slice(0, 10)}${release.meta.git.dirty ? ' (dirty)' : ''}`}`);
  if (ctx.options.dryRun) {
    ctx.log.info('dry run: nothing was sent');
    ctx.log.event('deploy.plan', { id: release.id, ...release.stats });
    return 0;
  }

  const t = await connecting!;
  const lock = await acquireLock(t, L.root, { operation: 'deploy', release: release.id, ...(options.message === undefined ? {} : { message: options.message }) }, { wait: options.waitLock === true, log: ctx.log, session: starting! });
  let built!: BuildResult;
  let sent!: { wireBytes: number; blobs: number; resent: number };
  const handover = await holdingLock(ctx, lock, async () => {
    // The receiver's Node start-up overlaps with the question of which blobs are missing.
    const receiver = early(startReceiver(t, L.root, config.release.compress));
    step('locked');
    const request: BuildRequest = { id: release.id, manifest: release.manifest, meta: release.meta, processes: config.processes, shared: config.shared };
    const planned = await lock.call<{ missing: string[] }>({ op: 'plan', request });
    sent = await sendMissing(ctx, t, L.root, release, planned.missing, config.release.compress, receiver);
    step('sent');
    built = await lock.call<BuildResult>({ op: 'build' });
    if (built.missing.length > 0) {
      // Removed between the check and the build (by hand: prune waits for the lock): send those and build again, once.
      await sendMissing(ctx, t, L.root, release, built.missing, config.release.compress);
      built = await lock.call<BuildResult>({ op: 'build' });
      if (built.missing.length > 0) throw new MonoError('REMOTE_FAILED', `the box still lacks ${built.missing.length} blobs of the release`, { hint: 'deploy again' });
    }
    step('built');
    ctx.log.info(`  built and verified releases/${release.id} (sent ${formatBytes(sent.wireBytes)} in ${sent.blobs} new blob${sent.blobs === 1 ? '' : 's'}${sent.resent > 0 ? `, ${sent.resent} sent again after failing verification` : ''})`);
    await auditVia(lock, { action: 'release', release: release.id, files: built.files, bytes: built.bytes, sentBytes: sent.wireBytes, git: release.meta.git?.commit, message: options.message });

    if (env !== undefined && (await uploadEnv(t, L.envFile, env))) {
      ctx.log.info('  env file updated (shared/.env, 0600)');
      await auditVia(lock, { action: 'env', release: release.id });
    }
    if (config.processes['release'] !== undefined) {
      ctx.log.info('  running the release command');
      try {
        const out = await t.run(priv(L.privHelper, 'run-release', release.id), { timeoutMs: 60 * 60_000 });
        for (const line of out.stdout.split('\n').filter(Boolean).slice(-10)) ctx.log.info(c.dim(`    ${line}`));
      } catch (error) {
        // Only a command that ran and failed is the release command's fault; a timeout or a dropped connection stays what it is.
        if (!(error instanceof CommandFailedError)) throw error;
        throw new MonoError('REMOTE_FAILED', `the release command failed; nothing was switched, the previous release still serves`, {
          hint: 'fix it (its output is above) and deploy again',
          details: `${error.stdout}\n${error.stderr}`.split('\n').filter((l) => l.trim() !== '').slice(-15),
          cause: error,
        });
      }
    }
    // mono.yml's schedules go with each deploy: the box's scheduler reloads cron.json by itself, leaving running jobs alone.
    const schedule = await lock.call<{ changed: boolean }>({ op: 'cron', spec: cronSpec(config) });
    if (schedule.changed) ctx.log.info(`  mono cron schedule updated (${config.jobs.map((j) => `${j.name} "${j.cron}"`).join(', ') || 'no jobs'})`);
    return startHandover(ctx, lock, handoverSpecFor(config, { kind: 'deploy', release: release.id, keep: config.release.keep, ...(options.message === undefined ? {} : { message: options.message }) }));
  });
  // The runner holds the lock now; this only watches. With --wait, until the old release has drained.
  const state = await followHandover(ctx, t, { root: L.root, app: config.app }, handover.id, options.wait === true ? 'done' : 'switched', handoverWatchMs(config, options.wait === true));
  step('activated');
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  ctx.log.event('deploy.done', { id: release.id, files: built.files, bytes: built.bytes, sentBytes: sent.wireBytes, sentBlobs: sent.blobs, resent: sent.resent, seconds: Number(seconds), switchMs: state?.switchMs });
  ctx.log.info(c.green(`deployed ${release.id} in ${seconds} s`) + describeAfter(state));
  return 0;
}

/** A promise started ahead of its use: a rejection is kept for whoever awaits it, not reported as unhandled meanwhile. */
function early<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

