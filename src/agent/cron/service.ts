// The scheduler behind mono cron (`mono agent cron serve`, the <app>-cron service): node-cron tasks for the jobs in
// cron.json, a catch-up run for each job that missed its time while the service was stopped, and a reload of cron.json
// whenever it changes (or on SIGHUP) that leaves running jobs alone.
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import cron, { type ScheduledTask } from 'node-cron';
import type { JobName } from '../../cron/names.js';
import { cronSpecPath, parseCronSpec, type CronJobSpec, type CronSpec } from '../../cron/spec.js';
import { errorMessage } from '../fs-errors.js';
import { nextRunWith } from './listing.js';
import { formatMs, runJob } from './runner.js';
import { CronStore, type RunRecord, type Trigger } from './store.js';

export interface SchedulerLog {
  (line: string): void;
}

export class Scheduler {
  readonly #monoDir: string;
  readonly #store: CronStore;
  readonly #log: SchedulerLog;
  readonly #tasks = new Map<JobName, { readonly job: CronJobSpec; readonly task: ScheduledTask }>();
  readonly #running = new Map<JobName, Promise<RunRecord>>();
  readonly #abort = new AbortController();
  #loaded: string | undefined;

  constructor(monoDir: string, log: SchedulerLog) {
    this.#monoDir = monoDir;
    this.#store = new CronStore(monoDir);
    this.#log = log;
  }

  get specPath(): string {
    return cronSpecPath(this.#monoDir);
  }

  /** Loads cron.json and schedules its jobs; at start-up, runs once each job that missed its time. */
  start(): void {
    const spec = this.#read();
    if (spec === undefined) throw new Error(`cannot start without a valid ${this.specPath}`);
    this.#apply(spec, true);
    watchFile(this.specPath, { interval: 1000 }, () => this.reload('cron.json changed'));
  }

  /** Reads cron.json again and applies what changed; a bad file is reported and the old schedule kept. */
  reload(why: string): void {
    const spec = this.#read();
    if (spec !== undefined) this.#apply(spec, false, why);
  }

  #read(): CronSpec | undefined {
    let text: string;
    try {
      text = readFileSync(this.specPath, 'utf8');
    } catch (error) {
      this.#log(`error: cannot read ${this.specPath}: ${errorMessage(error)}; keeping the current schedule`);
      return undefined;
    }
    if (text === this.#loaded) return undefined;
    try {
      const spec = parseCronSpec(text);
      this.#loaded = text;
      return spec;
    } catch (error) {
      this.#log(`error: ${errorMessage(error)}; keeping the current schedule`);
      return undefined;
    }
  }

  #apply(spec: CronSpec, startup: boolean, why?: string): void {
    const wanted = new Map(spec.jobs.map((j) => [j.name, j]));
    const changed: string[] = [];
    for (const [name, { task }] of this.#tasks) {
      if (wanted.has(name)) continue;
      void task.destroy();
      this.#tasks.delete(name);
      changed.push(`${name} removed`);
    }
    const state = this.#store.state();
    const now = new Date();
    for (const job of spec.jobs) {
      const old = this.#tasks.get(job.name);
      if (old !== undefined && JSON.stringify(old.job) === JSON.stringify(job)) continue;
      if (old !== undefined) void old.task.destroy();
      // A run under way keeps going with the steps it started with; the next one uses the new spec.
      const task = cron.schedule(job.cron, () => this.#fire(job.name, 'schedule'), { name: job.name });
      this.#tasks.set(job.name, { job, task });
      changed.push(`${job.name} ${old === undefined ? 'at' : 'now at'} "${job.cron}"`);
      const due = state.jobs[job.name]?.nextDueAt;
      if (startup && due !== undefined && Date.parse(due) < now.getTime() - 1000) {
        this.#log(`${job.name}: missed its run at ${due} while the service was stopped; running it now`);
        this.#fire(job.name, 'catch-up');
      } else if (old === undefined || old.job.cron !== job.cron || due === undefined) {
        this.#setDue(job.name);
      }
    }
    if (changed.length > 0) this.#log(`${startup ? 'started' : `reloaded (${why ?? 'reload'})`}: ${changed.join(', ')}`);
    else if (!startup) this.#log(`reloaded (${why ?? 'reload'}): no change`);
  }

  #setDue(name: JobName): void {
    const entry = this.#tasks.get(name);
    if (entry === undefined) return;
    const next = nextRunWith(cron, entry.job.cron);
    this.#store.updateJob(name, (s) => ({ ...s, cron: entry.job.cron, ...(next === undefined ? {} : { nextDueAt: next.toISOString() }) }));
  }

  #fire(name: JobName, trigger: Trigger): void {
    const entry = this.#tasks.get(name);
    if (entry === undefined || this.#abort.signal.aborted) return;
    const { job } = entry;
    if (this.#running.has(name)) {
      // Recorded by runJob as skipped, with the run that holds it.
      void runJob(job, this.#options(name, trigger)).then((r) => this.#log(`${name}: ${r.message}`));
      return;
    }
    this.#log(`${name}: started (${trigger})`);
    const run = runJob(job, this.#options(name, trigger))
      .then((r) => {
        this.#log(`${name}: ${r.status} in ${formatMs(r.ms)}: ${r.message}`);
        // An interrupted run keeps its due time, so that the next start catches it up.
        if (r.status !== 'interrupted') this.#setDue(name);
        return r;
      })
      .catch((error: unknown) => {
        this.#log(`error: ${name}: ${errorMessage(error)}`);
        throw error;
      })
      .finally(() => this.#running.delete(name));
    run.catch(() => undefined);
    this.#running.set(name, run);
  }

  #options(name: JobName, trigger: Trigger): Parameters<typeof runJob>[1] {
    return {
      store: this.#store,
      monoDir: this.#monoDir,
      trigger,
      signal: this.#abort.signal,
      onLine: (line) => this.#log(`${name} | ${line}`),
      warn: (m) => this.#log(`warning: ${m}`),
    };
  }

  /** Stops scheduling, stops the runs under way (recorded as interrupted) and waits for them. */
  async stop(): Promise<void> {
    unwatchFile(this.specPath);
    for (const { task } of this.#tasks.values()) void task.destroy();
    this.#tasks.clear();
    if (this.#running.size > 0) this.#log(`stopping: ${[...this.#running.keys()].join(', ')} ${this.#running.size === 1 ? 'is' : 'are'} stopped and will run again at the next start`);
    this.#abort.abort();
    await Promise.allSettled(this.#running.values());
  }
}
