// The notification settings the box keeps for itself (<root>/.mono/notify.json, 0600): written by mono setup, read by jobs.
import { readFileSync } from 'node:fs';
import type { Config } from '../config/types.js';

export const NOTIFY_FILE = 'notify.json';

export interface NotifySettings {
  readonly app: string;
  readonly webhook?: string;
  /** Ping URLs by job name (backup, restore_test, …). */
  readonly ping: Readonly<Record<string, string>>;
}

export function notifyPath(monoDir: string): string {
  return `${monoDir}/${NOTIFY_FILE}`;
}

/** The file's content. It holds the secret URLs: it travels on stdin and is never printed. */
export function notifySettingsJson(config: Pick<Config, 'app' | 'notifications'>): string {
  const { webhook, ping } = config.notifications;
  const settings: NotifySettings = {
    app: config.app,
    ...(webhook === undefined ? {} : { webhook: webhook.reveal() }),
    ping: Object.fromEntries(Object.entries(ping).map(([job, url]) => [job, url.reveal()])),
  };
  return JSON.stringify(settings, null, 2) + '\n';
}

function isStringRecord(value: unknown): value is Record<string, string> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((v) => typeof v === 'string');
}

/** Parses the file's text; a problem is described without quoting the content (it holds secrets). */
export function parseNotifySettings(text: string): NotifySettings | string {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return 'it is not valid JSON';
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return 'it is not a JSON object';
  const o = raw as Record<string, unknown>;
  if (typeof o['app'] !== 'string') return '"app" is not a string';
  if (o['webhook'] !== undefined && typeof o['webhook'] !== 'string') return '"webhook" is not a string';
  const ping = o['ping'] ?? {};
  if (!isStringRecord(ping)) return '"ping" is not an object of URLs';
  return { app: o['app'], ...(typeof o['webhook'] === 'string' && o['webhook'] !== '' ? { webhook: o['webhook'] } : {}), ping };
}

/** Reads the box's settings. A missing file means no alerts (a box set up before they existed); a broken one is a warning. */
export function readNotifySettings(path: string, warn: (message: string) => void): NotifySettings | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') warn(`cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'}): no alerts are sent; run mono setup again`);
    return undefined;
  }
  const settings = parseNotifySettings(text);
  if (typeof settings === 'string') {
    warn(`${path} is damaged (${settings}): no alerts are sent; run mono setup again`);
    return undefined;
  }
  return settings;
}
