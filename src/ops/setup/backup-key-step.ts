// With backups.encrypt: the box's own age key, made on the box so that its private half never leaves it. Backups are
// encrypted to it as well as to the operator's recipients: the box checks every backup it writes and runs restore
// drills with it. An existing key is never replaced (backups made for it would no longer open on the box).
import { shellScript, type Cmd } from '../../commands/cmd.js';
import type { Step } from '../../plan/step.js';
import { privateFileState } from './system-steps.js';

export function makeAgeKey(path: string, user: string): Cmd {
  return shellScript('set -e; umask 077; if [ ! -e "$1" ]; then runuser -u "$2" -- age-keygen -o "$1" 2>/dev/null; fi; chown -- "$2:$2" "$1"; chmod 0600 "$1"', [path, user], { privileged: true, mutates: true });
}

export function backupKeyStep(path: string, user: string): Step {
  return {
    id: 'backup-key',
    describe: `the box's age key for backups ${path} (0600, never replaced)`,
    check: (t) => privateFileState(t, path, user),
    async apply(t) {
      await t.run(makeAgeKey(path, user));
    },
  };
}
