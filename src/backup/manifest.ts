// A backup's manifest: what the dump holds, counted in the same snapshot the dump was taken from, plus what was written.
// It is written last, inside the backup's folder, and the folder is renamed into place only after every check passed.

export const BACKUP_ID = /^\d{8}T\d{6}Z$/;

export interface BackupFile {
  readonly name: string;
  readonly bytes: number;
  readonly sha256: string;
}

export interface BackupManifest {
  readonly version: 1;
  readonly id: string;
  readonly db: string;
  readonly startedAt: string;
  readonly durationMs: number;
  readonly server: { readonly version: string; readonly versionNum: number };
  /** How the database was created (a restore creates its copy the same way). */
  readonly database?: { readonly encoding: string; readonly collate: string; readonly ctype: string };
  readonly tools: { readonly pgDump: string; readonly zstd: string; readonly mono: string; readonly age?: string };
  /** With backups.encrypt: the data files are age files for these recipients (the box's own key first). */
  readonly encryption?: { readonly tool: 'age'; readonly recipients: readonly string[] };
  /** The snapshot pg_dump used (pg_export_snapshot() of the counting transaction). */
  readonly snapshot: string;
  /** Exact rows per table ("schema.table"), counted in that snapshot. */
  readonly rows: Readonly<Record<string, number>>;
  readonly tableCount: number;
  readonly indexCount: number;
  readonly files: readonly BackupFile[];
  readonly checks: { readonly sha256: true; readonly fullRead: true; readonly tableCount: true };
}

/** "YYYYMMDDTHHMMSSZ" for a date (UTC): sorts by time, and names the backup's folder. */
export function backupId(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
}

/** The major version in "pg_dump (PostgreSQL) 15.8 (Debian 15.8-0+deb12u1)" or a server_version_num (150008). */
export function pgMajor(text: string | number): number {
  if (typeof text === 'number') return Math.floor(text / 10_000);
  const m = /\(PostgreSQL\)\s+(\d+)/.exec(text);
  return m?.[1] === undefined ? 0 : Number(m[1]);
}

/** What changed since the previous backup that an operator should hear about: a smaller dump, fewer tables. */
export function compareWithPrevious(previous: BackupManifest | undefined, next: Pick<BackupManifest, 'files' | 'tableCount'>, maxDropPercent: number): { warnings: string[]; failure?: string } {
  if (previous === undefined) return { warnings: [] };
  const bytes = (m: Pick<BackupManifest, 'files'>): number => m.files.reduce((n, f) => n + f.bytes, 0);
  const before = bytes(previous);
  const now = bytes(next);
  const sizeDrop = before > 0 ? Math.round((1 - now / before) * 100) : 0;
  const tableDrop = previous.tableCount > 0 ? Math.round(((previous.tableCount - next.tableCount) / previous.tableCount) * 100) : 0;
  const warnings: string[] = [];
  const failures: string[] = [];
  if (next.tableCount < previous.tableCount) (tableDrop > maxDropPercent ? failures : warnings).push(`the table count fell from ${previous.tableCount} to ${next.tableCount} since backup ${previous.id}`);
  if (sizeDrop >= 20) (sizeDrop > maxDropPercent ? failures : warnings).push(`the backup is ${sizeDrop}% smaller than backup ${previous.id} (${before} → ${now} bytes)`);
  return failures.length === 0 ? { warnings } : { warnings, failure: failures.join('; ') };
}
