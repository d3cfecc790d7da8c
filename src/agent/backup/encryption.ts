// age encryption of backups on the box: the operator's recipients from mono.yml, plus the box's own key (made by
// mono setup), so that the box can check what it wrote and run restore drills, while a lost box is recovered with the
// operator's key alone.
import { existsSync } from 'node:fs';
import { MonoError } from '../../errors.js';
import { capture } from './pipe.js';
import type { BackupEncryption } from './run.js';

export const AGE_RECIPIENT = /^age1[0-9a-z]{20,}$/;
/** An age identity file: comment lines and AGE-SECRET-KEY-1… lines, nothing else. */
export const AGE_IDENTITY = /^(?:(?:#[^\n]*|AGE-SECRET-KEY-1[0-9A-Z]+)\n?)+$/;

/** Where the box's age identity lives (0600, owned by the app user; mono setup makes it). */
export function boxIdentityPath(root: string): string {
  return `${root}/.ssh/backup_age.key`;
}

/** "age1…,age1…" from the CLI: the recipients, with the box's own first and without repeats. */
export async function boxEncryption(root: string, recipients: string): Promise<BackupEncryption> {
  const given = recipients.split(',').filter(Boolean);
  if (given.length === 0 || !given.every((r) => AGE_RECIPIENT.test(r))) throw new MonoError('USAGE', '--encrypt must list age public keys (age1…), separated by commas');
  const identity = boxIdentityPath(root);
  if (!existsSync(identity)) {
    throw new MonoError('PREREQ_MISSING', `backups.encrypt is set but the box has no age key (${identity})`, { hint: 'run mono setup: it makes the box\'s key (and installs age); nothing was written' });
  }
  const own = await capture(['age-keygen', '-y', identity]);
  return { identity, recipients: [...new Set([own, ...given])] };
}
