// Reading agent requests from stdin: the whole input with a size limit, or line by line.
import { StringDecoder } from 'node:string_decoder';
import { MonoError } from '../errors.js';

/** All of the input as UTF-8; more than `limit` bytes is a usage error (requests are small). */
export async function readAll(input: AsyncIterable<Buffer | string>, limit: number, what: string): Promise<string> {
  const parts: Buffer[] = [];
  let total = 0;
  for await (const chunk of input) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    total += buf.length;
    if (total > limit) throw new MonoError('USAGE', `${what} on stdin is larger than ${limit} bytes`);
    parts.push(buf);
  }
  return Buffer.concat(parts).toString('utf8');
}

/**
 * Lines of the input without their "\n" (and a trailing "\r"); a last line without "\n" counts too. A long line (a build request
 * of several megabytes) is collected as a list of parts and joined once: each chunk is searched for "\n" only once.
 */
export async function* lines(input: AsyncIterable<Buffer | string>, maxLength = 64 * 1024): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let parts: string[] = [];
  let partsLength = 0;
  for await (const chunk of input) {
    const text = typeof chunk === 'string' ? chunk : decoder.write(chunk);
    let start = 0;
    let nl = text.indexOf('\n');
    while (nl !== -1) {
      parts.push(text.slice(start, nl));
      yield stripCr(parts.join(''));
      parts = [];
      partsLength = 0;
      start = nl + 1;
      nl = text.indexOf('\n', start);
    }
    if (start < text.length) {
      parts.push(text.slice(start));
      partsLength += text.length - start;
    }
    if (partsLength > maxLength) throw new MonoError('USAGE', `a line on stdin is longer than ${maxLength} characters`);
  }
  const rest = parts.join('') + decoder.end();
  if (rest.length > 0) yield stripCr(rest);
}

function stripCr(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}

/** Parses a JSON request, naming what was expected when it is not JSON. */
export function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new MonoError('USAGE', `${what} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
