// Typed errors: every failure mono reports carries a code, an exit code and a hint for the fix.

/** Documented exit codes (README, "Exit codes"). */
export const ExitCode = {
  ok: 0,
  internal: 1,
  usage: 2,
  connection: 3,
  hostKey: 4,
  remote: 5,
  prerequisite: 6,
  locked: 7,
  interrupted: 130,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export type ErrorCode =
  | 'USAGE'
  | 'CONFIG_NOT_FOUND'
  | 'CONFIG_INVALID'
  | 'SSH_UNREACHABLE'
  | 'SSH_AUTH'
  | 'SSH_TIMEOUT'
  | 'SSH_DISCONNECTED'
  | 'HOST_KEY_UNKNOWN'
  | 'HOST_KEY_CHANGED'
  | 'HOST_KEY_REVOKED'
  | 'REMOTE_FAILED'
  | 'LOCAL_FAILED'
  | 'CHECK_FAILED'
  | 'DISK_FULL'
  | 'HEALTH_FAILED'
  | 'LOCKED'
  | 'UNSUPPORTED_OS'
  | 'PREREQ_MISSING'
  | 'INTERRUPTED'
  | 'INTERNAL';

const exitFor: Record<ErrorCode, ExitCodeValue> = {
  USAGE: ExitCode.usage,
  CONFIG_NOT_FOUND: ExitCode.usage,
  CONFIG_INVALID: ExitCode.usage,
  SSH_UNREACHABLE: ExitCode.connection,
  SSH_AUTH: ExitCode.connection,
  SSH_TIMEOUT: ExitCode.connection,
  SSH_DISCONNECTED: ExitCode.connection,
  HOST_KEY_UNKNOWN: ExitCode.hostKey,
  HOST_KEY_CHANGED: ExitCode.hostKey,
  HOST_KEY_REVOKED: ExitCode.hostKey,
  REMOTE_FAILED: ExitCode.remote,
  LOCAL_FAILED: ExitCode.remote,
  CHECK_FAILED: ExitCode.remote,
  DISK_FULL: ExitCode.remote,
  HEALTH_FAILED: ExitCode.remote,
  LOCKED: ExitCode.locked,
  UNSUPPORTED_OS: ExitCode.prerequisite,
  PREREQ_MISSING: ExitCode.prerequisite,
  INTERRUPTED: ExitCode.interrupted,
  INTERNAL: ExitCode.internal,
};

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(exitFor, code);
}


export interface MonoErrorOptions {
  hint?: string;
  cause?: unknown;
  /** Extra lines shown under the message (for example a remote stderr tail or a list of config problems). */
  details?: readonly string[];
}

export class MonoError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: ExitCodeValue;
  readonly hint: string | undefined;
  readonly details: readonly string[];

  constructor(code: ErrorCode, message: string, options: MonoErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MonoError';
    this.code = code;
    this.exitCode = exitFor[code];
    this.hint = options.hint;
    this.details = options.details ?? [];
  }
}

/** A command that ran and exited with a status it was not allowed to. */
export class CommandFailedError extends MonoError {
  readonly where: 'local' | 'remote';
  readonly argv: readonly string[];
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;

  constructor(where: 'local' | 'remote', argv: readonly string[], status: number, stdout: string, stderr: string, hint?: string) {
    const last = lastLine(stderr) ?? lastLine(stdout) ?? 'no output';
    super(where === 'remote' ? 'REMOTE_FAILED' : 'LOCAL_FAILED', `${argv[0] ?? '?'} exited with status ${status} on ${where === 'remote' ? 'the box' : 'this machine'}: ${last}`, {
      ...(hint === undefined ? {} : { hint }),
      details: tail(stderr || stdout, 12),
    });
    this.where = where;
    this.argv = argv;
    this.status = status;
    this.stdout = stdout;
    this.stderr = stderr;
  }
}

export function isMonoError(error: unknown): error is MonoError {
  return error instanceof MonoError;
}

function lastLine(text: string): string | undefined {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
  return lines.at(-1);
}

export function tail(text: string, n: number): string[] {
  return text.split('\n').filter((l) => l.trim().length > 0).slice(-n);
}
