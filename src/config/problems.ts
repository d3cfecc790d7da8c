// A config problem is a path, a message and a hint; all of them are collected and reported together.
import { MonoError } from '../errors.js';

export interface Problem {
  readonly path: string;
  readonly message: string;
  readonly hint?: string;
}

export function problem(path: string, message: string, hint?: string): Problem {
  return hint === undefined ? { path, message } : { path, message, hint };
}

export function formatProblem(p: Problem): string {
  return `${p.path || '(top level)'}: ${p.message}${p.hint === undefined ? '' : ` (hint: ${p.hint})`}`;
}

export function configInvalid(file: string, problems: readonly Problem[]): MonoError {
  const n = problems.length;
  return new MonoError('CONFIG_INVALID', `${file} has ${n} problem${n === 1 ? '' : 's'}`, {
    details: problems.map(formatProblem),
    hint: 'fix the lines above; `mono config` checks the file without touching any server',
  });
}

/** Levenshtein distance, for "did you mean" suggestions on unknown keys. */
export function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j] ?? 0;
      row[j] = Math.min(current + 1, (row[j - 1] ?? 0) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = current;
    }
  }
  return row[b.length] ?? 0;
}

export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = distance(word, c);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}
