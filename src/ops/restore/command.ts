// `mono restore-test [--backup ID] [--from offsite|local] [--db NAME]`: the restore drill, run on the box (in a transient
// unit of its own) for each database, with its progress shown as it goes and its report at the end.
import type { Context } from '../../cli/context.js';
import type { Config } from '../../config/types.js';
import { CommandFailedError, MonoError } from '../../errors.js';
import type { DrillReport, DrillSpec } from '../../restore/spec.js';
import { connect } from '../connect.js';
import { agentArgv, agentFailure, agentProgress } from '../deploy/agent-call.js';
import { formatDrill } from './report.js';
import { ask } from '../../cli/ask.js';
import { drillSpecs } from './specs.js';
import { readFileSync } from 'node:fs';
import { AGE_IDENTITY } from '../../agent/backup/encryption.js';

export interface RestoreTestOptions {
  readonly backup?: string;
  readonly from?: string;
  readonly db?: string;
  /** An age identity file on this machine (your recovery key), for a box whose own key cannot open the backups. */
  readonly identity?: string;
}

export interface RestoreOptions extends RestoreTestOptions {
  readonly to?: string;
  readonly replace?: boolean;
}

function lastReport(stdout: string): DrillReport | undefined {
  for (const line of stdout.trim().split('\n').reverse()) {
    try {
      const v = JSON.parse(line) as DrillReport;
      if (typeof v.recoveryMs === 'number') return v;
    } catch {
      continue;
    }
  }
  return undefined;
}

export async function restoreTestCommand(ctx: Context, options: RestoreTestOptions): Promise<number> {
  const config = await ctx.config();
  const specs = drillSpecs(config, options);
  if (ctx.options.dryRun) {
    for (const s of specs) ctx.log.info(`dry run: would restore ${s.backup ?? 'the newest backup'} of ${s.db.name} from ${s.from === 'offsite' ? 'the offsite host' : 'the box'} into a throwaway cluster and check it`);
    return 0;
  }
  await runOnBox(ctx, config, specs, readIdentity(options.identity));
  return 0;
}

/** The recovery key's file, checked here so that nothing else is ever sent; it travels on stdin, never in argv. */
export function readIdentity(file: string | undefined): string | undefined {
  if (file === undefined) return undefined;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new MonoError('USAGE', `cannot read the identity file ${file}: ${(error as Error).message}`);
  }
  if (!AGE_IDENTITY.test(text.replace(/\r/g, ''))) throw new MonoError('USAGE', `${file} is not an age identity file (AGE-SECRET-KEY-1… lines)`, { hint: 'give the private file age-keygen wrote, not the public key' });
  return text.replace(/\r/g, '');
}

/** What mono restore does, step by step: printed before it asks, and in the disaster-recovery chapter. */
export function restoreRunbook(spec: DrillSpec): string[] {
  const to = spec.restore!.to;
  return [
    `restore runbook (${spec.db.name} ${spec.backup ?? 'newest backup'} → ${to} on the box):`,
    `  1. fetch the backup ${spec.from === 'offsite' ? 'from the offsite host with the box\'s own key' : 'from the box\'s backups folder'}; check every file's sha256 against its manifest`,
    '  2. decrypt (the box\'s age key) and decompress into a private folder of the restore\'s own systemd unit',
    `  3. create the app's role if it is missing, and a new database ${to}__restoring owned by it`,
    `  4. pg_restore --jobs=${spec.jobs} --exit-on-error --no-owner into it, as the app's role (never as a superuser)`,
    '  5. check it: exact rows of every table against the manifest, tables, indexes, restore.checks',
    spec.restore!.replace
      ? `  6. only then: rename ${to} to ${to}_before_<time> (kept, never dropped; nothing may be connected to it) and ${to}__restoring to ${to}`
      : `  6. only then: rename ${to}__restoring to ${to} (which must not exist)`,
    '  a failure at any step drops the staging database and leaves the live ones as they were',
  ];
}

export async function restoreCommand(ctx: Context, options: RestoreOptions): Promise<number> {
  const config = await ctx.config();
  if (options.backup === undefined) throw new MonoError('USAGE', 'mono restore needs --backup ID (mono backups lists them)', { hint: 'a restore names the backup it restores; mono restore-test tries the newest one without touching anything' });
  if (options.to === undefined || !/^[a-z_][a-z0-9_]{0,62}$/.test(options.to) || options.to.endsWith('__restoring')) throw new MonoError('USAGE', 'mono restore needs --to DB, a database name (lower case letters, digits, _)', { hint: 'for example --to shop_restored (a new database), or --to shop --replace' });
  const source = options.db ?? (config.databases.length === 1 ? config.databases[0]!.name : undefined);
  if (source === undefined) throw new MonoError('USAGE', 'which database\'s backup? give --db NAME', { hint: `one of: ${config.databases.map((d) => d.name).join(', ')}` });
  const [base] = drillSpecs(config, { ...options, db: source });
  const spec: DrillSpec = { ...base!, restore: { to: options.to, replace: options.replace === true } };
  for (const line of restoreRunbook(spec)) ctx.log.info(line);
  if (ctx.options.dryRun) return 0;
  if (!ctx.options.yes) {
    if (!process.stdin.isTTY) throw new MonoError('USAGE', 'mono restore changes the live server: confirm with --yes when there is no terminal to ask on');
    const answer = await ask(`type ${options.to} to restore ${source}/${options.backup} into it: `);
    if (answer !== options.to) throw new MonoError('USAGE', 'not confirmed: nothing was changed');
  }
  await runOnBox(ctx, config, [spec], readIdentity(options.identity));
  return 0;
}

async function runOnBox(ctx: Context, config: Config, specs: readonly DrillSpec[], identity?: string): Promise<void> {
  const t = await connect(ctx, config, 'deploy');
  for (const spec of specs) {
    const what = spec.restore === undefined ? 'restore drill' : `restore into ${spec.restore.to}`;
    ctx.log.info(`${what} of ${ctx.log.colors.bold(spec.db.name)} (${spec.backup ?? 'newest backup'}, from ${spec.from === 'offsite' ? 'the offsite host' : 'the box'})`);
    let stdout = '';
    let failure: MonoError | undefined;
    try {
      const out = await t.run(
        { argv: agentArgv(['restore-test'], spec.root), stdin: JSON.stringify({ spec, ...(identity === undefined ? {} : { identity }) }), mutates: true },
        {
          timeoutMs: 12 * 3600_000,
          onStderr: agentProgress((line) => ctx.log.info(line)),
        },
      );
      stdout = out.stdout;
    } catch (error) {
      if (!(error instanceof CommandFailedError)) throw error;
      stdout = error.stdout;
      failure = agentFailure(error);
    }
    const report = lastReport(stdout);
    if (report !== undefined) {
      ctx.log.event(spec.restore === undefined ? 'restore_test.report' : 'restore.report', { ...report });
      if (!ctx.log.json) ctx.log.data(formatDrill(report, ctx.log.colors));
    }
    if (failure !== undefined) throw failure;
    if (report === undefined) throw new MonoError('REMOTE_FAILED', `the ${what} gave no report`, { hint: 'run mono setup so the agent on the box matches this mono version' });
  }
}
