// Boots sandbox boxes for end-to-end tests and always takes them down: after the file's tests, on exit, on signals, on crashes.
import { execa } from 'execa';
import { after } from 'node:test';
import { sandboxDown, sandboxDownSync, sandboxUp, sshArgv, type BoxInfo, type BoxKind } from '../../src/sandbox/index.js';

/** Boxes this process booted (or is booting) and has not taken down yet. */
const live = new Set<string>();
let counter = 0;

/** A name no other test process uses at the same time. */
export function uniqueBoxName(): string {
  counter += 1;
  return `t-${process.pid}-${counter}`;
}

// Registered when this module loads, so it belongs to the test file's root: it runs once after all of the file's
// tests, wherever bootBox was called (a top-level before() hook, a describe, a test).
after(async () => {
  await Promise.allSettled([...live].map((name) => downBox(name)));
});

// The last line of defence, synchronous because nothing asynchronous runs in 'exit': it also covers uncaught
// exceptions and unhandled rejections (Node emits 'exit' for those) and process.exit() from the test runner.
process.on('exit', () => {
  for (const name of live) sandboxDownSync(name);
  live.clear();
});
// Without a listener these signals kill the process without 'exit'; with one, exit normally so the hook above runs.
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
  process.on(signal, () => process.exit(code));
}

export interface BootOptions {
  /** Show the sandbox's progress messages (also on with MONO_TEST_VERBOSE=1). The first boot builds the cache (~2-3 min). */
  readonly verbose?: boolean;
}

/** Boots a fresh box with a unique name; it is taken down after the file's tests however they end. */
export async function bootBox(kind: BoxKind, name = uniqueBoxName(), options: BootOptions = {}): Promise<BoxInfo> {
  const verbose = options.verbose === true || process.env['MONO_TEST_VERBOSE'] === '1';
  live.add(name);
  const started = Date.now();
  try {
    return await sandboxUp({
      name,
      kind,
      onProgress: (message) => {
        // Always show the slow one-off cache build, so a first run does not look hung.
        if (verbose || message.startsWith('building') || message.startsWith('waiting for another')) process.stderr.write(`[sandbox ${name}] ${message}\n`);
      },
      onWarning: (message) => process.stderr.write(`[sandbox ${name}] warning: ${message}\n`),
    });
  } catch (error) {
    // sandboxUp already removed what it made; keep the name in `live` only if something is somehow left.
    await downBox(name).catch(() => {});
    throw error;
  } finally {
    if (verbose) process.stderr.write(`[sandbox ${name}] boot took ${Date.now() - started} ms\n`);
  }
}

/** Takes a box down now (safe to call twice). */
export async function downBox(box: BoxInfo | string): Promise<void> {
  const name = typeof box === 'string' ? box : box.name;
  await sandboxDown(name);
  live.delete(name);
}

export interface SshResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a shell command as root in the box with the system ssh (strict host key checking against the box's known_hosts). */
export async function boxSsh(box: BoxInfo, command: string, options: { input?: string; timeoutMs?: number } = {}): Promise<SshResult> {
  const [file, ...args] = sshArgv(box, [command], { connectTimeoutS: 5 });
  const result = await execa(file ?? 'ssh', args, {
    reject: false,
    timeout: options.timeoutMs ?? 120_000,
    ...(options.input === undefined ? { stdin: 'ignore' as const } : { input: options.input }),
  });
  return { code: result.exitCode ?? 255, stdout: String(result.stdout ?? ''), stderr: String(result.stderr ?? '') };
}
