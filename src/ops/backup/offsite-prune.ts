// Offsite retention, applied with the operator's own login (the box's key can only add): which offsite backups are
// complete, what the policy keeps and removes there (pure, planned from one listing), and the removal itself.
import type { Context } from '../../cli/context.js';
import type { LocalBackup } from '../../agent/backup/inventory.js';
import { RECHECKED_BY_BOX } from '../../agent/backup/offsite.js';
import { BACKUP_ID } from '../../backup/manifest.js';
import { planRetention } from '../../backup/retention.js';
import { change, shellScript } from '../../commands/cmd.js';
import type { Config, Retention } from '../../config/types.js';
import { MonoError } from '../../errors.js';
import type { Transport } from '../../transport/transport.js';
import { connectOffsite } from './offsite-setup.js';

/** One `<db>/<id>/` folder on the offsite host as the listing saw it. */
export interface OffsiteFolder {
  readonly db: string;
  readonly id: string;
  /** The plain files in it (a name with unusual characters is left out), with their sizes in bytes. */
  readonly files: readonly { readonly name: string; readonly bytes: number }[];
  /** The text of its manifest.json (newlines turned into spaces), when it has one. */
  readonly manifest?: string;
}

export interface OffsiteListing {
  readonly folders: readonly OffsiteFolder[];
  /** `<db>/.pruning-<id>` folders an interrupted prune left behind: never a backup any more, so they go. */
  readonly leftovers: readonly { readonly db: string; readonly id: string }[];
}

/**
 * Lists `$1` (`<offsite.path>/<app>`) in one command: for every `<db>/<id>/` (and `<db>/.pruning-<id>/`) folder a
 * "D <db>/<id>" line, an "F <bytes> <name>" line per file, and "M <manifest.json on one line>". JSON allows a newline
 * only between tokens, so turning newlines into spaces keeps a manifest's meaning; a damaged one fails to parse anyway.
 */
export const LIST_SCRIPT = [
  'cd "$1" 2>/dev/null || exit 0',
  'for d in */*/ */.pruning-*/; do',
  '  [ -d "$d" ] || continue',
  '  case "$d" in *[!A-Za-z0-9._/-]*) continue ;; esac',
  '  printf "D %s\\n" "${d%/}"',
  "  find \"$d\" -mindepth 1 -maxdepth 1 -type f ! -name '*[!A-Za-z0-9._-]*' -printf 'F %s %f\\n'",
  '  if [ -f "${d}manifest.json" ]; then printf "M "; head -c 16777216 "${d}manifest.json" | tr "\\r\\n" "  "; printf "\\n"; fi',
  'done',
].join('\n');

/** Everything this app keeps on the offsite host, in one command with the operator's login (`t` from connectOffsite). */
export async function listOffsite(t: Transport, config: Pick<Config, 'app' | 'backups'>): Promise<OffsiteListing> {
  return parseOffsiteListing((await t.run(shellScript(LIST_SCRIPT, [`${config.backups.offsite!.path}/${config.app}`], { mutates: false }))).stdout);
}

/** Renames `<id>` to `.pruning-<id>` in `$1` (the database's folder) before removing it: a half-removed backup never looks complete. */
export const REMOVE_SCRIPT = 'set -e; cd "$1"; rm -rf -- ".pruning-$2"; mv -- "$2" ".pruning-$2"; rm -rf -- ".pruning-$2"';

const DB_NAME = /^[a-z0-9_]+$/;

export function parseOffsiteListing(stdout: string): OffsiteListing {
  const folders: { db: string; id: string; files: { name: string; bytes: number }[]; manifest?: string }[] = [];
  const leftovers: { db: string; id: string }[] = [];
  let current: (typeof folders)[number] | undefined;
  for (const line of stdout.split('\n')) {
    if (line.startsWith('D ')) {
      current = undefined;
      const [db = '', name = '', ...rest] = line.slice(2).split('/');
      if (rest.length > 0 || !DB_NAME.test(db)) continue;
      if (name.startsWith('.pruning-') && BACKUP_ID.test(name.slice('.pruning-'.length))) leftovers.push({ db, id: name.slice('.pruning-'.length) });
      else if (BACKUP_ID.test(name)) folders.push((current = { db, id: name, files: [] }));
    } else if (line.startsWith('F ') && current !== undefined) {
      const m = /^F (\d+) ([A-Za-z0-9._-]+)$/.exec(line);
      if (m !== null) current.files.push({ name: m[2]!, bytes: Number(m[1]) });
    } else if (line.startsWith('M ') && current !== undefined) {
      current.manifest = line.slice(2);
    }
  }
  return { folders, leftovers };
}

/** Why an offsite backup is not complete, or undefined when it is: its manifest parses, names this backup, and every file it lists is there with exactly the manifest's size. */
export function incompleteBecause(folder: OffsiteFolder): string | undefined {
  if (folder.manifest === undefined) return 'no manifest.json';
  let manifest: unknown;
  try {
    manifest = JSON.parse(folder.manifest);
  } catch {
    return 'its manifest.json does not parse';
  }
  const m = manifest as { id?: unknown; db?: unknown; files?: unknown } | null;
  if (typeof m !== 'object' || m === null || !Array.isArray(m.files)) return 'its manifest.json lists no files';
  if (m.id !== folder.id || m.db !== folder.db) return `its manifest.json is for ${String(m.db)}/${String(m.id)}`;
  const files = m.files as unknown[];
  if (files.length === 0) return 'its manifest.json lists no files';
  const there = new Map(folder.files.map((f) => [f.name, f.bytes]));
  for (const f of files) {
    const { name, bytes } = (f ?? {}) as { name?: unknown; bytes?: unknown };
    if (typeof name !== 'string' || typeof bytes !== 'number') return 'its manifest.json has a bad file entry';
    const size = there.get(name);
    if (size === undefined) return `${name} is missing`;
    if (size !== bytes) return `${name} has ${size} bytes, the manifest says ${bytes}`;
  }
  return undefined;
}

/** The start time a backup id names ("20261201T030000Z"). */
export function idTime(id: string): Date {
  return new Date(`${id.slice(0, 4)}-${id.slice(4, 6)}-${id.slice(6, 8)}T${id.slice(9, 11)}:${id.slice(11, 13)}:${id.slice(13, 15)}Z`);
}

export interface OffsitePlan {
  /** Newest first, each with why it stays. */
  readonly keep: readonly { readonly id: string; readonly why: readonly string[] }[];
  /** Newest first; `incomplete` says what is wrong with one that is not complete. */
  readonly remove: readonly { readonly id: string; readonly incomplete?: string }[];
  /** Every backup that is not complete, with why (kept or not). */
  readonly incomplete: readonly { readonly id: string; readonly why: string }[];
}

/**
 * The offsite plan of one database. Complete backups are planned by the policy on their own, so an incomplete one
 * never counts toward min_verified or as the newest verified backup. An incomplete one newer than the newest complete
 * one stays (it may still be arriving); an older one goes only if the policy would drop it anyway. `protect` names
 * backups that stay whatever the policy says (with why).
 */
export function planOffsitePrune(folders: readonly OffsiteFolder[], policy: Retention, protect: ReadonlyMap<string, string> = new Map()): OffsitePlan {
  const checked = folders.map((f) => ({ id: f.id, at: idTime(f.id), problem: incompleteBecause(f) }));
  const complete = checked.filter((c) => c.problem === undefined);
  const byPolicy = planRetention(
    complete.map((c) => ({ id: c.id, at: c.at, verified: true })),
    policy,
  );
  const why = new Map<string, string[]>(byPolicy.keep.map((k) => [k.id, k.why.map((w) => (w === 'the newest verified backup' ? 'the newest complete backup' : w))]));
  const newestComplete = complete.reduce<string | undefined>((n, c) => (n === undefined || c.id > n ? c.id : n), undefined);
  // The policy over everything, complete or not: what it would keep of the incomplete ones (they are never "verified").
  const withIncomplete = planRetention(
    checked.map((c) => ({ id: c.id, at: c.at, verified: c.problem === undefined })),
    policy,
  );
  const keptAnyway = new Map(withIncomplete.keep.map((k) => [k.id, k.why]));
  const incomplete: { id: string; why: string }[] = [];
  for (const c of checked) {
    if (c.problem === undefined) continue;
    incomplete.push({ id: c.id, why: c.problem });
    if (newestComplete === undefined || c.id > newestComplete) why.set(c.id, [`incomplete (${c.problem}), newer than the newest complete backup: it may still be arriving`]);
    else if (keptAnyway.has(c.id)) why.set(c.id, [...keptAnyway.get(c.id)!, `incomplete: ${c.problem}`]);
  }
  for (const [id, reason] of protect) if (checked.some((c) => c.id === id)) why.set(id, [...(why.get(id) ?? []), reason]);
  const newestFirst = [...checked].sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  return {
    keep: newestFirst.filter((c) => why.has(c.id)).map((c) => ({ id: c.id, why: why.get(c.id)! })),
    remove: newestFirst.filter((c) => !why.has(c.id)).map((c) => (c.problem === undefined ? { id: c.id } : { id: c.id, incomplete: c.problem })),
    incomplete: incomplete.sort((a, b) => (a.id < b.id ? 1 : -1)),
  };
}

/** The offsite copies the box re-checks after each run: removing one would make its next run report it missing. */
export function recheckedByBox(local: readonly Pick<LocalBackup, 'id' | 'offsiteVerifiedAt'>[]): Map<string, string> {
  const copied = local.filter((b) => b.offsiteVerifiedAt !== undefined).map((b) => b.id).sort().reverse().slice(0, RECHECKED_BY_BOX);
  return new Map(copied.map((id) => [id, 'the box re-checks this copy after each backup']));
}

/** Offsite pruning for one command run: connects with the operator's login and lists the offsite host once, then prunes database by database. */
export class OffsitePruner {
  readonly #ctx: Context;
  readonly #config: Config;
  #t: Transport | undefined;
  #listing: OffsiteListing | undefined;

  constructor(ctx: Context, config: Config) {
    this.#ctx = ctx;
    this.#config = config;
  }

  get where(): string {
    const o = this.#config.backups.offsite!;
    return `${o.target.user}@${o.target.host}:${o.target.port}`;
  }

  get #appDir(): string {
    return `${this.#config.backups.offsite!.path}/${this.#config.app}`;
  }

  async #open(): Promise<{ t: Transport; listing: OffsiteListing }> {
    if (this.#t === undefined || this.#listing === undefined) {
      try {
        this.#t = await connectOffsite(this.#ctx, this.#config);
        this.#listing = await listOffsite(this.#t, this.#config);
      } catch (error) {
        if (!(error instanceof MonoError)) throw error;
        throw new MonoError(error.code, `cannot prune offsite on ${this.where}: ${error.message}`, {
          hint: 'the local prune above is done and nothing was removed offsite; check the offsite host, the network and backups.offsite in mono.yml, then run mono backups prune again',
          cause: error,
        });
      }
    }
    return { t: this.#t, listing: this.#listing };
  }

  /** Applies backups.retention.offsite to one database's offsite backups (only says what would go with --dry-run). */
  async prune(db: string, local: readonly LocalBackup[]): Promise<void> {
    const ctx = this.#ctx;
    const dry = ctx.options.dryRun;
    const { t, listing } = await this.#open();
    const plan = planOffsitePrune(
      listing.folders.filter((f) => f.db === db),
      this.#config.backups.retention.offsite,
      recheckedByBox(local),
    );
    const leftovers = listing.leftovers.filter((l) => l.db === db).map((l) => l.id);
    const dbDir = `${this.#appDir}/${db}`;
    for (const k of plan.keep) ctx.log.info(`  offsite keep    ${db}/${k.id}  (${k.why.join('; ')})`);
    const removed: string[] = [];
    try {
      for (const r of plan.remove) {
        const note = r.incomplete === undefined ? '' : `  (incomplete: ${r.incomplete})`;
        if (dry) ctx.log.info(`  offsite would remove ${db}/${r.id}${note}`);
        else {
          await t.run(shellScript(REMOVE_SCRIPT, [dbDir, r.id], { mutates: true }));
          removed.push(r.id);
          ctx.log.info(`  offsite removed ${db}/${r.id}${note}`);
        }
      }
      for (const id of leftovers) {
        if (dry) ctx.log.info(`  offsite would remove ${db}/.pruning-${id}  (left by an interrupted prune)`);
        else {
          await t.run(change(['rm', '-rf', '--', `${dbDir}/.pruning-${id}`]));
          ctx.log.info(`  offsite removed ${db}/.pruning-${id}  (left by an interrupted prune)`);
        }
      }
    } catch (error) {
      if (!(error instanceof MonoError)) throw error;
      throw new MonoError(error.code, `offsite pruning of ${db} on ${this.where} stopped: ${error.message}`, {
        hint: 'a backup being removed was renamed to .pruning-<id> first, so it never looks complete; the next mono backups prune finishes it',
        details: error.details,
        cause: error,
      });
    } finally {
      ctx.log.event('backups.prune.offsite', {
        db,
        host: this.where,
        keep: plan.keep,
        remove: plan.remove,
        removed,
        incomplete: plan.incomplete,
        leftovers,
        dryRun: dry,
      });
    }
    ctx.log.info(`${db} offsite: ${plan.remove.length} ${dry ? 'would go' : 'removed'}, ${plan.keep.length} kept${plan.incomplete.length === 0 ? '' : `, ${plan.incomplete.length} incomplete`}`);
  }
}
