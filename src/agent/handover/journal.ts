// A handover's record on the box, under <root>/.mono/handover/: <id>.json (the spec and the lock token, 0600), <id>.events
// (one JSON line per log line, event and state change, appended as they happen) and <id>.state.json (the latest state,
// replaced atomically). The CLI follows the events; `mono handover status` reads the states.
import { appendFileSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { MonoError } from '../../errors.js';
import { HANDOVER_ID, parseHandoverSpec, type HandoverSpec, type HandoverState } from '../../handover/spec.js';
import type { Say } from '../../handover/activate.js';
import { errnoCode } from '../fs-errors.js';
import { isRecord } from '../stdin.js';

export type JournalLine =
  | { readonly type: 'log'; readonly time: string; readonly level: 'info' | 'warn'; readonly message: string }
  | { readonly type: 'event'; readonly time: string; readonly name: string; readonly fields: Record<string, unknown> }
  | { readonly type: 'state'; readonly time: string; readonly state: HandoverState }
  /** Written by `follow` only, last: the state it stopped at, and whether the runner is gone without finishing. */
  | { readonly type: 'end'; readonly time: string; readonly state: HandoverState | undefined; readonly lost: boolean };

export const handoverFiles = (dir: string, id: string) => ({
  spec: `${dir}/${id}.json`,
  events: `${dir}/${id}.events`,
  state: `${dir}/${id}.state.json`,
});

export function checkId(id: string | undefined): string {
  if (id === undefined || !HANDOVER_ID.test(id)) throw new MonoError('USAGE', `bad handover id ${JSON.stringify(id)}`, { hint: 'ids look like 20261130T232000Z-1a2b3c4d.m3x9k2: see `mono handover status`' });
  return id;
}

/** Written by the deploy's session (as the app user), read by the runner: 0600, it carries the lock token. */
export function writeSpec(dir: string, spec: HandoverSpec, lockToken: string): void {
  const file = handoverFiles(dir, spec.id).spec;
  writeFileSync(`${file}.tmp`, JSON.stringify({ spec, lockToken }) + '\n', { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
}

export function readSpec(dir: string, id: string): { spec: HandoverSpec; lockToken: string } {
  const value = JSON.parse(readFileSync(handoverFiles(dir, id).spec, 'utf8')) as unknown;
  if (!isRecord(value) || typeof value['lockToken'] !== 'string') throw new MonoError('USAGE', `${id}.json is not a handover spec`);
  return { spec: parseHandoverSpec(value['spec']), lockToken: value['lockToken'] };
}

export function readState(dir: string, id: string): HandoverState | undefined {
  try {
    return JSON.parse(readFileSync(handoverFiles(dir, id).state, 'utf8')) as HandoverState;
  } catch (error) {
    if (errnoCode(error) === 'ENOENT' || error instanceof SyntaxError) return undefined;
    throw error;
  }
}

/** Every handover on record, the most recently changed first (a running handover rewrites its state file as it goes). */
export function listStates(dir: string): HandoverState[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return [];
    throw error;
  }
  return names
    .filter((n) => n.endsWith('.state.json'))
    .map((n) => ({ n, mtime: statSync(`${dir}/${n}`, { throwIfNoEntry: false })?.mtimeMs ?? 0 }))
    .sort((a, b) => b.mtime - a.mtime)
    .flatMap(({ n }) => readState(dir, n.slice(0, -'.state.json'.length)) ?? []);
}

/** The runner's side: what it says goes to the events file, and every state change also to the state file. */
export class Journal implements Say {
  readonly #files: ReturnType<typeof handoverFiles>;
  #state: HandoverState;

  constructor(dir: string, initial: HandoverState) {
    this.#files = handoverFiles(dir, initial.id);
    this.#state = initial;
    this.update({});
  }

  get state(): HandoverState {
    return this.#state;
  }

  info(message: string): void {
    this.#append({ type: 'log', time: new Date().toISOString(), level: 'info', message });
  }

  warn(message: string): void {
    this.#append({ type: 'log', time: new Date().toISOString(), level: 'warn', message });
  }

  event(name: string, fields: Record<string, unknown> = {}): void {
    this.#append({ type: 'event', time: new Date().toISOString(), name, fields });
  }

  update(patch: Partial<HandoverState>): void {
    const time = new Date().toISOString();
    this.#state = { ...this.#state, ...patch, updatedAt: time };
    writeFileSync(`${this.#files.state}.tmp`, JSON.stringify(this.#state) + '\n', { mode: 0o600 });
    renameSync(`${this.#files.state}.tmp`, this.#files.state);
    this.#append({ type: 'state', time, state: this.#state });
  }

  #append(line: JournalLine): void {
    appendFileSync(this.#files.events, JSON.stringify(line) + '\n', { mode: 0o600 });
  }
}
