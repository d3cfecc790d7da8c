// Fetches the host key a server presents, without logging in (used by `mono trust`).
import { NodeSSH } from 'node-ssh';
import { MonoError } from '../errors.js';
import type { SshTarget } from './target.js';

export async function fetchHostKey(target: SshTarget, timeoutMs: number): Promise<Buffer> {
  let key: Buffer | undefined;
  const ssh = new NodeSSH();
  try {
    await ssh.connect({
      host: target.host,
      port: target.port,
      username: target.user,
      readyTimeout: timeoutMs,
      algorithms: { serverHostKey: ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256'] },
      // Capture the key and stop: we never authenticate to an untrusted host.
      hostVerifier: (blob: Buffer) => {
        key = blob;
        return false;
      },
    });
  } catch (error) {
    if (key === undefined) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new MonoError(code === 'ETIMEDOUT' || /timed out/i.test(String(error)) ? 'SSH_TIMEOUT' : 'SSH_UNREACHABLE', `cannot read the host key of ${target.host}:${target.port}: ${(error as Error).message}`, {
        hint: 'check the address and port, and that sshd runs there',
        cause: error,
      });
    }
  } finally {
    ssh.dispose();
  }
  if (key === undefined) throw new MonoError('INTERNAL', 'the server accepted a connection without presenting a host key');
  return key;
}
