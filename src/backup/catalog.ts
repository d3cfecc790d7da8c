// What a database holds, counted the same way when a backup is made and when it is restored: the user tables (not
// PostgreSQL's own, not an extension's), their exact rows, and the indexes. The restore drill compares the two.
import type pg from 'pg';

const TABLES_SQL = `
SELECT n.nspname AS schema, c.relname AS name
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r'
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY 1, 2`;

const INDEXES_SQL = `
SELECT count(*)::int AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('i', 'I') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')`;

export interface Catalog {
  /** Exact rows per table ("schema.table"). */
  readonly rows: Record<string, number>;
  readonly indexCount: number;
}

/** Counts in the client's current transaction (the backup's snapshot, or a restored copy). */
export async function countCatalog(client: pg.Client): Promise<Catalog> {
  const rows: Record<string, number> = {};
  for (const t of (await client.query<{ schema: string; name: string }>(TABLES_SQL)).rows) {
    const q = `SELECT count(*)::bigint AS n FROM ${client.escapeIdentifier(t.schema)}.${client.escapeIdentifier(t.name)}`;
    rows[`${t.schema}.${t.name}`] = Number((await client.query<{ n: string }>(q)).rows[0]!.n);
  }
  const indexCount = (await client.query<{ n: number }>(INDEXES_SQL)).rows[0]!.n;
  return { rows, indexCount };
}
