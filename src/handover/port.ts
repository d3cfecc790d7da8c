// handover.listen: port: each release's web process gets a free loopback port (MONO_PORT), recorded in
// <root>/.mono/instances/<release>/listen.env, which its unit and its bridge (systemd-socket-proxyd) both read.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import net from 'node:net';

export const PORT_RANGE = { first: 20_000, count: 10_000 } as const;

function free(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** The port in listen.env, if the file is there. */
export function recordedPort(instancesDir: string, release: string): number | undefined {
  try {
    const m = /^MONO_PORT=(\d+)$/m.exec(readFileSync(`${instancesDir}/${release}/listen.env`, 'utf8'));
    return m?.[1] === undefined ? undefined : Number(m[1]);
  } catch {
    return undefined;
  }
}

/**
 * Picks a free loopback port for `release` (starting at a place derived from its id, so releases spread over the range)
 * and records it. A release whose web process already runs keeps its port.
 */
export async function assignPort(instancesDir: string, release: string, running: boolean): Promise<number> {
  const kept = recordedPort(instancesDir, release);
  if (running && kept !== undefined) return kept;
  const start = createHash('sha256').update(release).digest().readUInt32BE(0) % PORT_RANGE.count;
  for (let i = 0; i < PORT_RANGE.count; i++) {
    const port = PORT_RANGE.first + ((start + i) % PORT_RANGE.count);
    if (!(await free(port))) continue;
    mkdirSync(`${instancesDir}/${release}`, { recursive: true, mode: 0o750 });
    const file = `${instancesDir}/${release}/listen.env`;
    writeFileSync(`${file}.tmp`, `MONO_PORT=${port}\n`, { mode: 0o640 });
    renameSync(`${file}.tmp`, file);
    return port;
  }
  throw new Error(`no free loopback port in ${PORT_RANGE.first}-${PORT_RANGE.first + PORT_RANGE.count - 1}`);
}
