// `mono agent store-missing`: which of the listed blobs the store lacks (a blob of the wrong size counts as missing and is deleted).
import type { Context } from '../cli/context.js';
import { MonoError } from '../errors.js';
import { BlobSource } from './blob-source.js';
import { agentHandler } from './handler.js';
import { agentPaths, requireRoot } from './paths.js';
import { lines } from './stdin.js';
import { SHA256 } from './validate.js';

export interface MissingReply {
  readonly missing: readonly string[];
}

/** Reads `<sha256> <size>` lines; returns the hashes not stored whole, in input order, each once. */
export async function storeMissing(store: string, input: AsyncIterable<Buffer | string>): Promise<MissingReply> {
  const blobs: { sha256: string; size: number }[] = [];
  let n = 0;
  for await (const line of lines(input, 1024)) {
    n++;
    if (line.trim() === '') continue;
    const m = /^([0-9a-f]{64}) (\d{1,16})$/.exec(line.trim());
    const size = m === null ? NaN : Number(m[2]);
    if (m === null || !SHA256.test(m[1]!) || !Number.isSafeInteger(size)) {
      throw new MonoError('USAGE', `store-missing: line ${n} is not "<sha256> <size>": ${JSON.stringify(line.slice(0, 100))}`);
    }
    blobs.push({ sha256: m[1]!, size });
  }
  return { missing: new BlobSource(store).absent(blobs) };
}

export const handler = agentHandler('store-missing', async (ctx: Context, options: { root?: string }) => {
  const { store } = agentPaths(requireRoot(options.root));
  ctx.log.data(JSON.stringify(await storeMissing(store, process.stdin)));
});
