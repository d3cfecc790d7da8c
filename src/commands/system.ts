// Builders for the box's system tools: apt, users, systemd, nginx, visudo and the OS facts probe.
import { change, probe, shellScript, type Cmd } from './cmd.js';

/** Facts in one round trip: "key=value" lines (os, version, uid, sudo, node, pg server majors, nginx group). */
export function facts(): Cmd {
  return shellScript(
    [
      '. /etc/os-release 2>/dev/null; echo "os=${ID:-unknown}"; echo "os_like=${ID_LIKE:-}"; echo "os_version=${VERSION_ID:-}"; echo "os_name=${PRETTY_NAME:-}"',
      'echo "uid=$(id -u)"',
      'if [ "$(id -u)" = 0 ]; then echo sudo=root; elif sudo -n true 2>/dev/null; then echo sudo=yes; else echo sudo=no; fi',
      'echo "arch=$(uname -m)"',
      'echo "node=$(dpkg-query -W -f "\${Version}" nodejs 2>/dev/null || true)"',
      'echo "pg_servers=$(ls /usr/lib/postgresql 2>/dev/null | tr "\\n" " ")"',
      'echo "systemd=$(cat /proc/1/comm 2>/dev/null)"',
    ].join('; '),
    [],
    { mutates: false },
  );
}

/** "<package> <status>" for each package (status "installed" or anything else). */
export function packageStatus(packages: readonly string[]): Cmd {
  return probe(['dpkg-query', '-W', '-f', '${Package} ${db:Status-Status}\\n', ...packages], { okCodes: [0, 1] });
}

export function aptUpdate(): Cmd {
  return change(['env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', 'update', '-q'], { privileged: true });
}

export function aptInstall(packages: readonly string[]): Cmd {
  return change(['env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', 'install', '-y', '-q', '--no-install-recommends', '-o', 'Dpkg::Options::=--force-confold', ...packages], { privileged: true });
}

/** "<name>:<uid>:<gid>:<home>:<shell>" from the passwd database, or nothing (exit 2) when the user is missing. */
export function getUser(name: string): Cmd {
  return probe(['getent', 'passwd', name], { okCodes: [0, 2] });
}

export function passwordField(name: string): Cmd {
  return probe(['getent', 'shadow', name], { privileged: true, okCodes: [0, 2] });
}

export function addSystemUser(name: string, home: string): Cmd {
  return change(['useradd', '--system', '--user-group', '--home-dir', home, '--no-create-home', '--shell', '/bin/bash', '--comment', 'mono app user', name], { privileged: true });
}

/** "*" = no password can match, but the account is not locked (sshd with UsePAM=no refuses locked accounts even for keys). */
export function disablePassword(name: string): Cmd {
  return change(['usermod', '--password', '*', name], { privileged: true });
}

export function systemdVerify(unitPath: string): Cmd {
  return probe(['systemd-analyze', 'verify', '--man=no', unitPath], { privileged: true });
}

export function daemonReload(): Cmd {
  return change(['systemctl', 'daemon-reload'], { privileged: true });
}

export function tmpfilesCreate(confPath: string): Cmd {
  return change(['systemd-tmpfiles', '--create', confPath], { privileged: true });
}

export function nginxTest(): Cmd {
  return probe(['nginx', '-t', '-q'], { privileged: true });
}

export function nginxReload(): Cmd {
  return change(['systemctl', 'reload-or-restart', 'nginx'], { privileged: true });
}

export function visudoCheck(path: string): Cmd {
  return probe(['visudo', '-c', '-q', '-f', path], { privileged: true });
}

export function isActive(unit: string): Cmd {
  return probe(['systemctl', 'is-active', unit], { okCodes: [0, 3, 4] });
}

export function enableNow(unit: string): Cmd {
  return change(['systemctl', 'enable', '--now', unit], { privileged: true });
}

/** Stops a unit now; a unit that is not loaded (5) is already stopped. */
export function stopUnit(unit: string): Cmd {
  return change(['systemctl', 'stop', unit], { privileged: true, okCodes: [0, 5] });
}

/** Restarts a unit if it runs (a new agent for the mono cron service); does nothing when it is stopped or not installed yet (5). */
export function tryRestart(unit: string): Cmd {
  return change(['systemctl', 'try-restart', unit], { privileged: true, okCodes: [0, 5] });
}

/** Enables a unit for the next boot without starting it now. */
export function enableUnit(unit: string): Cmd {
  return change(['systemctl', 'enable', '--quiet', unit], { privileged: true });
}

export function isEnabled(unit: string): Cmd {
  return probe(['systemctl', 'is-enabled', unit], { okCodes: [0, 1] });
}

export function runAgentVersion(agentBin: string): Cmd {
  return probe([agentBin, '--version']);
}

export function nodeVersion(): Cmd {
  return probe(['node', '--version'], { okCodes: [0, 127] });
}
