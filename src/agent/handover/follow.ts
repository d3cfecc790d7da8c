// `mono agent handover follow`: prints a handover's events file from the start and as it grows, until the handover reaches
// the phase asked for (or ends, or its runner is gone), then one "end" line with the state it stopped at.
import { closeSync, openSync, readSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { reached, type HandoverState } from '../../handover/spec.js';
import { errnoCode } from '../fs-errors.js';
import { handoverFiles, readState, type JournalLine } from './journal.js';
import { pidAlive } from '../pid.js';

export interface FollowOptions {
  readonly until: 'switched' | 'done';
  readonly pollMs?: number;
  /** How long a handover without any state yet is waited for (its runner is starting). */
  readonly startWaitMs?: number;
}

export async function follow(dir: string, id: string, write: (line: string) => void, options: FollowOptions): Promise<HandoverState | undefined> {
  const file = handoverFiles(dir, id).events;
  const began = Date.now();
  let offset = 0;
  let carry = '';
  let state: HandoverState | undefined;
  const end = (lost: boolean): HandoverState | undefined => {
    const line: JournalLine = { type: 'end', time: new Date().toISOString(), state, lost };
    write(JSON.stringify(line));
    return state;
  };
  for (;;) {
    const chunk = readFrom(file, offset);
    offset += chunk.length;
    const text = carry + chunk.toString('utf8');
    const lines = text.split('\n');
    carry = lines.pop() ?? '';
    for (const line of lines) {
      if (line.trim() === '') continue;
      write(line);
      try {
        const parsed = JSON.parse(line) as JournalLine;
        if (parsed.type === 'state') state = parsed.state;
      } catch {
        // a line we cannot read is passed on as it is
      }
      if (state !== undefined && reached(state.phase, options.until)) return end(false);
    }
    if (chunk.length === 0) {
      // Nothing new: is anybody still writing?
      state = readState(dir, id) ?? state;
      if (state !== undefined && reached(state.phase, options.until)) return end(false);
      if (state !== undefined && !pidAlive(state.pid)) return end(true);
      if (state === undefined && Date.now() - began > (options.startWaitMs ?? 15_000)) return end(true);
      await sleep(options.pollMs ?? 50);
    }
  }
}

function readFrom(file: string, offset: number): Buffer {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return Buffer.alloc(0);
    throw error;
  }
  try {
    const chunks: Buffer[] = [];
    let position = offset;
    for (;;) {
      const buf = Buffer.alloc(64 * 1024);
      const n = readSync(fd, buf, 0, buf.length, position);
      if (n === 0) break;
      chunks.push(buf.subarray(0, n));
      position += n;
    }
    return Buffer.concat(chunks);
  } finally {
    closeSync(fd);
  }
}
