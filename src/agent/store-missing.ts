// `mono agent store-missing`: which of the listed blobs the store lacks (a blob of the wrong size counts as missing and is deleted).
import type { Context } from '../cli/context.js';
import { MonoError } from '../errors.js';
import { blobPath } from '../release/protocol.js';
import { statSync } from 'node:fs';
import type { BlobSource } from './blob-source.js';
import { agentHandler } from './handler.js';
import { agentPaths, requireRoot } from './paths.js';
import { lines } from './stdin.js';
import { unlinkIfPresent } from './store.js';
import { SHA256 } from './validate.js';

export interface MissingReply {
  readonly missing: readonly string[];
}

/** Reads `<sha256> <size>` lines; returns the hashes not stored whole, in input order, each once. */
export async function storeMissing(store: string, input: AsyncIterable<Buffer | string>): Promise<MissingReply> {
  const missing: string[] = [];
  const seen = new Set<string>();
  let n = 0;
  for await (const line of lines(input, 1024)) {
    n++;
    if (line.trim() === '') continue;
    const m = /^([0-9a-f]{64}) (\d{1,16})$/.exec(line.trim());
    const size = m === null ? NaN : Number(m[2]);
    if (m === null || !SHA256.test(m[1]!) || !Number.isSafeInteger(size)) {
      throw new MonoError('USAGE', `store-missing: line ${n} is not "<sha256> <size>": ${JSON.stringify(line.slice(0, 100))}`);
    }
    const sha256 = m[1]!;
    if (seen.has(sha256)) continue;
    seen.add(sha256);
    if (!isStored(store, sha256, size)) missing.push(sha256);
  }
  return { missing };
}

/**
 * The same answer for a list of [sha256, size] pairs (a session request). `source` keeps the stats it took, so that the build
 * that follows in the same session does not take them again.
 */
export function storeMissingOf(source: BlobSource, blobs: unknown): MissingReply {
  if (!Array.isArray(blobs)) throw new MonoError('USAGE', 'missing: "blobs" must be a list of [sha256, size]');
  const missing: string[] = [];
  const seen = new Set<string>();
  for (const [i, blob] of blobs.entries()) {
    const [sha256, size] = Array.isArray(blob) ? (blob as unknown[]) : [];
    if (typeof sha256 !== 'string' || !SHA256.test(sha256) || typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
      throw new MonoError('USAGE', `missing: blob ${i + 1} is not [sha256, size]: ${JSON.stringify(blob).slice(0, 100)}`);
    }
    if (seen.has(sha256)) continue;
    seen.add(sha256);
    if (!source.present(sha256, size)) missing.push(sha256);
  }
  return { missing };
}

function isStored(store: string, sha256: string, size: number): boolean {
  const path = blobPath(store, sha256, false);
  const st = statSync(path, { throwIfNoEntry: false });
  if (st === undefined) return false;
  if (st.isFile() && st.size === size) return true;
  // A truncated (or otherwise wrong) blob: it must never be linked into a release.
  if (st.isFile()) unlinkIfPresent(path);
  return false;
}

export const handler = agentHandler('store-missing', async (ctx: Context, options: { root?: string }) => {
  const { store } = agentPaths(requireRoot(options.root));
  ctx.log.data(JSON.stringify(await storeMissing(store, process.stdin)));
});
