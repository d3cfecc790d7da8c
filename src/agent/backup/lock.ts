// One backup at a time per backups folder: an atomic mkdir of <dir>/.lock with the holder's pid (stale once it is gone).
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { MonoError } from '../../errors.js';
import { errnoCode } from '../fs-errors.js';
import { pidAlive } from '../pid.js';

interface Holder {
  readonly pid: number;
  readonly since: string;
  readonly db: string;
}

export function takeBackupLock(dir: string, db: string, warn: (m: string) => void): () => void {
  const lock = `${dir}/.lock`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      mkdirSync(lock, { mode: 0o700 });
      writeFileSync(`${lock}/holder.json`, JSON.stringify({ pid: process.pid, since: new Date().toISOString(), db }), { mode: 0o600 });
      let held = true;
      // Once only: a second call (the interrupt handler, then the run's own finally) must not remove a later run's lock.
      return () => {
        if (held) rmSync(lock, { recursive: true, force: true });
        held = false;
      };
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') throw new MonoError('PREREQ_MISSING', `the backups folder ${dir} does not exist`, { hint: 'run `mono setup`: it creates it (0700, owned by the app user)' });
      if (errnoCode(error) !== 'EEXIST') throw error;
    }
    let holder: Holder | undefined;
    try {
      holder = JSON.parse(readFileSync(`${lock}/holder.json`, 'utf8')) as Holder;
    } catch {
      holder = undefined;
    }
    if (holder !== undefined && pidAlive(holder.pid)) {
      throw new MonoError('LOCKED', `another backup is running (database ${holder.db}, pid ${holder.pid}, since ${holder.since})`, { hint: 'wait for it to finish: one backup runs at a time' });
    }
    warn(`a backup that was killed left its lock behind (${holder === undefined ? 'no holder recorded' : `pid ${holder.pid}, since ${holder.since}`}): taking it over`);
    rmSync(lock, { recursive: true, force: true });
  }
  throw new MonoError('LOCKED', 'could not take the backup lock', { hint: 'run the backup again' });
}
