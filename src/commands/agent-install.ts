// Builders for installing the code-split agent on the box: each version in its own folder <dir>/agent-<id>, checked
// against its SHA256SUMS, and <dir>/agent a symlink switched atomically to the one in use.
import { change, probe, shellScript, type Cmd } from './cmd.js';

/**
 * Prints one word: "missing" (no <dir>/agent), "other <target>" (another version is in use), "pending" (an earlier run
 * switched but stopped before its follow-ups), "owner" (a file not root's, or writable by others), "damaged" (a file
 * differs from SHA256SUMS), or "ok".
 */
export function agentState(dir: string, id: string): Cmd {
  return shellScript(
    [
      'cur=$(readlink -- "$1/agent" 2>/dev/null) || { echo missing; exit 0; }',
      'if [ "$cur" != "agent-$2" ]; then echo "other $cur"; exit 0; fi',
      'if [ -e "$1/.agent.mono-pending" ]; then echo pending; exit 0; fi',
      'if [ ! -d "$1/agent-$2" ] || [ -n "$(find "$1/agent-$2" \\( ! -user root -o -perm /022 \\) -print -quit)" ]; then echo owner; exit 0; fi',
      'if (cd "$1/agent-$2" && sha256sum --quiet --strict -c SHA256SUMS) >/dev/null 2>&1; then echo ok; else echo damaged; fi',
    ].join('\n'),
    [dir, id],
    { privileged: true, mutates: false },
  );
}

export const stagedAgentDir = (dir: string, id: string): string => `${dir}/.agent-${id}.tmp`;

/** Unpacks the tar on stdin into <dir>/.agent-<id>.tmp, owned by root, 0755/0644, and checks it against its SHA256SUMS. */
export function unpackAgent(dir: string, id: string, tar: Buffer): Cmd {
  return shellScript(
    'set -e; tmp="$1/.agent-$2.tmp"; rm -rf -- "$tmp"; mkdir -m 0755 -- "$tmp"; tar --no-same-owner --no-same-permissions -xf - -C "$tmp"; chown -R root:root -- "$tmp"; chmod -R u=rwX,go=rX -- "$tmp"; cd "$tmp"; sha256sum --quiet --strict -c SHA256SUMS',
    [dir, id],
    { stdin: tar, privileged: true, mutates: true },
  );
}

export function removeStagedAgent(dir: string, id: string): Cmd {
  return change(['rm', '-rf', '--', stagedAgentDir(dir, id)], { privileged: true });
}

/**
 * Moves the staged folder to <dir>/agent-<id>, marks the change pending, then points <dir>/agent at it (rename(2));
 * prints the link's target before the switch (nothing when there was none).
 */
export function activateAgent(dir: string, id: string): Cmd {
  return shellScript(
    'set -e; prev=$(readlink -- "$1/agent" 2>/dev/null || true); : > "$1/.agent.mono-pending"; if [ "$prev" != "agent-$2" ] || [ ! -d "$1/agent-$2" ]; then rm -rf -- "$1/agent-$2"; mv -T -- "$1/.agent-$2.tmp" "$1/agent-$2"; else rm -rf -- "$1/agent-$2.mono-old"; mv -T -- "$1/agent-$2" "$1/agent-$2.mono-old"; mv -T -- "$1/.agent-$2.tmp" "$1/agent-$2"; rm -rf -- "$1/agent-$2.mono-old"; fi; ln -sfn -- "agent-$2" "$1/.agent.mono-tmp"; mv -fT -- "$1/.agent.mono-tmp" "$1/agent"; printf "%s\\n" "$prev"',
    [dir, id],
    { privileged: true, mutates: true },
  );
}

/**
 * The change is complete: removes every other agent-* folder except `keep` (the one in use before, which processes
 * started earlier still load chunks from), leftovers of interrupted runs, and the pending marker.
 */
export function finishAgent(dir: string, id: string, keep: string | undefined): Cmd {
  return shellScript(
    'for x in "$1"/agent-* "$1"/.agent-*.tmp; do [ -e "$x" ] || continue; b=${x##*/}; [ "$b" = "agent-$2" ] || [ "$b" = "$3" ] || rm -rf -- "$x"; done; rm -f -- "$1/.agent.mono-pending"',
    [dir, id, keep ?? ''],
    { privileged: true, mutates: true },
  );
}

/** Runs the staged agent with the box's Node.js before it replaces the one in use. */
export function stagedAgentVersion(dir: string, id: string): Cmd {
  return probe(['node', `${stagedAgentDir(dir, id)}/mono.mjs`, '--version'], { privileged: true });
}
