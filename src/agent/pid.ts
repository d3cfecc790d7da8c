// Whether a process still runs on this box: the holders of the deploy and backup locks, handover runners, app instances.
import { errnoCode } from './fs-errors.js';

/** False only when the kernel says there is no such process (ESRCH); another user's process (EPERM) counts as running. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errnoCode(error) !== 'ESRCH';
  }
}
