// Finds a program on PATH or in the sbin directories (root's tools live there even when PATH lacks them).
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';

const SBIN = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

export function findTool(tool: string): string | undefined {
  if (tool.includes('/')) return tool;
  const dirs = [...(process.env['PATH'] ?? '').split(':').filter((d) => d !== ''), ...SBIN];
  for (const dir of dirs) {
    const file = join(dir, tool);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // next
    }
  }
  return undefined;
}
