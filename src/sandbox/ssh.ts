// The system ssh command line for a box (its own key, strict host key checking against its own known_hosts), and a banner probe.
import { connect } from 'node:net';

export interface SshTarget {
  readonly sshPort: number;
  readonly keyFile: string;
  readonly knownHostsFile: string;
}

export interface SshArgvOptions {
  readonly connectTimeoutS?: number;
  /** Force a terminal (-t), for interactive commands. */
  readonly tty?: boolean;
  /** BatchMode=yes: never prompt (default true). */
  readonly batch?: boolean;
}

/** argv for `ssh root@127.0.0.1` into the box; command words are passed to ssh as they are (ssh joins them with spaces). */
export function sshArgv(box: SshTarget, command: readonly string[] = [], options: SshArgvOptions = {}): string[] {
  return [
    'ssh',
    '-F', 'none',
    '-i', box.keyFile,
    '-p', String(box.sshPort),
    '-o', 'IdentitiesOnly=yes',
    '-o', 'IdentityAgent=none',
    '-o', `UserKnownHostsFile=${box.knownHostsFile}`,
    '-o', 'GlobalKnownHostsFile=/dev/null',
    '-o', 'StrictHostKeyChecking=yes',
    '-o', `BatchMode=${options.batch === false ? 'no' : 'yes'}`,
    '-o', `ConnectTimeout=${options.connectTimeoutS ?? 2}`,
    '-o', 'LogLevel=ERROR',
    ...(options.tty === true ? ['-t'] : []),
    'root@127.0.0.1',
    ...(command.length > 0 ? ['--', ...command] : []),
  ];
}

/** Does something on 127.0.0.1:port answer with an SSH banner within timeoutMs? */
export function sshdAnswers(port: number, timeoutMs = 1_500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let data = '';
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      data += chunk.toString('latin1');
      if (data.includes('\n')) done(data.startsWith('SSH-'));
    });
    socket.on('error', () => done(false));
    socket.on('close', () => done(data.startsWith('SSH-')));
  });
}
