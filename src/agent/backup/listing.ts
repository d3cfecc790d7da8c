// Each database's local backups, last run and last drill, read without loading the backup code (mono status calls this).
import type { DrillReport } from '../../restore/spec.js';
import { drillHistory } from '../restore/history.js';
import { lastRun, localBackups, type LastRun, type LocalBackup } from './inventory.js';

export function backupListing(dir: string, dbs: readonly string[]): { databases: { db: string; lastRun: LastRun | null; lastDrill: DrillReport | null; backups: LocalBackup[] }[] } {
  return { databases: dbs.map((db) => ({ db, lastRun: lastRun(`${dir}/${db}`) ?? null, lastDrill: drillHistory(dir, db, 1)[0] ?? null, backups: localBackups(dir, db) })) };
}
