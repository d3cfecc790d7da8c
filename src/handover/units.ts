// Builders for what a deploy asks of systemd: through the privileged helper (sudo) and read-only listings.
import { probe, shellScript, type Cmd } from '../commands/cmd.js';

export function priv(helper: string, ...args: string[]): Cmd {
  return { argv: [helper, ...args], privileged: true, mutates: !['is-active', 'status', 'logs'].includes(args[0] ?? '') };
}

/** Every instance unit of the app: "<unit> <load> <active> <sub> …" lines. */
export function listInstances(app: string): Cmd {
  return probe(['systemctl', 'list-units', '--all', '--plain', '--no-legend', '--no-pager', `${app}-*@*.service`]);
}

export interface Instance {
  readonly unit: string;
  readonly process: string;
  readonly release: string;
  readonly active: string;
}

export function parseInstances(app: string, text: string): Instance[] {
  const pattern = new RegExp(`^${app}-([a-z][a-z0-9_-]*)@([^.\\s]+(?:\\.[^.\\s]+)*)\\.service$`);
  return text
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .flatMap(([unit = '', , active = '']) => {
      const m = pattern.exec(unit);
      return m?.[1] === undefined || m[2] === undefined ? [] : [{ unit, process: m[1], release: m[2], active }];
    });
}

/**
 * Polls the new web instance through its own socket until GET <path> answers 2xx, the unit fails, or time runs out.
 * Exit 0: healthy. Exit 1: timed out. Exit 2: the unit failed or systemd already restarted it (crashed while starting).
 */
export function healthProbe(socket: string, path: string, unit: string, timeoutS: number): Cmd {
  return shellScript(
    'end=$(( $(date +%s) + $4 )); while :; do case "$(curl -sS -o /dev/null -w "%{http_code}" --max-time 2 --unix-socket "$1" "http://localhost$2" 2>/dev/null)" in 2??) exit 0 ;; esac; if systemctl is-failed --quiet "$3" || [ "$(systemctl show -P NRestarts "$3")" != 0 ]; then exit 2; fi; if [ "$(date +%s)" -ge "$end" ]; then exit 1; fi; sleep 0.2; done',
    [socket, path, unit, String(timeoutS)],
    { okCodes: [0, 1, 2], mutates: false },
  );
}

/**
 * Watches a unit for `ms` milliseconds. Exit 0: it stayed up. Exit 2: it failed, is restarting, or was restarted.
 */
export function watchUnit(unit: string, ms: number): Cmd {
  return shellScript(
    'end=$(( $(date +%s%N) / 1000000 + $2 )); while [ "$(( $(date +%s%N) / 1000000 ))" -lt "$end" ]; do if ! systemctl is-active --quiet "$1" || [ "$(systemctl show -P NRestarts "$1")" != 0 ]; then exit 2; fi; sleep 0.2; done',
    [unit, String(ms)],
    { okCodes: [0, 2], mutates: false },
  );
}

/** The release a current.sock target names (/run/shop/<id>.sock), if any. */
export function releaseOfSocket(readlinkOutput: string): string | undefined {
  const m = /\/([^/\s]+)\.sock$/.exec(readlinkOutput.trim());
  return m?.[1];
}
