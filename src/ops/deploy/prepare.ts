// Turns the build folder (or a tarball) into a release: scan, hash (with the local cache), manifest, id and metadata.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import type { Context } from '../../cli/context.js';
import type { Config } from '../../config/types.js';
import { MonoError } from '../../errors.js';
import { gitInfo } from '../../release/git.js';
import { HashCache } from '../../release/hash-cache.js';
import { hashFiles } from '../../release/hash.js';
import { buildManifest, manifestBlobs, manifestSha256, releaseId, releaseStats, type ReleaseStats } from '../../release/manifest.js';
import { Progress } from '../../release/progress.js';
import type { Manifest, ReleaseMeta } from '../../release/protocol.js';
import { scanRelease } from '../../release/scan.js';
import { operator } from '../audit.js';
import type { UploadBlob } from './upload.js';

export interface PreparedRelease {
  readonly id: string;
  readonly manifest: Manifest;
  readonly meta: ReleaseMeta;
  readonly stats: ReleaseStats;
  /** One blob per distinct content, by sha256. */
  readonly blobs: ReadonlyMap<string, UploadBlob>;
}

const TARBALL = /\.(tar|tar\.gz|tgz)$/;

/** A tarball is unpacked into a private temporary folder, removed when the command ends. */
async function sourceFolder(ctx: Context, from: string): Promise<{ dir: string; tarball: boolean }> {
  const path = resolve(from);
  if (!TARBALL.test(path)) return { dir: path, tarball: false };
  try {
    statSync(path);
  } catch {
    throw new MonoError('USAGE', `the release tarball ${path} does not exist`, { hint: 'check the path given to --from' });
  }
  const dir = mkdtempSync(join(tmpdir(), 'mono-release-'));
  ctx.onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  const r = await execa('tar', ['-x', '-f', path, '-C', dir, '--no-same-owner'], { reject: false });
  if (r.exitCode !== 0) throw new MonoError('USAGE', `cannot unpack ${path}: ${String(r.stderr).split('\n')[0] ?? ''}`, { hint: 'give a .tar, .tar.gz or .tgz made with tar' });
  return { dir, tarball: true };
}

export async function prepareRelease(config: Config, ctx: Context, options: { from?: string; message?: string }): Promise<PreparedRelease> {
  const { dir, tarball } = options.from === undefined ? { dir: config.release.source, tarball: false } : await sourceFolder(ctx, options.from);
  const scanned = await scanRelease(dir, config.release.ignoreFile === undefined || tarball ? {} : { ignoreFile: config.release.ignoreFile });
  const cache = tarball ? undefined : await HashCache.load(dir);
  const total = scanned.files.reduce((n, f) => n + f.size, 0);
  const progress = new Progress(ctx.log, 'hashing', { bytes: total, files: scanned.files.length });
  const hashes = await hashFiles(scanned.files, cache, 8, (bytes, files) => progress.add(bytes, files));
  progress.done();
  await cache?.save();
  const manifest = buildManifest(scanned, hashes);
  const sha = manifestSha256(manifest);
  // One clock reading: the id's timestamp and createdAt must agree.
  const now = new Date();
  const id = releaseId(sha, now);
  const stats = releaseStats(manifest);
  const git = tarball ? undefined : await gitInfo(config.dir);
  const meta: ReleaseMeta = {
    id,
    createdAt: now.toISOString(),
    by: operator(),
    source: options.from ?? config.release.source,
    ...(git === undefined ? {} : { git }),
    manifestSha256: sha,
    files: stats.files,
    bytes: stats.bytes,
    ...(options.message === undefined ? {} : { message: options.message }),
  };
  const blobs = new Map(manifestBlobs(manifest, dir).map((b) => [b.sha256, b] as const));
  return { id, manifest, meta, stats, blobs };
}
