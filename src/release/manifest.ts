// The release manifest: built from a scan and its hashes, its canonical sha256, the release id and the upload's size.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { MonoError } from '../errors.js';
import type { Manifest, ManifestFile } from './protocol.js';
import { RELEASE_ID } from './protocol.js';
import type { ScannedRelease } from './scan.js';

export function buildManifest(scanned: Pick<ScannedRelease, 'dirs' | 'files' | 'links'>, hashes: ReadonlyMap<string, string>): Manifest {
  const files: ManifestFile[] = scanned.files.map((file) => {
    const sha256 = hashes.get(file.path);
    if (sha256 === undefined) throw new MonoError('INTERNAL', `no hash for ${file.path}`);
    return { path: file.path, size: file.size, executable: file.executable, sha256 };
  });
  return {
    version: 1,
    dirs: [...scanned.dirs],
    files,
    links: scanned.links.map((link) => ({ path: link.path, target: link.target })),
  };
}

/**
 * JSON with the keys of every object sorted and no whitespace: the same value always gives the same text, whatever order its
 * keys were written in. (Keys are sorted by UTF-16 code units; as in any JS object, integer-like keys would come first: the
 * protocol has none.) The box computes it with this same function.
 */
export function canonicalJson(value: unknown): string {
  const text = JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const object = v as Record<string, unknown>;
    // fromEntries defines own properties, so even a key named __proto__ stays data.
    return Object.fromEntries(Object.keys(object).sort().map((k) => [k, object[k]]));
  }) as string | undefined;
  if (text === undefined) throw new MonoError('INTERNAL', `cannot serialise a ${typeof value} as JSON`);
  return text;
}

export function manifestSha256(manifest: Manifest): string {
  return createHash('sha256').update(canonicalJson(manifest)).digest('hex');
}

/** UTC timestamp plus the first 8 hex digits of the manifest's sha256: 20261130T232000Z-1a2b3c4d. */
export function releaseId(manifestSha: string, now: Date): string {
  if (!/^[0-9a-f]{64}$/.test(manifestSha)) throw new MonoError('INTERNAL', `not a sha256: ${manifestSha}`);
  const stamp = now.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');
  const id = `${stamp}-${manifestSha.slice(0, 8)}`;
  if (!RELEASE_ID.test(id)) throw new MonoError('INTERNAL', `release id ${id} out of range (clock at ${now.toISOString()}?)`);
  return id;
}

export interface ReleaseStats {
  readonly files: number;
  readonly bytes: number;
  /** Distinct contents (a file and an executable copy of it share one blob). */
  readonly uniqueBlobs: number;
  readonly uniqueBytes: number;
}

export function releaseStats(manifest: Manifest): ReleaseStats {
  let bytes = 0;
  let uniqueBytes = 0;
  const seen = new Set<string>();
  for (const file of manifest.files) {
    bytes += file.size;
    if (!seen.has(file.sha256)) {
      seen.add(file.sha256);
      uniqueBytes += file.size;
    }
  }
  return { files: manifest.files.length, bytes, uniqueBlobs: seen.size, uniqueBytes };
}

export interface Blob {
  readonly sha256: string;
  readonly size: number;
  readonly absolutePath: string;
}

/** One blob per distinct content, read from the first file that has it; `only` keeps those the box asked for. */
export function manifestBlobs(manifest: Manifest, sourceDir: string, only?: ReadonlySet<string>): Blob[] {
  const blobs = new Map<string, Blob>();
  for (const file of manifest.files) {
    if (blobs.has(file.sha256) || (only !== undefined && !only.has(file.sha256))) continue;
    blobs.set(file.sha256, { sha256: file.sha256, size: file.size, absolutePath: join(sourceDir, file.path) });
  }
  return [...blobs.values()];
}
