// Runs a plan: check each step, apply where needed, re-check that it converged; under --dry-run only record.
import { MonoError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { DryRunTransport } from '../transport/dry-run.js';
import type { Transport } from '../transport/transport.js';
import type { CheckResult, Step, StepResult } from './step.js';

export interface RunPlanOptions {
  readonly transport: Transport;
  readonly dryRun: boolean;
  readonly log: Logger;
}

/**
 * Checks are read-only, so they can share the connection concurrently. sshd allows 10 sessions per connection by default, and
 * closing channels still count for a moment: stay well below.
 */
const CHECK_CONCURRENCY = 4;

async function checkAll(steps: readonly Step[], transport: Transport): Promise<CheckResult[]> {
  const results: CheckResult[] = new Array<CheckResult>(steps.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < steps.length) {
      const i = next++;
      results[i] = await steps[i]!.check(transport);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CHECK_CONCURRENCY, steps.length) }, worker));
  return results;
}

export async function runPlan(steps: readonly Step[], options: RunPlanOptions): Promise<StepResult[]> {
  const { transport, dryRun, log } = options;
  const c = log.colors;
  const results: StepResult[] = [];
  // All checks first, concurrently. Up to the first step that needs a change their answers stand; after a change,
  // later steps are checked again in order, because an earlier change can alter what they see.
  const prechecked = await checkAll(steps, transport);
  let changedSomething = false;
  for (const [index, step] of steps.entries()) {
    const started = performance.now();
    log.event('step.start', { id: step.id, describe: step.describe });
    const before = changedSomething ? await step.check(transport) : prechecked[index]!;
    if (!before.ok) changedSomething = true;
    let result: StepResult;
    if (before.ok) {
      result = { id: step.id, describe: step.describe, status: 'unchanged', ms: performance.now() - started };
      log.info(`${c.dim('  ok     ')} ${step.describe}`);
    } else if (dryRun) {
      const recorder = new DryRunTransport(transport);
      await step.apply(recorder);
      result = { id: step.id, describe: step.describe, status: 'would-change', reason: before.reason, ms: performance.now() - started, commands: recorder.lines() };
      log.info(`${c.yellow('  would  ')} ${step.describe} ${c.dim(`(${before.reason})`)}`);
      for (const line of recorder.lines()) log.info(c.dim(`           $ ${line.length > 160 ? line.slice(0, 157) + '...' : line}`));
    } else {
      log.info(`${c.cyan('  change ')} ${step.describe} ${c.dim(`(${before.reason})`)}`);
      try {
        await step.apply(transport);
      } catch (error) {
        if (step.rollback !== undefined) await step.rollback(transport).catch((e: unknown) => log.warn(`rollback of ${step.id} failed: ${String(e)}`));
        throw error;
      }
      const after = await step.check(transport);
      if (!after.ok) {
        throw new MonoError('CHECK_FAILED', `step "${step.id}" did not take effect: ${after.reason}`, { hint: 'run again with --verbose; if it persists this is a bug in mono' });
      }
      result = { id: step.id, describe: step.describe, status: 'changed', reason: before.reason, ms: performance.now() - started };
    }
    log.event('step.end', { ...result });
    results.push(result);
  }
  return results;
}

export function summarize(results: readonly StepResult[]): { changed: number; unchanged: number; wouldChange: number } {
  return {
    changed: results.filter((r) => r.status === 'changed').length,
    unchanged: results.filter((r) => r.status === 'unchanged').length,
    wouldChange: results.filter((r) => r.status === 'would-change').length,
  };
}
