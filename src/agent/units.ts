// The app's live systemd units per release, from `systemctl list-units` (a box without systemctl has none).
import { execFile } from 'node:child_process';
import { MonoError } from '../errors.js';
import { errnoCode, errorMessage } from './fs-errors.js';

export interface UnitRow {
  readonly unit: string;
  readonly release: string;
  /** The ACTIVE column: active, activating, deactivating, reloading… */
  readonly state: string;
}

/** Lists the app's template-unit instances (one systemctl call for every release). */
export type UnitLister = (app: string) => Promise<readonly UnitRow[]>;

export const LIVE_STATES: ReadonlySet<string> = new Set(['active', 'activating', 'deactivating', 'reloading']);

/** `systemctl list-units` pattern for every process type and release of the app. */
export function listUnitsArgv(app: string): string[] {
  return ['list-units', '--all', '--plain', '--no-legend', '--no-pager', `${app}-*@*.service`];
}

/** Parses `UNIT LOAD ACTIVE SUB DESCRIPTION` lines; keeps `<app>-<process>@<release>.service` units in a live state. */
export function parseUnits(app: string, stdout: string): UnitRow[] {
  const rows: UnitRow[] = [];
  for (const line of stdout.split('\n')) {
    const [unit, , state] = line.trim().split(/\s+/);
    if (unit === undefined || state === undefined || !LIVE_STATES.has(state)) continue;
    if (!unit.startsWith(`${app}-`) || !unit.endsWith('.service')) continue;
    const at = unit.lastIndexOf('@');
    if (at <= app.length + 1) continue;
    rows.push({ unit, release: unit.slice(at + 1, -'.service'.length), state });
  }
  return rows;
}

/** Runs systemctl. Missing systemctl, or a machine not booted with systemd, means no units; other failures throw. */
export const systemdUnits: UnitLister = (app) =>
  new Promise((resolve, reject) => {
    execFile('systemctl', listUnitsArgv(app), { timeout: 30_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error === null) return resolve(parseUnits(app, stdout));
      if (errnoCode(error) === 'ENOENT' || /not been booted with systemd|Failed to connect to bus/.test(stderr)) return resolve([]);
      reject(new MonoError('REMOTE_FAILED', `systemctl list-units failed: ${stderr.trim() || errorMessage(error)}`, { cause: error }));
    });
  });
