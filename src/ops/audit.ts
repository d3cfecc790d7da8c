// The audit log on the box: one JSON line per change (setup, deploy, rollback, lock forced, prune…).
import { hostname, userInfo } from 'node:os';
import { appendLine } from '../commands/files.js';
import type { Transport } from '../transport/transport.js';

export interface AuditEntry {
  readonly action: string;
  readonly [key: string]: unknown;
}

export function operator(): string {
  let name = process.env['USER'] ?? 'unknown';
  try {
    name = userInfo().username;
  } catch {
    // no passwd entry (some CI containers): keep $USER
  }
  return `${name}@${hostname()}`;
}

export function auditLine(entry: AuditEntry, now = new Date()): string {
  return JSON.stringify({ time: now.toISOString(), by: operator(), ...entry });
}

export async function audit(t: Transport, logPath: string, owner: string, entry: AuditEntry): Promise<void> {
  await t.run(appendLine(logPath, auditLine(entry), owner, '0640'));
}
