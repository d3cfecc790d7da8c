// The checks of a restored copy: exact rows of every table, the table and index counts, the manifest's against the
// copy's; then the operator's smoke checks (one value each: equal to `expect`, or a timestamp no older than `max_age`
// before the backup). Pure comparisons, so they are unit-tested without a database.
import type { BackupManifest } from '../../backup/manifest.js';
import type { Catalog } from '../../backup/catalog.js';
import type { SmokeCheck } from '../../config/types.js';
import type { CheckResult } from '../../restore/spec.js';

/** "1 table", "3 tables". */
export function counted(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

export function compareCatalog(manifest: Pick<BackupManifest, 'rows' | 'tableCount' | 'indexCount'>, got: Catalog): CheckResult[] {
  const want = manifest.rows;
  const wrong: string[] = [];
  for (const [table, n] of Object.entries(want)) {
    const have = got.rows[table];
    if (have === undefined) wrong.push(`${table} is missing`);
    else if (have !== n) wrong.push(`${table} has ${have} rows, the manifest ${n}`);
  }
  for (const table of Object.keys(got.rows)) if (!(table in want)) wrong.push(`${table} is not in the manifest`);
  const tables = Object.keys(got.rows).length;
  return [
    { name: 'rows', ok: wrong.length === 0, detail: wrong.length === 0 ? `every table's rows equal the manifest (${Object.values(got.rows).reduce((a, b) => a + b, 0)} rows)` : wrong.slice(0, 5).join('; ') + (wrong.length > 5 ? `; and ${wrong.length - 5} more` : '') },
    { name: 'tables', ok: tables === manifest.tableCount, detail: `${counted(tables, 'table')}, the manifest ${manifest.tableCount}` },
    { name: 'indexes', ok: got.indexCount === manifest.indexCount, detail: `${counted(got.indexCount, 'index', 'indexes')}, the manifest ${manifest.indexCount}` },
  ];
}

/** A value from node-postgres as text: timestamps as ISO strings, numbers and strings as they are, the rest as JSON. */
function asText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return value.toString();
  return JSON.stringify(value);
}

/** A smoke check's verdict on the value its query returned (null: no row or SQL NULL). */
export function judgeSmoke(check: SmokeCheck, value: unknown, backupAt: Date): CheckResult {
  const name = `check "${check.name}"`;
  const text = asText(value);
  if (check.expect !== undefined) {
    return text === check.expect ? { name, ok: true, detail: `returned ${text}` } : { name, ok: false, detail: `returned ${text ?? 'nothing'}, expected ${check.expect}` };
  }
  const at = value instanceof Date ? value : text === null ? undefined : new Date(text);
  if (at === undefined || Number.isNaN(at.getTime())) return { name, ok: false, detail: `returned ${text ?? 'nothing'}, expected a timestamp` };
  const behind = backupAt.getTime() - at.getTime();
  const bound = check.maxAgeMs ?? 0;
  const hours = (ms: number): string => `${(ms / 3_600_000).toFixed(1)} h`;
  return behind <= bound ? { name, ok: true, detail: `newest ${at.toISOString()}, ${hours(Math.max(0, behind))} before the backup (at most ${hours(bound)})` } : { name, ok: false, detail: `newest ${at.toISOString()} is ${hours(behind)} older than the backup, more than ${hours(bound)}` };
}
