// A step that makes one file on the box have exact content, mode and owner, checked before it replaces the old one.
import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import type { Cmd } from '../../commands/cmd.js';
import { fileState, finishInstall, installStaged, restorePrevious, writeStaged } from '../../commands/files.js';
import { CommandFailedError, MonoError } from '../../errors.js';
import { needs, ok, type CheckResult, type Step } from '../../plan/step.js';
import type { Transport } from '../../transport/transport.js';

export interface ManagedFile {
  readonly id: string;
  readonly describe: string;
  readonly path: string;
  readonly content: string | Buffer;
  readonly mode: string;
  readonly owner: string;
  readonly group: string;
  /** Where the new version is staged; its base name matters to some validators (systemd unit names). */
  readonly stagingDir: string;
  /** Validates the staged copy before it replaces anything (visudo -c, systemd-analyze verify, sh -n). */
  readonly validateStaged?: (stagedPath: string) => Cmd;
  /** Validates the installed file in place (nginx -t); on failure the previous version is put back. */
  readonly validateInstalled?: Cmd;
  /** Runs after a successful change (daemon-reload, nginx reload). */
  readonly afterChange?: readonly Cmd[];
  /** Message shown when validation fails. */
  readonly validationName?: string;
  /** Hint shown when validation fails (default: fix the template). */
  readonly failHint?: string;
}

export function sha256(content: string | Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}

export function sameMode(actual: string, wanted: string): boolean {
  return parseInt(actual, 8) === parseInt(wanted, 8);
}

/** Compares `fileState` output with what we want; the reason says what differs. */
export function compareFileState(output: string, file: Pick<ManagedFile, 'mode' | 'owner' | 'group' | 'content'>): CheckResult {
  const lines = output.trim().split('\n');
  const pending = lines.at(-1) === 'pending';
  const [statLine = '', hash = ''] = pending ? lines.slice(0, -1) : lines;
  if (statLine === 'missing') return needs('missing');
  const [mode = '', owner = '', group = '', ...type] = statLine.split(' ');
  if (type.join(' ') !== 'regular file' && type.join(' ') !== 'regular empty file') return needs(`is a ${type.join(' ')}, not a file`);
  if (hash.trim() !== sha256(file.content)) return needs('content differs');
  if (!sameMode(mode, file.mode)) return needs(`mode ${mode}, want ${file.mode}`);
  if (owner !== file.owner || group !== file.group) return needs(`owner ${owner}:${group}, want ${file.owner}:${file.group}`);
  if (pending) return needs('an earlier run stopped before checking it and reloading');
  return ok;
}

/** The last lines a failed check printed, as a MonoError's details. */
export function checkOutputTail(error: unknown): string[] {
  return error instanceof CommandFailedError ? (error.stderr || error.stdout).split('\n').filter((l) => l.trim() !== '').slice(-12) : [String(error)];
}

function failed(file: ManagedFile, error: unknown, restored: boolean): MonoError {
  const details = checkOutputTail(error);
  return new MonoError('CHECK_FAILED', `${file.validationName ?? 'the check'} rejected the new ${file.path}${restored ? '; the previous version was put back' : '; nothing was changed'}`, {
    hint: file.failHint ?? 'fix the template (or your override in templates/) and run mono setup again',
    details,
  });
}

export function managedFileStep(file: ManagedFile): Step {
  const staged = `${file.stagingDir}/${basename(file.path)}`;
  return {
    id: file.id,
    describe: file.describe,
    async check(t: Transport): Promise<CheckResult> {
      return compareFileState((await t.run(fileState(file.path))).stdout, file);
    },
    async apply(t: Transport): Promise<void> {
      await t.run(writeStaged(staged, file.content));
      if (file.validateStaged !== undefined) {
        try {
          await t.run(file.validateStaged(staged));
        } catch (error) {
          throw failed(file, error, false);
        }
      }
      await t.run(installStaged(staged, file.path, file.mode, file.owner, file.group));
      if (file.validateInstalled !== undefined) {
        try {
          await t.run(file.validateInstalled);
        } catch (error) {
          await t.run(restorePrevious(file.path));
          throw failed(file, error, true);
        }
      }
      for (const c of file.afterChange ?? []) await t.run(c);
      await t.run(finishInstall(file.path));
    },
  };
}
