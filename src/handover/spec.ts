// What the CLI asks the box's handover runner to do (written to <root>/.mono/handover/<id>.json, 0600), and the state the
// runner reports back (<id>.state.json) while it runs and after.
import { MonoError } from '../errors.js';
import { RELEASE_ID } from '../release/protocol.js';
import type { HandoverStrategy } from '../config/types.js';

export type HandoverKind = 'deploy' | 'rollback';

export interface TenantRouting {
  /** /run/<app>/tenants: one symlink per pinned tenant; nginx routes a tenant there when its symlink exists. */
  readonly dir: string;
  /** A pinned tenant moves to the new release after this long even if it is still busy. */
  readonly pinTimeoutMs: number;
}

export interface HandoverSpec {
  readonly id: string;
  readonly kind: HandoverKind;
  readonly app: string;
  readonly root: string;
  readonly runDir: string;
  readonly helper: string;
  readonly release: string;
  /** Long-running process types, web first. */
  readonly processes: readonly string[];
  /** How the web process listens: its own socket, or a loopback port (MONO_PORT) bridged to the socket. */
  readonly listen: 'socket' | 'port';
  /** How traffic moves (handover.strategy): nginx's route, or the public socket every version shares, or bind retry. */
  readonly strategy: HandoverStrategy;
  readonly healthPath: string;
  readonly healthTimeoutMs: number;
  readonly verifyWindowMs: number;
  /** Drain budget per process type (the units' TimeoutStopSec). */
  readonly drainBudgetsMs: Readonly<Record<string, number>>;
  /** A request as clients send it (through nginx, or to the public address) that must reach the new release before the old one is touched. */
  readonly confirm: { readonly url: string; readonly host: string };
  readonly tenants?: TenantRouting;
  /** After a deploy: keep this many releases. */
  readonly keep?: number;
  /** Who asked (audit log). */
  readonly by: string;
  readonly message?: string;
}

export type HandoverPhase = 'starting' | 'switched' | 'pinned' | 'draining' | 'done' | 'failed' | 'switched-back';

export const TERMINAL: ReadonlySet<HandoverPhase> = new Set(['done', 'failed', 'switched-back']);

export interface Pin {
  readonly tenant: string;
  readonly release: string;
  readonly since: string;
}

export interface HandoverState {
  readonly id: string;
  readonly kind: HandoverKind;
  readonly release: string;
  readonly from?: string;
  readonly phase: HandoverPhase;
  /** The runner's process (its unit is <app>-handover-<id>.service). */
  readonly pid: number;
  readonly startedAt: string;
  readonly updatedAt: string;
  /** From "new version healthy" to "traffic switched and confirmed through nginx". */
  readonly switchMs?: number;
  readonly pins: readonly Pin[];
  /** Old instances told to drain, and when. */
  readonly draining: readonly { readonly unit: string; readonly since: string }[];
  /** How the drained ones ended (systemd's Result). */
  readonly drained: readonly { readonly unit: string; readonly result: string; readonly seconds: number }[];
  readonly error?: { readonly code: string; readonly message: string; readonly hint?: string; readonly details: readonly string[] };
}

/** A phase the CLI can wait for: the one named, or any later one. */
export function reached(phase: HandoverPhase, wanted: 'switched' | 'done'): boolean {
  if (TERMINAL.has(phase)) return true;
  if (wanted === 'done') return false;
  return phase !== 'starting';
}

/** Handover ids name files and a systemd unit: the release id plus a suffix that makes two handovers to one release differ. */
export const HANDOVER_ID = /^\d{8}T\d{6}Z-[0-9a-f]{8}\.[0-9a-z]{1,16}$/;

export function newHandoverId(release: string, now = Date.now()): string {
  return `${release}.${now.toString(36)}`;
}

export function handoverUnit(app: string, id: string): string {
  return `${app}-handover-${id}.service`;
}

function str(v: unknown, name: string): string {
  if (typeof v !== 'string' || v === '') throw new MonoError('USAGE', `handover spec: "${name}" must be a non-empty string`);
  return v;
}

function ms(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new MonoError('USAGE', `handover spec: "${name}" must be a non-negative integer`);
  return v;
}

/** Checks a spec that came over the wire (the session writes only what passes). */
export function parseHandoverSpec(value: unknown): HandoverSpec {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new MonoError('USAGE', 'handover spec must be a JSON object');
  const v = value as Record<string, unknown>;
  const id = str(v['id'], 'id');
  if (!HANDOVER_ID.test(id)) throw new MonoError('USAGE', `handover spec: bad id ${JSON.stringify(id)}`);
  const release = str(v['release'], 'release');
  if (!RELEASE_ID.test(release) || !id.startsWith(`${release}.`)) throw new MonoError('USAGE', `handover spec: bad release ${JSON.stringify(release)}`);
  const kind = v['kind'];
  if (kind !== 'deploy' && kind !== 'rollback') throw new MonoError('USAGE', 'handover spec: "kind" must be deploy or rollback');
  const processes = v['processes'];
  if (!Array.isArray(processes) || !processes.every((p) => typeof p === 'string' && /^[a-z][a-z0-9_-]*$/.test(p))) throw new MonoError('USAGE', 'handover spec: "processes" must be process type names');
  const budgets = v['drainBudgetsMs'];
  if (typeof budgets !== 'object' || budgets === null) throw new MonoError('USAGE', 'handover spec: "drainBudgetsMs" must be an object');
  const drainBudgetsMs = Object.fromEntries(Object.entries(budgets).map(([k, b]) => [k, ms(b, `drainBudgetsMs.${k}`)]));
  const confirm = v['confirm'] as Record<string, unknown> | undefined;
  const tenants = v['tenants'] as Record<string, unknown> | undefined;
  const keep = v['keep'];
  const listen = v['listen'] ?? 'socket';
  if (listen !== 'socket' && listen !== 'port') throw new MonoError('USAGE', 'handover spec: "listen" must be socket or port');
  const strategy = v['strategy'] ?? 'nginx';
  if (strategy !== 'nginx' && strategy !== 'socket' && strategy !== 'bind-retry') throw new MonoError('USAGE', 'handover spec: "strategy" must be nginx, socket or bind-retry');
  const message = v['message'];
  return {
    id,
    kind,
    app: str(v['app'], 'app'),
    root: str(v['root'], 'root'),
    runDir: str(v['runDir'], 'runDir'),
    helper: str(v['helper'], 'helper'),
    release,
    processes: processes as string[],
    listen,
    strategy,
    healthPath: str(v['healthPath'], 'healthPath'),
    healthTimeoutMs: ms(v['healthTimeoutMs'], 'healthTimeoutMs'),
    verifyWindowMs: ms(v['verifyWindowMs'], 'verifyWindowMs'),
    drainBudgetsMs,
    confirm: { url: str(confirm?.['url'], 'confirm.url'), host: str(confirm?.['host'], 'confirm.host') },
    ...(tenants === undefined ? {} : { tenants: { dir: str(tenants['dir'], 'tenants.dir'), pinTimeoutMs: ms(tenants['pinTimeoutMs'], 'tenants.pinTimeoutMs') } }),
    ...(keep === undefined ? {} : { keep: ms(keep, 'keep') }),
    by: str(v['by'], 'by'),
    ...(typeof message === 'string' ? { message } : {}),
  };
}
