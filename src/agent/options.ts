// Parsing of the agent's numeric and name options (commander hands them over as strings).
import { MonoError } from '../errors.js';

/** A non-negative integer option such as --keep or --lines. */
export function parseCount(value: string | undefined, option: string, fallback?: number): number {
  if (value === undefined) {
    if (fallback !== undefined) return fallback;
    throw new MonoError('USAGE', `${option} is required`);
  }
  if (!/^\d{1,9}$/.test(value)) throw new MonoError('USAGE', `${option} must be a non-negative integer, got ${JSON.stringify(value)}`);
  return Number(value);
}

/** Same rule as `app` in mono.yml: it becomes part of systemd unit names and glob patterns. */
export const APP_NAME = /^[a-z][a-z0-9-]{0,30}$/;

export function parseApp(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!APP_NAME.test(value)) throw new MonoError('USAGE', `--app must be an app name (lower case letters, digits and "-"), got ${JSON.stringify(value)}`);
  return value;
}
