// Runs commands on the box over one node-ssh connection, with strict host-key checking and timeouts.
import { readFileSync } from 'node:fs';
import { Readable, type Writable } from 'node:stream';
import { NodeSSH } from 'node-ssh';
import type { ClientChannel, ConnectConfig, ServerHostKeyAlgorithm } from 'ssh2';
import { sudoArgv, type Cmd } from '../commands/cmd.js';
import { CommandFailedError, MonoError } from '../errors.js';
import { checkHostKey, hostKeyAlgorithms, loadKnownHosts } from '../ssh/host-keys.js';
import { formatTarget, knownHostsName, type SshTarget } from '../ssh/target.js';
import { quoteArg, toShellLine } from './quote.js';
import { isOk, type ExecResult, type RunOptions, type Transport } from './transport.js';

export interface SshOptions {
  readonly target: SshTarget;
  readonly identityFile?: string;
  /** ssh-agent socket; defaults to $SSH_AUTH_SOCK. */
  readonly agentSocket?: string;
  readonly knownHostsFiles: readonly string[];
  readonly connectTimeoutMs: number;
  readonly commandTimeoutMs: number;
  /** Called with each command line before it runs (--verbose). Lines hold argv only: stdin, where secrets travel, is never shown. */
  readonly onCommand?: (line: string) => void;
}

/** Remote commands run through `sh -c` so the login shell of the user (bash, dash, zsh…) does not matter. */
export function remoteLine(argv: readonly string[]): string {
  return `sh -c ${quoteArg(toShellLine(argv))}`;
}

/** A command running on the box with live stdin/stdout (for uploads and for holding the deploy lock). */
export interface RemoteProcess {
  readonly stdin: Writable;
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** The exit status; null when the connection dropped before the command ended. */
  readonly exit: Promise<number | null>;
  close(): void;
}

export class SshTransport implements Transport {
  readonly where: string;
  readonly #ssh: NodeSSH;
  readonly #options: SshOptions;
  #closed = false;
  #dropped: Error | undefined;

  private constructor(ssh: NodeSSH, options: SshOptions) {
    this.#ssh = ssh;
    this.#options = options;
    this.where = formatTarget(options.target);
    ssh.connection?.on('close', () => {
      if (!this.#closed) this.#dropped = new Error('connection closed');
    });
    ssh.connection?.on('error', (error: Error) => {
      this.#dropped = error;
    });
  }

  static async connect(options: SshOptions): Promise<SshTransport> {
    const { target } = options;
    const name = knownHostsName(target);
    const known = loadKnownHosts(options.knownHostsFiles);
    let refusal: MonoError | undefined;
    const config: ConnectConfig = {
      host: target.host,
      port: target.port,
      username: target.user,
      readyTimeout: options.connectTimeoutMs,
      keepaliveInterval: 5000,
      keepaliveCountMax: 3,
      algorithms: { serverHostKey: hostKeyAlgorithms(known, name) as ServerHostKeyAlgorithm[] },
      hostVerifier: (key: Buffer) => {
        refusal = checkHostKey(known, name, key, options.knownHostsFiles, formatTarget(target));
        return refusal === undefined;
      },
    };
    const agent = options.agentSocket ?? process.env['SSH_AUTH_SOCK'];
    if (options.identityFile !== undefined) {
      try {
        config.privateKey = readFileSync(options.identityFile, 'utf8');
      } catch (error) {
        throw new MonoError('SSH_AUTH', `cannot read the SSH identity ${options.identityFile}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, {
          hint: 'fix ssh.identity in mono.yml, or remove it to use ssh-agent',
        });
      }
    }
    if (agent !== undefined && agent !== '') config.agent = agent;
    if (config.privateKey === undefined && config.agent === undefined) {
      throw new MonoError('SSH_AUTH', 'no SSH key to log in with', { hint: 'set ssh.identity in mono.yml or start ssh-agent (SSH_AUTH_SOCK)' });
    }
    const ssh = new NodeSSH();
    try {
      await ssh.connect(config as Parameters<NodeSSH['connect']>[0]);
    } catch (error) {
      ssh.dispose();
      if (refusal !== undefined) throw refusal;
      throw connectError(error, target, options.connectTimeoutMs);
    }
    return new SshTransport(ssh, options);
  }

  async run(cmd: Cmd, options: RunOptions = {}): Promise<ExecResult> {
    if (this.#dropped !== undefined) throw this.#droppedError(cmd);
    const argv = cmd.privileged === true && this.#options.target.user !== 'root' ? sudoArgv(cmd.argv) : cmd.argv;
    const line = remoteLine(argv);
    this.#options.onCommand?.(`${this.where} $ ${toShellLine(argv)}${cmd.stdin === undefined ? '' : ' < (stdin)'}`);
    const timeoutMs = options.timeoutMs ?? this.#options.commandTimeoutMs;
    let channel: ClientChannel | undefined;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        channel?.close();
        reject(
          new MonoError('SSH_TIMEOUT', `${argv[0] ?? 'command'} did not finish within ${Math.round(timeoutMs / 1000)} s on ${this.where}`, {
            hint: 'raise ssh.command_timeout in mono.yml, or look at the box for what hangs',
          }),
        );
      }, timeoutMs);
    });
    try {
      const exec = (): ReturnType<NodeSSH['execCommand']> => {
        const stdin = cmd.stdin === undefined ? undefined : typeof cmd.stdin === 'string' ? cmd.stdin : Readable.from([cmd.stdin]);
        return this.#ssh.execCommand(line, {
          noTrim: true,
          ...(stdin === undefined ? {} : { stdin }),
          onChannel: (c: ClientChannel) => {
            channel = c;
          },
          ...(options.onStdout === undefined ? {} : { onStdout: options.onStdout }),
          ...(options.onStderr === undefined ? {} : { onStderr: options.onStderr }),
        });
      };
      const result = await Promise.race([withChannelRetry(exec), timedOut]);
      if (result.code === null) throw this.#droppedError(cmd);
      if (!isOk(cmd, result.code)) throw new CommandFailedError('remote', argv, result.code, result.stdout, result.stderr);
      return { code: result.code, stdout: result.stdout, stderr: result.stderr };
    } catch (error) {
      if (error instanceof MonoError) throw error;
      throw this.#droppedError(cmd, error);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Starts a command whose stdin and stdout stay open (no command timeout: the caller decides when it is done). */
  async spawn(argv: readonly string[], options: { privileged?: boolean } = {}): Promise<RemoteProcess> {
    if (this.#dropped !== undefined) throw this.#droppedError({ argv });
    const full = options.privileged === true && this.#options.target.user !== 'root' ? sudoArgv(argv) : argv;
    this.#options.onCommand?.(`${this.where} $ ${toShellLine(full)} < (stream)`);
    const connection = this.#ssh.connection;
    if (connection === null) throw this.#droppedError({ argv });
    const channel = await withChannelRetry(
      () =>
        new Promise<ClientChannel>((resolve, reject) => {
          connection.exec(remoteLine(full), (error, ch) => (error === undefined || error === null ? resolve(ch) : reject(error)));
        }),
    ).catch((error: unknown) => {
      throw this.#droppedError({ argv }, error);
    });
    const exit = new Promise<number | null>((resolve) => {
      let code: number | null = null;
      channel.on('exit', (c: number | null) => {
        code = typeof c === 'number' ? c : null;
      });
      channel.on('close', () => resolve(code));
    });
    return { stdin: channel, stdout: channel, stderr: channel.stderr, exit, close: () => channel.close() };
  }

  #droppedError(cmd: Pick<Cmd, 'argv'>, cause?: unknown): MonoError {
    const why = cause ?? this.#dropped;
    return new MonoError('SSH_DISCONNECTED', `the SSH connection to ${this.where} dropped while running ${cmd.argv[0] ?? 'a command'}`, {
      hint: 'check the network and run the same command again: every step checks before it changes anything',
      cause: why,
      ...(why instanceof Error ? { details: [why.message] } : {}),
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#ssh.dispose();
  }
}

/**
 * sshd refuses a new channel while a connection has MaxSessions (10 by default) open, and channels that are closing still count
 * for a moment: on a busy box, concurrent commands then get "Channel open failure". The command never started, so opening
 * the channel again, after a short pause, is safe for any command.
 */
const CHANNEL_RETRIES = 6;

export async function withChannelRetry<T>(open: () => Promise<T>, pauseMs = 100): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await open();
    } catch (error) {
      const refused = error instanceof Error && /Channel open failure/i.test(error.message);
      if (!refused || attempt >= CHANNEL_RETRIES) throw error;
      await new Promise((resolve) => setTimeout(resolve, pauseMs * attempt));
    }
  }
}

function connectError(error: unknown, target: SshTarget, timeoutMs: number): MonoError {
  const where = `${target.host}:${target.port}`;
  const e = error as NodeJS.ErrnoException & { level?: string };
  const message = e.message ?? String(error);
  const code = e.code ?? '';
  if (code === 'ECONNREFUSED') return new MonoError('SSH_UNREACHABLE', `cannot reach ${where}: connection refused`, { hint: 'check that sshd runs on the box and that the port in host: is right', cause: error });
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new MonoError('SSH_UNREACHABLE', `cannot resolve the host name ${target.host}`, { hint: 'check the spelling of host: in mono.yml and your DNS', cause: error });
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return new MonoError('SSH_UNREACHABLE', `cannot reach ${where}: no route to host`, { hint: 'check the address and your network or VPN', cause: error });
  if (code === 'ETIMEDOUT' || /timed out/i.test(message)) {
    return new MonoError('SSH_TIMEOUT', `no SSH answer from ${where} within ${Math.round(timeoutMs / 1000)} s`, { hint: 'check that the box is up and that a firewall lets the port through; ssh.connect_timeout sets the limit', cause: error });
  }
  if (e.level === 'client-authentication' || /authentication methods failed/i.test(message)) {
    return new MonoError('SSH_AUTH', `${target.user}@${where} refused our SSH key`, { hint: `check that your public key is in ~${target.user}/.ssh/authorized_keys on the box, and ssh.identity in mono.yml`, cause: error });
  }
  if (/encrypted|passphrase/i.test(message)) return new MonoError('SSH_AUTH', 'the SSH identity is encrypted', { hint: 'add the key to ssh-agent (ssh-add) and remove ssh.identity, mono then uses the agent', cause: error });
  if (code === 'ECONNRESET' || /closed|reset/i.test(message)) return new MonoError('SSH_DISCONNECTED', `${where} closed the connection during the SSH handshake`, { hint: 'is it really an SSH server, and does it allow your user to log in?', cause: error });
  return new MonoError('SSH_UNREACHABLE', `cannot connect to ${where}: ${message}`, { hint: 'run again with --verbose for details', cause: error });
}
