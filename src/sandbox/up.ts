// Brings a box up: cached root + fresh overlay, own keys and ports, boot under systemd-nspawn, wait for SSH and systemd.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { MonoError } from '../errors.js';
import { prepareCgroups } from './cgroups.js';
import { configureBox, type BoxKind } from './configure.js';
import { sandboxDown, teardownBox } from './down.js';
import { inFlight, beginUp } from './inflight.js';
import { generateKey, writeKnownHosts } from './keys.js';
import { mountOverlay } from './mounts.js';
import { startNspawn } from './nspawn.js';
import { boxPaths, checkBoxName, homeBase } from './paths.js';
import { freePorts } from './ports.js';
import { checkPrerequisites } from './prereq.js';
import { findNspawnPids } from './proc.js';
import { waitReady } from './ready.js';
import { ensureRootfs } from './rootfs.js';
import { claimedPorts, toInfo, writeState, type BoxInfo, type BoxState } from './state.js';

export interface SandboxUpOptions {
  readonly name: string;
  readonly kind: BoxKind;
  readonly onProgress?: (message: string) => void;
  /** Warnings (for example a degraded boot); default: onProgress with a "warning:" prefix. */
  readonly onWarning?: (message: string) => void;
  /** How long to wait for SSH and systemd after the boot starts (default 90 s). */
  readonly readyTimeoutMs?: number;
  /**
   * Registers a cleanup for the time `up` runs (for example the CLI's `ctx.onCleanup`, run on Ctrl-C):
   * it cancels the `up` and removes the half-made box. Unregistered when `up` returns or throws.
   */
  readonly onCleanup?: (cleanup: () => Promise<void>) => () => void;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export async function sandboxUp(options: SandboxUpOptions): Promise<BoxInfo> {
  checkPrerequisites();
  const name = checkBoxName(options.name);
  const kind = options.kind;
  if (kind !== 'app' && kind !== 'offsite') throw new MonoError('USAGE', `unknown sandbox kind "${String(kind)}"`, { hint: 'use "app" or "offsite"' });
  const progress = options.onProgress ?? (() => {});
  const warn = options.onWarning ?? ((message: string) => progress(`warning: ${message}`));
  const paths = boxPaths(name);

  if (inFlight.has(name) || findNspawnPids(paths.root).length > 0) {
    throw new MonoError('USAGE', `sandbox "${name}" is already up`, { hint: `take it down first: mono sandbox down --name ${name}` });
  }
  if (existsSync(paths.dir)) {
    progress(`removing what is left of an earlier sandbox "${name}"`);
    await teardownBox(name);
  }

  const flight = beginUp(name);
  const signal = flight.signal;
  const unregister = options.onCleanup?.(() => sandboxDown(name)) ?? (() => {});
  let created = false;
  try {
    const cacheRoot = await ensureRootfs({ onProgress: progress, signal });
    const started = Date.now();
    progress(`starting sandbox "${name}" (${kind} box)…`);
    mkdirSync(homeBase(), { recursive: true, mode: 0o700 });
    try {
      mkdirSync(paths.dir, { mode: 0o700 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new MonoError('USAGE', `sandbox "${name}" is being created by another mono`, { hint: 'wait for it, or pick another --name' });
      }
      throw error;
    }
    created = true;
    for (const dir of [paths.upper, paths.work, paths.root]) mkdirSync(dir, { mode: 0o755 });

    const [sshPort, httpPort] = await freePorts(2, claimedPorts());
    if (sshPort === undefined || httpPort === undefined) throw new MonoError('INTERNAL', 'freePorts returned too few ports');
    const base: BoxState = { name, kind, machine: name, pid: 0, sshPort, httpPort, paths, cacheRoot, createdAt: new Date().toISOString() };
    writeState(base);

    await mountOverlay(cacheRoot, paths.upper, paths.work, paths.root, signal);
    const clientKey = await generateKey(paths.keyFile, `mono-sandbox-${name}`, signal);
    const hostKey = await generateKey(join(paths.root, 'etc/ssh/ssh_host_ed25519_key'), `root@${name}`, signal);
    writeKnownHosts(paths.knownHostsFile, sshPort, hostKey);
    configureBox(paths.root, { kind, machine: name, sshPort, authorizedKey: clientKey });

    signal.throwIfAborted();
    const cgroupProcs = prepareCgroups(name);
    const pid = startNspawn({ rootDir: paths.root, machine: name, logFile: paths.consoleLog, cgroupProcs });
    // Same tick as the spawn: any later cleanup finds the pid.
    const state: BoxState = { ...base, pid };
    writeState(state);
    progress(`booting (nspawn pid ${pid}); waiting for SSH on 127.0.0.1:${sshPort} and for systemd…`);

    const ready = await waitReady(
      { name, pid, sshPort, keyFile: paths.keyFile, knownHostsFile: paths.knownHostsFile, consoleLog: paths.consoleLog },
      { signal, ...(options.readyTimeoutMs === undefined ? {} : { timeoutMs: options.readyTimeoutMs }) },
    );
    if (ready.state === 'degraded') warn(`sandbox "${name}" booted degraded; failed units:\n${ready.failedUnits}`);
    progress(`sandbox "${name}" is up (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    return toInfo(state);
  } catch (error) {
    if (created) {
      await teardownBox(name).catch((cleanupError: unknown) => warn(`cleaning up sandbox "${name}" failed: ${errorText(cleanupError)}`));
    }
    if (signal.aborted) {
      throw signal.reason instanceof MonoError ? signal.reason : new MonoError('INTERRUPTED', `sandbox "${name}" was cancelled while it was starting`);
    }
    throw error;
  } finally {
    flight.finish();
    unregister();
  }
}
