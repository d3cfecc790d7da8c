// The TLS check: when the certificates nginx serves expire (only the world-readable certificate files are read), and its judge.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { errnoCode, errorMessage } from '../fs-errors.js';
import { withHint, type CheckResult } from './result.js';

export interface CertExpiry {
  readonly file: string;
  readonly subject: string;
  /** ISO 8601. */
  readonly notAfter: string;
  readonly daysLeft: number;
}

/** A certificate file that could not be read or parsed. */
export interface CertProblem {
  readonly file: string;
  readonly error: string;
}

const DAY_MS = 86_400_000;

export const RENEW_HINT = 'renew the certificate (certbot renew, or from your provider) and reload nginx';
export const CERT_FILE_HINT = 'check the certificate paths (checks.tls.certificates): PEM files readable by the deploy user';

/** Whole days until `notAfter` (negative once expired). */
export function daysLeft(notAfter: string, now: Date): number {
  return Math.floor((Date.parse(notAfter) - now.getTime()) / DAY_MS);
}

/** The first certificate of a PEM file (a chain file starts with the server's own). Throws when it cannot be read or parsed. */
export function certificateExpiry(file: string, now = new Date()): CertExpiry {
  return parseCertificate(file, readFileSync(file), now);
}

/** certificateExpiry, or why the file could not be used. */
export function readCertificate(file: string, now = new Date()): CertExpiry | CertProblem {
  let pem: Buffer;
  try {
    pem = readFileSync(file);
  } catch (error) {
    return { file, error: errnoCode(error) === 'ENOENT' ? 'does not exist' : `cannot be read: ${errorMessage(error)}` };
  }
  try {
    return parseCertificate(file, pem, now);
  } catch (error) {
    return { file, error: `is not a PEM certificate: ${errorMessage(error)}` };
  }
}

function parseCertificate(file: string, pem: Buffer, now: Date): CertExpiry {
  const cert = new X509Certificate(pem);
  const notAfter = new Date(cert.validTo).toISOString();
  return { file, subject: cert.subject.split('\n').join(', '), notAfter, daysLeft: daysLeft(notAfter, now) };
}

/** Fails when a file cannot be used, or a certificate has expired or expires within `warnDays`. */
export function judgeTls(certs: readonly (CertExpiry | CertProblem)[], o: { warnDays: number; now: Date }): CheckResult {
  const details = { warnDays: o.warnDays, certificates: certs };
  const problems: string[] = [];
  let hint: string | undefined;
  const valid: CertExpiry[] = [];
  for (const c of certs) {
    if ('error' in c) {
      problems.push(`${c.file} ${c.error}`);
      hint ??= CERT_FILE_HINT;
      continue;
    }
    const left = Date.parse(c.notAfter) - o.now.getTime();
    if (left <= 0) {
      problems.push(`${c.file} (${c.subject}) expired on ${c.notAfter} (${plural(Math.floor(-left / DAY_MS), 'day')} ago)`);
      hint = RENEW_HINT;
    } else if (left <= o.warnDays * DAY_MS) {
      problems.push(`${c.file} (${c.subject}) expires in ${plural(daysLeft(c.notAfter, o.now), 'day')}, on ${c.notAfter} (warning at ${plural(o.warnDays, 'day')})`);
      hint = RENEW_HINT;
    } else valid.push(c);
  }
  if (problems.length > 0) return { check: 'tls', status: 'fail', message: problems.join('; '), ...withHint(hint), details };
  const first = [...valid].sort((a, b) => Date.parse(a.notAfter) - Date.parse(b.notAfter))[0];
  const message = first === undefined ? 'no certificates to check' : `${plural(valid.length, 'certificate')} valid, the first to expire: ${first.file} in ${plural(daysLeft(first.notAfter, o.now), 'day')}`;
  return { check: 'tls', status: 'ok', message, details };
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
