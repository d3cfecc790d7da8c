// Appends one line to the box's audit log through the agent (it adds the time; we add who).
import type { Transport } from '../../transport/transport.js';
import { operator } from '../audit.js';
import { agentCall } from './agent-call.js';
import type { HeldLock } from './lock.js';

export async function recordAudit(t: Transport, root: string, entry: Record<string, unknown>): Promise<void> {
  await agentCall<unknown>(t, ['audit-append'], root, { input: JSON.stringify({ by: operator(), ...entry }) });
}

/** The same, through the deploy's agent session (no extra process on the box). */
export async function auditVia(lock: HeldLock, entry: Record<string, unknown>): Promise<void> {
  await lock.call<unknown>({ op: 'audit', entry: { by: operator(), ...entry } });
}
