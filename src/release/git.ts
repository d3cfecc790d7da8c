// Where a release comes from in git: commit, branch and whether the checkout had uncommitted changes.
import { execFile } from 'node:child_process';

export interface GitInfo {
  readonly commit: string;
  /** Absent on a detached HEAD. */
  readonly branch?: string;
  /** Uncommitted or untracked (not ignored) changes anywhere in the checkout. */
  readonly dirty: boolean;
}

const TIMEOUT_MS = 10_000;

/** Git facts about the checkout that contains `dir`; undefined when it is not one, has no commit yet, or git is missing. */
export async function gitInfo(dir: string): Promise<GitInfo | undefined> {
  const head = await git(dir, ['rev-parse', '--verify', '-q', 'HEAD']);
  const commit = head.ok ? head.stdout.trim() : '';
  if (!/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(commit)) return undefined;
  const [branch, status] = await Promise.all([git(dir, ['symbolic-ref', '--short', '-q', 'HEAD']), git(dir, ['status', '--porcelain'])]);
  const name = branch.ok ? branch.stdout.trim() : '';
  // A status too long to buffer is certainly not clean; a status that failed for another reason is not known to be clean.
  const dirty = !status.ok || status.stdout.trim() !== '';
  return { commit, ...(name === '' ? {} : { branch: name }), dirty };
}

function git(dir: string, args: readonly string[]): Promise<{ ok: boolean; stdout: string }> {
  return new Promise((resolve) => {
    execFile(
      'git',
      ['-C', dir, ...args],
      {
        timeout: TIMEOUT_MS,
        maxBuffer: 16 * 1024 * 1024,
        // No index.lock for a read-only status (a concurrent git command in the checkout is not disturbed); no prompts, C locale.
        env: { ...process.env, GIT_OPTIONAL_LOCKS: '0', GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' },
      },
      (error, stdout) => resolve({ ok: error === null, stdout: String(stdout) }),
    );
  });
}
