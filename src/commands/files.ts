// Builders for file and folder commands on the box: probes that read state, and changes that write it atomically.
import { change, probe, shellScript, type Cmd } from './cmd.js';

/**
 * Prints "missing", or "<mode> <owner> <group> <type>" then "<sha256>" for a regular file,
 * then "pending" when an earlier run replaced the file but stopped before its checks and follow-ups finished.
 */
export function fileState(path: string): Cmd {
  return shellScript(
    'if [ -e "$1" ] || [ -L "$1" ]; then stat -c "%a %U %G %F" -- "$1"; if [ -f "$1" ] && [ ! -L "$1" ]; then sha256sum -- "$1" | cut -d" " -f1; fi; else echo missing; fi; if [ -e "$1.mono-pending" ]; then echo pending; fi',
    [path],
    { privileged: true, mutates: false },
  );
}

/** One line per path: "<path>\t<mode> <owner> <group> <type>" or "<path>\tmissing". */
export function pathsState(paths: readonly string[]): Cmd {
  return shellScript('for p in "$@"; do if [ -e "$p" ]; then printf "%s\\t%s\\n" "$p" "$(stat -c "%a %U %G %F" -- "$p")"; else printf "%s\\tmissing\\n" "$p"; fi; done', paths, {
    privileged: true,
    mutates: false,
  });
}

/** The output of pathsState: each path's "<mode> <owner> <group> <type>", or "missing". */
export function parsePathsState(stdout: string): Map<string, string> {
  return new Map(
    stdout
      .split('\n')
      .filter((line) => line.includes('\t'))
      .map((line) => line.split('\t') as [string, string]),
  );
}

export function ensureDir(path: string, mode: string, owner: string, group: string): Cmd {
  return shellScript('set -e; mkdir -p -- "$1"; chown -- "$2:$3" "$1"; chmod -- "$4" "$1"', [path, owner, group, mode], { privileged: true, mutates: true });
}

/** Creates an empty file if it is missing (never overwrites content), then sets owner and mode. */
export function ensureFile(path: string, mode: string, owner: string, group: string): Cmd {
  return shellScript('set -e; [ -e "$1" ] || : > "$1"; chown -- "$2:$3" "$1"; chmod -- "$4" "$1"', [path, owner, group, mode], { privileged: true, mutates: true });
}

/** Writes stdin to a staging file (mode 0600 while written). */
export function writeStaged(stagingPath: string, content: string | Buffer): Cmd {
  return shellScript('umask 077 && mkdir -p -- "$(dirname -- "$1")" && cat > "$1"', [stagingPath], { stdin: content, privileged: true, mutates: true });
}

/**
 * Moves a staged file into place atomically with its final mode and owner: copy next to the target, then rename(2).
 * The previous version, if any, is kept as <path>.mono-prev so a failed check can put it back, and
 * <path>.mono-pending marks the change as unfinished until `finishInstall` (so an interrupted run is redone).
 */
export function installStaged(stagingPath: string, path: string, mode: string, owner: string, group: string): Cmd {
  return shellScript(
    'set -e; tmp="$2.mono-tmp"; cp -- "$1" "$tmp"; chown -- "$4:$5" "$tmp"; chmod -- "$3" "$tmp"; : > "$2.mono-pending"; if [ -f "$2" ]; then cp -p -- "$2" "$2.mono-prev"; fi; mv -fT -- "$tmp" "$2"; rm -f -- "$1"',
    [stagingPath, path, mode, owner, group],
    { privileged: true, mutates: true },
  );
}

/** Puts <path>.mono-prev back (or removes <path> when there was no previous version). */
export function restorePrevious(path: string): Cmd {
  return shellScript('if [ -f "$1.mono-prev" ]; then mv -fT -- "$1.mono-prev" "$1"; else rm -f -- "$1"; fi; rm -f -- "$1.mono-pending"', [path], { privileged: true, mutates: true });
}

/** The change is complete (checked, follow-ups run): drop the previous copy and the pending marker. */
export function finishInstall(path: string): Cmd {
  return change(['rm', '-f', '--', `${path}.mono-prev`, `${path}.mono-pending`], { privileged: true });
}

export function removeFile(path: string): Cmd {
  return change(['rm', '-f', '--', path], { privileged: true });
}

/** Points a symlink at a target atomically (ln to a temporary name, then rename over the old link). */
export function symlink(target: string, path: string): Cmd {
  return shellScript('set -e; ln -sfn -- "$1" "$2.mono-tmp"; mv -fT -- "$2.mono-tmp" "$2"', [target, path], { privileged: true, mutates: true });
}

export function readLink(path: string): Cmd {
  return probe(['readlink', '--', path], { privileged: true, okCodes: [0, 1] });
}

export function appendLine(path: string, line: string, owner: string, mode: string): Cmd {
  return shellScript('set -e; [ -e "$1" ] || install -m "$3" -o "$2" -g "$2" /dev/null "$1"; printf "%s\\n" "$4" >> "$1"', [path, owner, mode, line], { privileged: true, mutates: true });
}
