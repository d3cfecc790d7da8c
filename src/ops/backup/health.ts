// The backup and restore-drill lines of mono status, each green or red: a failed last backup, a newest backup older than
// backups.max_data_loss, a backup still waiting for its offsite copy, and a failed last drill are red.
import type { Listing } from './list.js';
import { age } from '../releases.js';
import { seconds, span } from '../restore/report.js';

export interface HealthLine {
  readonly text: string;
  readonly red: boolean;
}

export function backupHealth(listing: Listing, maxDataLossMs: number, offsite: boolean, now = Date.now()): HealthLine[] {
  const lines: HealthLine[] = [];
  for (const d of listing.databases) {
    const newest = d.backups[0];
    if (d.lastRun?.status === 'failed') lines.push({ text: `${d.db}: last backup FAILED ${age(d.lastRun.at, now)}: ${d.lastRun.error ?? 'see mono backups'}`, red: true });
    if (newest === undefined) lines.push({ text: `${d.db}: no backup yet (run mono backup)`, red: true });
    else {
      const ageMs = now - new Date(newest.startedAt).getTime();
      const stale = ageMs > maxDataLossMs;
      const copy = !offsite ? '' : newest.offsiteVerifiedAt === undefined ? '; offsite copy PENDING' : '; offsite copy verified';
      lines.push({ text: `${d.db}: newest backup ${newest.id}, ${span(ageMs)} old${stale ? `, OLDER than the allowed data loss (${span(maxDataLossMs)})` : ` (allowed ${span(maxDataLossMs)})`}${copy}`, red: stale || (offsite && newest.offsiteVerifiedAt === undefined) });
    }
    const drill = d.lastDrill;
    if (drill === undefined || drill === null) lines.push({ text: `${d.db}: no restore drill yet (run mono restore-test)`, red: false });
    else if (drill.ok) lines.push({ text: `${d.db}: last restore drill passed ${age(drill.startedAt, now)} (${drill.backup} from ${drill.from}): recovery time ${seconds(drill.recoveryMs)}, data age ${span(drill.dataAgeMs)}`, red: false });
    else lines.push({ text: `${d.db}: last restore drill FAILED ${age(drill.startedAt, now)} (${drill.backup} from ${drill.from}): ${drill.error?.message ?? 'see its report'}`, red: true });
  }
  return lines;
}
