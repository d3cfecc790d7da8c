// A plan is data: a list of steps that each check the box before they change it, so running again is safe.
import type { Transport } from '../transport/transport.js';

export type CheckResult = { readonly ok: true } | { readonly ok: false; readonly reason: string };

export interface Step {
  readonly id: string;
  readonly describe: string;
  /** Read-only: is the box already as this step wants it? */
  check(t: Transport): Promise<CheckResult>;
  /** Makes it so. Only called when check() said no. */
  apply(t: Transport): Promise<void>;
  /** Undo a half-applied change when apply() fails (optional). */
  rollback?(t: Transport): Promise<void>;
}

export type StepStatus = 'unchanged' | 'changed' | 'would-change';

export interface StepResult {
  readonly id: string;
  readonly describe: string;
  readonly status: StepStatus;
  readonly reason?: string;
  readonly ms: number;
  /** Under --dry-run: the commands apply() would have run. */
  readonly commands?: readonly string[];
}

export const ok: CheckResult = { ok: true };
export function needs(reason: string): CheckResult {
  return { ok: false, reason };
}
