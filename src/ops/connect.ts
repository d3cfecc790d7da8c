// Opens the SSH transport a command needs, from the config (the setup login or the deploy user).
import type { Config } from '../config/types.js';
import type { Context } from '../cli/context.js';
import { SshTransport } from '../transport/ssh.js';
import type { SshTarget } from '../ssh/target.js';

export type Login = 'setup' | 'deploy';

export function targetFor(config: Config, login: Login): SshTarget {
  return login === 'setup' ? config.target : { ...config.target, user: config.user };
}

export async function connect(ctx: Context, config: Config, login: Login): Promise<SshTransport> {
  const target = targetFor(config, login);
  ctx.log.debug(`connecting to ${target.user}@${target.host}:${target.port}`);
  const transport = await SshTransport.connect({
    target,
    ...(config.ssh.identity === undefined ? {} : { identityFile: config.ssh.identity }),
    knownHostsFiles: config.ssh.knownHostsFiles,
    connectTimeoutMs: config.ssh.connectTimeoutMs,
    commandTimeoutMs: config.ssh.commandTimeoutMs,
    onCommand: (line) => ctx.log.debug(line),
  });
  ctx.onCleanup(() => transport.close());
  return transport;
}
