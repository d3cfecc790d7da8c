// Picks free TCP ports on 127.0.0.1 by binding port 0, skipping ports other boxes already claim.
import { createServer, type Server } from 'node:net';
import { MonoError } from '../errors.js';

function listen(): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** count distinct free ports, none of them in taken. All are held open together so they differ from each other. */
export async function freePorts(count: number, taken: ReadonlySet<number> = new Set()): Promise<number[]> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const servers: Server[] = [];
    try {
      for (let i = 0; i < count; i++) servers.push(await listen());
      const ports = servers.map((s) => {
        const address = s.address();
        return typeof address === 'object' && address !== null ? address.port : 0;
      });
      if (ports.every((p) => p > 0 && !taken.has(p))) return ports;
    } finally {
      await Promise.all(servers.map(close));
    }
  }
  throw new MonoError('LOCAL_FAILED', 'could not find free TCP ports on 127.0.0.1');
}
