// The one result shape of the box-side checks (`mono agent check …`), and how a check prints it and picks its exit code.
import type { Context } from '../../cli/context.js';
import { ExitCode } from '../../errors.js';

export type CheckStatus = 'ok' | 'warning' | 'fail';

export interface CheckResult {
  readonly check: 'disk' | 'tls' | 'health' | 'lock';
  readonly status: CheckStatus;
  readonly message: string;
  readonly hint?: string;
  readonly details: unknown;
}

/** One JSON line on stdout, the message (and hint) on stderr; the exit code: 0 for ok and warning, 5 for fail. */
export function reportCheck(ctx: Context, result: CheckResult): number {
  ctx.log.data(JSON.stringify(result));
  if (result.status === 'fail') {
    ctx.log.error(result.message, result.hint);
    return ExitCode.remote;
  }
  if (result.status === 'warning') ctx.log.warn(result.message);
  else ctx.log.info(result.message);
  if (result.hint !== undefined) ctx.log.info(`hint: ${result.hint}`);
  return ExitCode.ok;
}

/** `hint` only when there is one (exactOptionalPropertyTypes). */
export function withHint(hint: string | undefined): { hint?: string } {
  return hint === undefined ? {} : { hint };
}
