// Garbage collection of the store: blobs no kept release references, and partial files older than an hour.
import { lstatSync, readdirSync } from 'node:fs';
import { removeOldPartials, unlinkIfPresent } from './store.js';

export interface GcResult {
  readonly removedBlobs: number;
  readonly freedBytes: number;
}

const BLOB_NAME = /^([0-9a-f]{64})(\.x)?$/;

/**
 * Deletes every `<aa>/<sha256>` whose hash is not in `referenced`, and every `.x` variant not referenced as executable
 * (`referenced` maps a hash to whether some kept release needs it executable). Fan-out folders stay (a running receive may use them).
 */
export function collectGarbage(store: string, referenced: ReadonlyMap<string, boolean>, options: { dryRun: boolean; now: number }): GcResult {
  let removedBlobs = 0;
  let freedBytes = 0;
  for (const aa of readdirSync(store, { withFileTypes: true })) {
    if (!aa.isDirectory() || !/^[0-9a-f]{2}$/.test(aa.name)) continue;
    const dir = `${store}/${aa.name}`;
    for (const name of readdirSync(dir)) {
      const m = BLOB_NAME.exec(name);
      if (m === null) continue;
      const executable = referenced.get(m[1]!);
      if (executable === true || (executable === false && m[2] === undefined)) continue;
      const st = lstatSync(`${dir}/${name}`, { throwIfNoEntry: false });
      if (st === undefined || !st.isFile()) continue;
      if (!options.dryRun) unlinkIfPresent(`${dir}/${name}`);
      removedBlobs++;
      freedBytes += st.size;
    }
    // <sha>.x.partial left by an interrupted release-build
    removeOldPartials(dir, options.now, undefined, options.dryRun);
  }
  removeOldPartials(`${store}/.incoming`, options.now, undefined, options.dryRun);
  return { removedBlobs, freedBytes };
}
