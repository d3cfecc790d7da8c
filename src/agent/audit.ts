// `mono agent audit` and `audit-append`: read the last entries of <root>/.mono/audit.log, or append one line atomically.
import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import type { Context } from '../cli/context.js';
import { MonoError } from '../errors.js';
import { errnoCode } from './fs-errors.js';
import { parseCount } from './options.js';
import { agentHandler } from './handler.js';
import { agentPaths, requireRoot } from './paths.js';
import { isRecord, parseJson, readAll } from './stdin.js';

const BLOCK = 64 * 1024;

/** The last `count` parseable lines of the log (unparseable ones are skipped), oldest first. */
export function readAudit(logPath: string, count: number): unknown[] {
  let fd: number;
  try {
    fd = openSync(logPath, 'r');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return [];
    throw error;
  }
  try {
    const entries: unknown[] = [];
    let end = fstatSync(fd).size;
    let carry = Buffer.alloc(0);
    // Read backwards block by block, so a large log costs only its tail.
    while (entries.length < count && (end > 0 || carry.length > 0)) {
      const start = Math.max(0, end - BLOCK);
      const block = Buffer.alloc(end - start);
      let got = 0;
      while (got < block.length) got += readSync(fd, block, got, block.length - got, start + got);
      const text = Buffer.concat([block, carry]);
      const firstNl = start === 0 ? -1 : text.indexOf(10);
      carry = start === 0 ? Buffer.alloc(0) : text.subarray(0, firstNl === -1 ? text.length : firstNl);
      const complete = start === 0 ? text : firstNl === -1 ? Buffer.alloc(0) : text.subarray(firstNl + 1);
      const lines = complete.toString('utf8').split('\n');
      for (let i = lines.length - 1; i >= 0 && entries.length < count; i--) {
        const entry = parseLine(lines[i]!);
        if (entry !== undefined) entries.push(entry);
      }
      end = start;
      if (start === 0) break;
    }
    return entries.reverse();
  } finally {
    closeSync(fd);
  }
}

function parseLine(line: string): unknown {
  if (line.trim() === '') return undefined;
  try {
    return JSON.parse(line) as unknown;
  } catch {
    return undefined;
  }
}

/** Appends `entry` as one line (adding `time` when missing). O_APPEND with a single write keeps concurrent writers' lines whole. */
export function appendAudit(logPath: string, entry: Record<string, unknown>, now = new Date()): Record<string, unknown> {
  const line = entry['time'] === undefined ? { time: now.toISOString(), ...entry } : entry;
  const data = Buffer.from(JSON.stringify(line) + '\n');
  const fd = openSync(logPath, 'a', 0o640);
  try {
    const written = writeSync(fd, data);
    if (written !== data.length) throw new MonoError('LOCAL_FAILED', `short write to ${logPath} (${written} of ${data.length} bytes)`);
  } finally {
    closeSync(fd);
  }
  return line;
}

export const handler = agentHandler('audit', async (ctx: Context, options: { root?: string; lines?: string }) => {
  const { auditLog } = agentPaths(requireRoot(options.root));
  ctx.log.data(JSON.stringify({ entries: readAudit(auditLog, parseCount(options.lines, '--lines', 20)) }));
});

export const appendHandler = agentHandler('audit-append', async (ctx: Context, options: { root?: string }) => {
  const { auditLog } = agentPaths(requireRoot(options.root));
  const entry = parseJson((await readAll(process.stdin, 64 * 1024, 'the audit entry')).trim(), 'the audit entry');
  if (!isRecord(entry)) throw new MonoError('USAGE', 'the audit entry must be a JSON object');
  const line = appendAudit(auditLog, entry);
  ctx.log.data(JSON.stringify({ appended: true, time: line['time'] }));
});
