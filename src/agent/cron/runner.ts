// One run of one maintenance job: claimed so that it never overlaps itself, its agent verbs run as child processes (each
// line passed on, for journald or the operator), stopped at its timeout, judged, recorded, and alerted on.
import { spawn } from 'node:child_process';
import { alertWanted, nextAlert, resolvedOutcome } from '../../cron/alerts.js';
import type { CronJobSpec, CronStep } from '../../cron/spec.js';
import { withAlerts } from '../../notify/job.js';
import type { JobOutcome } from '../../notify/message.js';
import { notifyPath, readNotifySettings } from '../../notify/settings.js';
import { ExitCode } from '../../errors.js';
import { lineSplitter } from '../../ops/deploy/agent-call.js';
import type { CronStore, RunRecord, RunStatus, Trigger } from './store.js';

/** How long a step has to end after SIGTERM (timeout, or the service stopping) before it gets SIGKILL. */
export const KILL_GRACE_MS = 20_000;
const TAIL = 40;

export interface RunOptions {
  readonly store: CronStore;
  readonly monoDir: string;
  readonly trigger: Trigger;
  /** Every line a step prints (stdout and stderr), as it comes. */
  readonly onLine: (line: string) => void;
  /** Aborted when the service stops: the run is stopped and recorded as interrupted. */
  readonly signal?: AbortSignal;
  /** The argv that runs `mono agent <args>` (default: this very program). */
  readonly agent?: (args: readonly string[]) => readonly [string, readonly string[]];
  readonly warn: (message: string) => void;
}

interface StepEnd {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly why?: 'timeout' | 'interrupted';
  readonly lines: readonly string[];
}

function thisAgent(args: readonly string[]): readonly [string, readonly string[]] {
  return [process.execPath, [process.argv[1] ?? '', 'agent', ...args]];
}

/** Runs one step; its own process group, so that a stop reaches pg_dump and ssh too. */
function runStep(step: CronStep, job: string, deadline: number, o: RunOptions): Promise<StepEnd> {
  const [file, argv] = (o.agent ?? thisAgent)(step.args);
  const lines: string[] = [];
  return new Promise((resolve) => {
    const child = spawn(file, argv, { detached: true, stdio: [step.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], env: { ...process.env, MONO_CRON_JOB: job, NO_COLOR: '1' } });
    let why: StepEnd['why'];
    let killer: NodeJS.Timeout | undefined;
    const stop = (reason: 'timeout' | 'interrupted'): void => {
      if (why !== undefined || child.pid === undefined) return;
      why = reason;
      const group = (sig: NodeJS.Signals): void => {
        try {
          process.kill(-child.pid!, sig);
        } catch {
          // already gone
        }
      };
      group('SIGTERM');
      killer = setTimeout(() => group('SIGKILL'), KILL_GRACE_MS);
    };
    const timer = setTimeout(() => stop('timeout'), Math.max(0, Math.min(deadline - Date.now(), 2 ** 31 - 1)));
    const onAbort = (): void => stop('interrupted');
    o.signal?.addEventListener('abort', onAbort, { once: true });
    const take = (line: string): void => {
      if (line === '') return;
      lines.push(line);
      if (lines.length > TAIL * 4) lines.splice(0, lines.length - TAIL * 2);
      o.onLine(line);
    };
    const out = lineSplitter(take);
    const err = lineSplitter(take);
    child.stdout?.on('data', out.push);
    child.stderr?.on('data', err.push);
    child.stdin?.end(step.stdin);
    child.on('error', (error) => take(`error: cannot start the step: ${error.message}`));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (killer !== undefined) clearTimeout(killer);
      o.signal?.removeEventListener('abort', onAbort);
      out.flush();
      err.flush();
      resolve({ code, signal, ...(why === undefined ? {} : { why }), lines });
    });
    if (o.signal?.aborted === true) onAbort();
  });
}

const RANK: Record<RunStatus, number> = { ok: 0, skipped: 1, warning: 2, fail: 3, timeout: 4, interrupted: 5 };

/** A step's status and message from how it ended and what it printed (the agent's "error:", "hint:" and "warning:" lines). */
export function judgeStep(end: StepEnd, timeoutMs: number, job = '<job>'): { status: RunStatus; message: string; hint?: string } {
  const errorAt = lastIndexWhere(end.lines, (l) => l.startsWith('error: '));
  const hintLine = errorAt < 0 ? undefined : end.lines.slice(errorAt + 1).find((l) => l.startsWith('hint: '));
  const said = errorAt < 0 ? undefined : end.lines[errorAt]!.slice('error: '.length);
  const hint = hintLine?.slice('hint: '.length);
  const withHint = (x: { status: RunStatus; message: string }): { status: RunStatus; message: string; hint?: string } => (hint === undefined ? x : { ...x, hint });
  if (end.why === 'timeout') return { status: 'timeout', message: `timed out after ${formatMs(timeoutMs)} and was stopped`, hint: `raise schedules.${job}.timeout in mono.yml if the job needs longer` };
  if (end.why === 'interrupted') return { status: 'interrupted', message: 'stopped with the mono cron service; it runs again when the service starts' };
  if (end.code === ExitCode.locked) return withHint({ status: 'skipped', message: said ?? 'skipped: the deploy lock is held' });
  if (end.code !== 0) return withHint({ status: 'fail', message: said ?? (end.signal === null ? `exited with status ${end.code ?? '?'}` : `was killed by ${end.signal}`) });
  const warnings = end.lines.filter((l) => l.startsWith('warning: '));
  if (warnings.length > 0) return { status: 'warning', message: warnings.map((w) => w.slice('warning: '.length)).join('; ') };
  const last = end.lines[lastIndexWhere(end.lines, (l) => l.trim() !== '' && !l.startsWith('{') && !l.startsWith('hint: '))];
  return { status: 'ok', message: last?.trim() ?? 'done' };
}

function lastIndexWhere(lines: readonly string[], test: (line: string) => boolean): number {
  for (let i = lines.length - 1; i >= 0; i--) if (test(lines[i]!)) return i;
  return -1;
}

export function formatMs(ms: number): string {
  if (ms < 120_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

async function runSteps(job: CronJobSpec, started: Date, o: RunOptions): Promise<Omit<RunRecord, 'job' | 'trigger' | 'startedAt'>> {
  const deadline = started.getTime() + job.timeoutMs;
  const judged: { status: RunStatus; message: string; hint?: string }[] = [];
  const tail: string[] = [];
  let exitCode: number | undefined;
  for (const step of job.steps) {
    // Every step runs (one database's failed backup does not stop the next), unless time is up or the service stops.
    if (Date.now() >= deadline || o.signal?.aborted === true) break;
    const end = await runStep(step, job.name, deadline, o);
    tail.push(...end.lines);
    judged.push(judgeStep(end, job.timeoutMs, job.name));
    if (end.code !== 0 && end.code !== null) exitCode = end.code;
  }
  if (judged.length === 0) judged.push(o.signal?.aborted === true ? { status: 'interrupted', message: 'stopped with the mono cron service before it began' } : { status: 'ok', message: 'nothing to do' });
  const worst = judged.reduce((a, b) => (RANK[b.status] > RANK[a.status] ? b : a));
  const messages = [...new Set(judged.filter((j) => j.status === worst.status).map((j) => j.message))];
  const endedAt = new Date();
  return {
    endedAt: endedAt.toISOString(),
    ms: endedAt.getTime() - started.getTime(),
    status: worst.status,
    message: messages.join('; '),
    ...(worst.hint === undefined ? {} : { hint: worst.hint }),
    ...(exitCode === undefined ? {} : { exitCode }),
    tail: tail.slice(-TAIL),
  };
}

/** A run as state.json keeps it: without its log tail. */
function withoutTail(run: RunRecord): RunRecord {
  const copy: { -readonly [K in keyof RunRecord]?: RunRecord[K] } = { ...run };
  delete copy.tail;
  return copy as RunRecord;
}

function outcomeOf(run: Pick<RunRecord, 'status' | 'message' | 'hint'>): JobOutcome | undefined {
  if (run.status === 'interrupted') return undefined;
  const status = run.status === 'ok' || run.status === 'skipped' ? 'ok' : run.status === 'warning' ? 'warning' : 'fail';
  return { status, message: run.message, ...(run.hint === undefined ? {} : { hint: run.hint }) };
}

/** Runs the job now, unless it is running already (then the skip is recorded); returns what was recorded. */
export async function runJob(job: CronJobSpec, o: RunOptions): Promise<RunRecord> {
  const { store } = o;
  const started = new Date();
  const mark = store.claim(job.name, o.trigger, process.pid, started);
  if (mark === undefined) {
    const held = store.running(job.name);
    const skipped: RunRecord = { job: job.name, trigger: o.trigger, startedAt: started.toISOString(), endedAt: started.toISOString(), ms: 0, status: 'skipped', message: `still running since ${held?.startedAt ?? '?'} (pid ${held?.pid ?? '?'}); this run is skipped` };
    store.record(skipped);
    return skipped;
  }
  try {
    const active = store.alerts()[job.name];
    const settings = job.selfAlerting ? undefined : readNotifySettings(notifyPath(o.monoDir), o.warn);
    let notified = job.selfAlerting;
    const base = { job: job.name, trigger: o.trigger, startedAt: started.toISOString() };
    let run: RunRecord;
    if (settings === undefined || (settings.webhook === undefined && settings.ping[job.name] === undefined)) {
      run = { ...base, ...(await runSteps(job, started, o)) };
    } else {
      let done: RunRecord | undefined;
      await withAlerts({
        settings,
        job: job.name,
        run: async () => (done = { ...base, ...(await runSteps(job, started, o)) }),
        judge: (r) => {
          const outcome = outcomeOf(r) ?? { status: 'fail', message: r.message };
          return outcome.status === 'ok' && active !== undefined ? resolvedOutcome(job.name, active, outcome) : outcome;
        },
        lines: () => done?.tail ?? [],
        warn: o.warn,
        webhookWanted: (outcome) => (notified = alertWanted(active, outcome, new Date())),
      });
      run = done!;
    }
    store.record(run);
    const outcome = outcomeOf(run);
    if (outcome !== undefined) {
      const alerts = { ...store.alerts() };
      const next = nextAlert(active, outcome, new Date(), notified);
      if (next === undefined) delete alerts[job.name];
      else alerts[job.name] = next;
      store.setAlerts(alerts);
    }
    store.updateJob(job.name, (s) => ({ ...s, lastRun: withoutTail(run) }));
    return run;
  } finally {
    store.release(job.name, mark);
  }
}
