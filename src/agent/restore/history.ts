// Every drill's report is kept on the box: one JSON line per drill in <dir>/<db>/drills.jsonl (0600), and a passed
// drill marks its backup (<dir>/<db>/<id>/drill.json), which retention then prefers and mono backups shows.
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { DrillReport } from '../../restore/spec.js';

export const DRILL_HISTORY = 'drills.jsonl';
export const DRILL_MARK = 'drill.json';

export function recordDrill(dir: string, report: DrillReport): void {
  const dbDir = `${dir}/${report.db}`;
  if (!existsSync(dbDir)) return;
  appendFileSync(`${dbDir}/${DRILL_HISTORY}`, JSON.stringify(report) + '\n', { mode: 0o600 });
  if (report.ok && existsSync(`${dbDir}/${report.backup}/manifest.json`)) {
    writeFileSync(`${dbDir}/${report.backup}/${DRILL_MARK}`, JSON.stringify({ verifiedAt: new Date().toISOString(), drill: report.id, from: report.from, recoveryMs: report.recoveryMs }) + '\n', { mode: 0o600 });
  }
}

/** The newest drills of a database, newest first. */
export function drillHistory(dir: string, db: string, last = 20): DrillReport[] {
  try {
    return readFileSync(`${dir}/${db}/${DRILL_HISTORY}`, 'utf8')
      .split('\n')
      .filter(Boolean)
      .slice(-last)
      .reverse()
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as DrillReport];
        } catch {
          return [];
        }
      });
  } catch {
    return [];
  }
}
