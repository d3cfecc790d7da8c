// What mono cron keeps on the box under <root>/.mono/cron/: each job's next due time and last run (state.json), every run
// (history.jsonl), the runs under way (running/<job>.json, which also keeps a job from overlapping itself), and open alerts.
import { appendFileSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { Alerts } from '../../cron/alerts.js';
import type { JobName } from '../../cron/names.js';
import { readRecord } from '../backup/inventory.js';
import { errnoCode } from '../fs-errors.js';
import { pidAlive } from '../pid.js';

export type RunStatus = 'ok' | 'warning' | 'fail' | 'skipped' | 'timeout' | 'interrupted';
export type Trigger = 'schedule' | 'catch-up' | 'manual';

export interface RunRecord {
  readonly job: JobName;
  readonly trigger: Trigger;
  readonly startedAt: string;
  readonly endedAt: string;
  readonly ms: number;
  readonly status: RunStatus;
  readonly message: string;
  readonly hint?: string;
  readonly exitCode?: number;
  /** The last lines the run printed (history only). */
  readonly tail?: readonly string[];
}

export interface JobState {
  /** The scheduled time the job waits for; a time in the past when the service starts is a missed run. */
  readonly nextDueAt?: string;
  readonly cron?: string;
  readonly lastRun?: RunRecord;
}

export interface CronState {
  readonly jobs: Readonly<Record<string, JobState>>;
}

export interface RunningMark {
  readonly pid: number;
  readonly startedAt: string;
  readonly trigger: Trigger;
}

const HISTORY_KEEP = 2000;

export class CronStore {
  readonly dir: string;
  constructor(monoDir: string) {
    this.dir = `${monoDir}/cron`;
  }

  #ensure(): void {
    mkdirSync(`${this.dir}/running`, { recursive: true, mode: 0o700 });
  }

  #write(name: string, value: unknown): void {
    this.#ensure();
    const file = `${this.dir}/${name}`;
    writeFileSync(`${file}.tmp`, JSON.stringify(value) + '\n', { mode: 0o600 });
    renameSync(`${file}.tmp`, file);
  }

  state(): CronState {
    return readRecord<CronState>(`${this.dir}/state.json`) ?? { jobs: {} };
  }

  updateJob(job: string, change: (s: JobState) => JobState): void {
    const state = this.state();
    this.#write('state.json', { jobs: { ...state.jobs, [job]: change(state.jobs[job] ?? {}) } });
  }

  alerts(): Alerts {
    return readRecord<Alerts>(`${this.dir}/alerts.json`) ?? {};
  }

  setAlerts(alerts: Alerts): void {
    this.#write('alerts.json', alerts);
  }

  /** Appends a run; keeps the newest HISTORY_KEEP lines. */
  record(run: RunRecord): void {
    this.#ensure();
    const file = `${this.dir}/history.jsonl`;
    appendFileSync(file, JSON.stringify(run) + '\n', { mode: 0o600 });
    if ((statSync(file, { throwIfNoEntry: false })?.size ?? 0) > HISTORY_KEEP * 600) {
      const lines = readFileSync(file, 'utf8').trimEnd().split('\n').slice(-HISTORY_KEEP);
      writeFileSync(`${file}.tmp`, lines.join('\n') + '\n', { mode: 0o600 });
      renameSync(`${file}.tmp`, file);
    }
  }

  /** The newest runs, newest last (of one job, or of all). */
  history(job?: string, last = 20): RunRecord[] {
    let text = '';
    try {
      text = readFileSync(`${this.dir}/history.jsonl`, 'utf8');
    } catch {
      return [];
    }
    const runs = text.split('\n').flatMap((line) => {
      try {
        return line === '' ? [] : [JSON.parse(line) as RunRecord];
      } catch {
        return [];
      }
    });
    return runs.filter((r) => job === undefined || r.job === job).slice(-last);
  }

  /**
   * Marks the job as running for this process; undefined when a live process already runs it (a mark left by a process
   * that is gone is taken over). The mark is created with O_EXCL, so two processes never both get it.
   */
  claim(job: string, trigger: Trigger, pid = process.pid, now = new Date()): RunningMark | undefined {
    this.#ensure();
    const file = this.#runningFile(job);
    const mark: RunningMark = { pid, startedAt: now.toISOString(), trigger };
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        writeFileSync(file, JSON.stringify(mark) + '\n', { mode: 0o600, flag: 'wx' });
        return mark;
      } catch (error) {
        if (errnoCode(error) !== 'EEXIST') throw error;
      }
      const held = this.running(job);
      if (held !== undefined) return undefined;
      rmSync(file, { force: true });
    }
    return undefined;
  }

  /** The live run of a job, if any. */
  running(job: string): RunningMark | undefined {
    const held = readRecord<RunningMark>(this.#runningFile(job));
    return held !== undefined && Number.isSafeInteger(held.pid) && held.pid > 0 && pidAlive(held.pid) ? held : undefined;
  }

  release(job: string, mark: RunningMark): void {
    if (readRecord<RunningMark>(this.#runningFile(job))?.startedAt === mark.startedAt) rmSync(this.#runningFile(job), { force: true });
  }

  #runningFile(job: string): string {
    return `${this.dir}/running/${job}.json`;
  }
}
