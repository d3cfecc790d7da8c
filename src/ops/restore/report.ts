// A restore drill's report as the operator reads it: the verdict, the measured recovery time by phase, and the age of
// the data against the allowed data loss.
import type { DrillReport } from '../../restore/spec.js';
import { counted } from '../../agent/restore/verify.js';

interface Colors {
  readonly green: (s: string) => string;
  readonly red: (s: string) => string;
  readonly yellow: (s: string) => string;
}

const plain: Colors = { green: (s) => s, red: (s) => s, yellow: (s) => s };

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** "3 h 12 min", "2 d 4 h", "45 s". */
export function span(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${m % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

export function formatDrill(r: DrillReport, c: Colors = plain): string {
  const p = r.phases;
  const what = r.mode === 'restore' ? `restore of ${r.db}/${r.backup} into ${r.to ?? '?'}` : `restore drill of ${r.db}/${r.backup}`;
  const verdict = r.ok ? c.green(`${what} ${r.mode === 'restore' ? 'done and checked' : 'passed'}`) : c.red(`${what} FAILED`);
  const lines = [
    `${verdict}: ${counted(r.tables, 'table')}, ${counted(r.rows, 'row')} from ${r.from === 'offsite' ? 'the offsite copy' : 'the local copy'}`,
    `  recovery time ${seconds(r.recoveryMs)}: fetch ${seconds(p.fetchMs)}, decrypt ${seconds(p.decryptMs)}, restore ${seconds(p.restoreMs)}, verify ${seconds(p.verifyMs)}`,
  ];
  const age = `  data age ${span(r.dataAgeMs)} at the drill (backup taken ${r.backupAt}); allowed data loss ${span(r.maxDataLossMs)}`;
  lines.push(r.dataAgeMs > r.maxDataLossMs ? c.yellow(`${age}: TOO OLD`) : age);
  if (r.error !== undefined) lines.push(c.red(`  ${r.error.message}`));
  return lines.join('\n');
}
