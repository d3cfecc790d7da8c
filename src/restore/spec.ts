// What the CLI asks of a restore drill on the box (written to <root>/.mono/drills/<id>.json, 0600, read by the drill's
// transient unit), and the report the drill gives back (one JSON line, and a line in the database's drill history).
import { randomBytes } from 'node:crypto';
import { backupId } from '../backup/manifest.js';
import { MonoError } from '../errors.js';
import type { SmokeCheck } from '../config/types.js';
import type { SshTarget } from '../ssh/target.js';

export interface DrillSpec {
  readonly id: string;
  readonly app: string;
  readonly root: string;
  /** The privileged helper that starts the drill's transient unit. */
  readonly helper: string;
  /** backups.dir */
  readonly dir: string;
  readonly db: { readonly name: string; readonly user: string; readonly port: number; readonly host?: string };
  readonly from: 'offsite' | 'local';
  /** A backup id; the newest complete one when absent. */
  readonly backup?: string;
  readonly offsite?: SshTarget;
  readonly jobs: number;
  readonly maxDataLossMs: number;
  readonly checks: readonly SmokeCheck[];
  /** Where a drill restores: a throwaway cluster, or a scratch database on the live server. */
  readonly target?: 'cluster' | 'scratch';
  /** mono restore: into this database of the live server (through <to>__restoring), instead of a throwaway cluster. */
  readonly restore?: { readonly to: string; readonly replace: boolean };
}

export interface DrillPhases {
  readonly fetchMs: number;
  readonly decryptMs: number;
  readonly restoreMs: number;
  readonly verifyMs: number;
}

export interface CheckResult {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

export interface DrillReport {
  readonly id: string;
  /** drill: a throwaway cluster; restore: the live server's database `to`. */
  readonly mode: 'drill' | 'restore';
  readonly to?: string;
  readonly db: string;
  readonly backup: string;
  readonly from: 'offsite' | 'local';
  readonly ok: boolean;
  readonly startedAt: string;
  /** When the backup's snapshot was taken. */
  readonly backupAt: string;
  /** How old the restored data was when the drill ran, against the allowed data loss. */
  readonly dataAgeMs: number;
  readonly maxDataLossMs: number;
  readonly phases: DrillPhases;
  /** fetch + decrypt + restore + verify: how long getting this database back takes. */
  readonly recoveryMs: number;
  readonly tables: number;
  readonly rows: number;
  readonly checks: readonly CheckResult[];
  readonly error?: { readonly code: string; readonly message: string; readonly hint?: string };
}

export const DRILL_ID = /^\d{8}T\d{6}Z-[a-z0-9]{4,12}$/;

/** A drill's id: when it started, and a random part. */
export function newDrillId(now = new Date()): string {
  return `${backupId(now)}-${randomBytes(4).toString('hex')}`;
}

export function drillUnit(app: string, id: string): string {
  return `${app}-drill-${id}`;
}

/** A drill spec read back from its file: every field the drill relies on, checked. */
export function parseDrillSpec(text: string): DrillSpec {
  let v: DrillSpec;
  try {
    v = JSON.parse(text) as DrillSpec;
  } catch (error) {
    throw new MonoError('USAGE', `the drill spec is not JSON: ${(error as Error).message}`);
  }
  const name = /^[a-z_][a-z0-9_]{0,62}$/;
  const ok =
    typeof v === 'object' && v !== null &&
    typeof v.id === 'string' && DRILL_ID.test(v.id) &&
    typeof v.app === 'string' && typeof v.root === 'string' && v.root.startsWith('/') &&
    typeof v.helper === 'string' && v.helper.startsWith('/') &&
    typeof v.dir === 'string' && v.dir.startsWith('/') &&
    typeof v.db === 'object' && name.test(v.db.name) && name.test(v.db.user) && Number.isInteger(v.db.port) &&
    (v.from === 'offsite' || v.from === 'local') &&
    (v.backup === undefined || /^\d{8}T\d{6}Z$/.test(v.backup)) &&
    (v.from === 'local' || (typeof v.offsite === 'object' && v.offsite !== null)) &&
    Number.isInteger(v.jobs) && v.jobs >= 1 &&
    typeof v.maxDataLossMs === 'number' &&
    Array.isArray(v.checks) &&
    (v.target === undefined || v.target === 'cluster' || v.target === 'scratch') &&
    (v.restore === undefined || (typeof v.restore === 'object' && v.restore !== null && name.test(v.restore.to) && !v.restore.to.endsWith('__restoring') && typeof v.restore.replace === 'boolean'));
  if (!ok) throw new MonoError('USAGE', 'the drill spec is incomplete or malformed', { hint: 'run mono restore-test from a mono of the same version as the box\'s agent (mono setup updates it)' });
  return v;
}
