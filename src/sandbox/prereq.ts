// Checks that this machine can run boxes: Linux, root, overlayfs and the tools (debootstrap, systemd-nspawn, ssh).
import { readFileSync } from 'node:fs';
import { MonoError } from '../errors.js';
import { cacheBase, homeBase } from './paths.js';
import { findTool } from './which.js';

/** Programs the sandbox runs, and the Debian package that has each. */
export const REQUIRED_TOOLS: readonly (readonly [tool: string, pkg: string])[] = [
  ['debootstrap', 'debootstrap'],
  ['systemd-nspawn', 'systemd-container'],
  ['ssh', 'openssh-client'],
  ['ssh-keygen', 'openssh-client'],
  ['mount', 'mount'],
  ['umount', 'mount'],
  ['chroot', 'coreutils'],
  ['rm', 'coreutils'],
];

function hasOverlay(): boolean {
  try {
    return /\toverlay$/m.test(readFileSync('/proc/filesystems', 'utf8'));
  } catch {
    return false;
  }
}

/** Paths that end up in mount options and ssh options must not contain separators those formats use. */
function checkPath(what: string, path: string, env: string): void {
  if (!path.startsWith('/') || /[\s,:]/.test(path)) {
    throw new MonoError('USAGE', `${what} "${path}" must be an absolute path without spaces, commas or colons`, { hint: `set ${env} to a plain absolute path` });
  }
}

/** `find` is injectable so the messages can be tested on a machine that has every tool. */
export function checkPrerequisites(find: (tool: string) => string | undefined = findTool): void {
  if (process.platform !== 'linux') {
    throw new MonoError('PREREQ_MISSING', `mono sandbox needs Linux (this is ${process.platform})`, {
      hint: 'run it on a Debian or Ubuntu machine or VM, as root',
    });
  }
  if (process.getuid?.() !== 0) {
    throw new MonoError('PREREQ_MISSING', 'mono sandbox must run as root (it mounts overlays and boots containers)', {
      hint: 'run it again with sudo',
    });
  }
  const missing = REQUIRED_TOOLS.filter(([tool]) => find(tool) === undefined);
  if (missing.length > 0) {
    const packages = [...new Set(missing.map(([, pkg]) => pkg))];
    throw new MonoError('PREREQ_MISSING', `mono sandbox needs ${missing.map(([tool]) => tool).join(', ')}, which ${missing.length === 1 ? 'is' : 'are'} not installed`, {
      hint: `apt-get install ${packages.join(' ')}`,
    });
  }
  if (!hasOverlay()) {
    throw new MonoError('PREREQ_MISSING', 'the kernel has no overlay filesystem (it is not in /proc/filesystems)', {
      hint: 'load it with: modprobe overlay',
    });
  }
  checkPath('the sandbox cache', cacheBase(), 'MONO_SANDBOX_CACHE');
  checkPath('the sandbox home', homeBase(), 'MONO_SANDBOX_HOME');
}
