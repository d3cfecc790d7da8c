// A deterministic synthetic release for upload benchmarks: many small text files in nested node_modules-like folders, plus a
// few large binaries. Cached under /var/tmp/mono-bench/<name> (a sidecar <name>.json marks a complete tree), so re-runs reuse it.
import { createCipheriv, createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { SERVER_JS } from '../test/support/app.js';

export const CACHE_DIR = process.env['MONO_BENCH_CACHE'] ?? '/var/tmp/mono-bench';
/** Bump when the generated content changes, so cached trees are rebuilt. */
const GENERATOR_VERSION = 1;

export interface SyntheticSpec {
  readonly name: string;
  readonly seed: number;
  /** Text files of MIN_TEXT..MAX_TEXT bytes. */
  readonly textFiles: number;
  /** Folders the text files are spread over (about). */
  readonly dirs: number;
  readonly binaries: number;
  readonly binaryBytes: number;
}

export const RELEASE_200MB: SyntheticSpec = { name: 'release-200mb', seed: 20_000, textFiles: 19_990, dirs: 200, binaries: 10, binaryBytes: 10_000_000 };
/** The same text files (same seed) with 10 binaries of ~90 MB. */
export const RELEASE_1GB: SyntheticSpec = { ...RELEASE_200MB, name: 'release-1gb', binaryBytes: 90_000_000 };

const MIN_TEXT = 2 * 1024;
const MAX_TEXT = 8 * 1024;
const APP_FILES: Record<string, string> = { Procfile: 'web: node server.js\n', 'server.js': SERVER_JS, VERSION: '1\n' };

export interface SyntheticRelease {
  readonly spec: SyntheticSpec;
  readonly dir: string;
  readonly files: number;
  readonly bytes: number;
  /** Whether this call generated the tree (false: reused from the cache). */
  readonly generated: boolean;
  readonly seconds: number;
  /** Relative path of text file i. */
  textPath(i: number): string;
  /** Rewrites text file i with its generated content (undoes an edit by a benchmark). */
  restoreText(i: number): void;
}

/** mulberry32: a small, fast, seeded 32-bit PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function mix(seed: number, i: number): number {
  return (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(i + 1, 0xc2b2ae35)) >>> 0;
}

interface Layout {
  readonly words: readonly string[];
  readonly dirs: readonly string[];
  /** Directory index of each text file. */
  readonly fileDir: Uint16Array;
  readonly fileName: readonly string[];
}

const layouts = new Map<string, Layout>();

/** The folder tree and file names: node_modules/<pkg>/{lib,lib/internal,dist,dist/esm}, ~5 folders per package. */
function layoutOf(spec: SyntheticSpec): Layout {
  const key = `${spec.seed}/${spec.textFiles}/${spec.dirs}`;
  const cached = layouts.get(key);
  if (cached !== undefined) return cached;
  const rnd = prng(spec.seed);
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  const words: string[] = [];
  const seen = new Set<string>();
  while (words.length < 2000) {
    const len = 2 + Math.floor(rnd() * 9);
    let w = '';
    for (let i = 0; i < len; i++) w += letters[Math.floor(rnd() * 26)];
    if (!seen.has(w)) {
      seen.add(w);
      words.push(w);
    }
  }
  const subdirs = ['', 'lib', 'lib/internal', 'dist', 'dist/esm'];
  const packages = Math.ceil(spec.dirs / subdirs.length);
  const dirs: string[] = [];
  for (let p = 0; p < packages; p++) {
    const pkg = `node_modules/${words[p * 7 % words.length]}-${p}`;
    for (const sub of subdirs) dirs.push(sub === '' ? pkg : `${pkg}/${sub}`);
  }
  const fileDir = new Uint16Array(spec.textFiles);
  const fileName: string[] = [];
  const ext = ['.js', '.js', '.js', '.d.ts', '.json', '.md', '.map'];
  for (let i = 0; i < spec.textFiles; i++) {
    fileDir[i] = Math.floor(rnd() * dirs.length);
    fileName.push(`${words[Math.floor(rnd() * words.length)]}-${i}${ext[Math.floor(rnd() * ext.length)]}`);
  }
  const layout = { words, dirs, fileDir, fileName };
  layouts.set(key, layout);
  return layout;
}

/** The content of text file i: lines of seeded pseudo-random words (skewed towards common ones, like source text), 2–8 KB. */
function textContent(spec: SyntheticSpec, layout: Layout, i: number): Buffer {
  const rnd = prng(mix(spec.seed, i));
  const size = MIN_TEXT + Math.floor(rnd() * (MAX_TEXT - MIN_TEXT + 1));
  const out = Buffer.allocUnsafe(size);
  let used = 0;
  let line = 0;
  while (used < size) {
    const r = rnd();
    const word = layout.words[Math.floor(r * r * r * layout.words.length)] ?? 'x';
    line += word.length + 1;
    const sep = line > 72 ? '\n' : ' ';
    if (sep === '\n') line = 0;
    used += out.write(`${word}${sep}`, used);
  }
  if (size > 0) out[size - 1] = 10;
  return out;
}

function textPathOf(layout: Layout, i: number): string {
  return `${layout.dirs[layout.fileDir[i] ?? 0]}/${layout.fileName[i]}`;
}

function binaryPath(layout: Layout, k: number): string {
  return `vendor/native/lib${layout.words[100 + k]}-${k}.so`;
}

/** Seeded, reproducible random bytes (AES-256-CTR keystream; fast and incompressible, like a real binary). */
function writeBinary(path: string, spec: SyntheticSpec, k: number): void {
  const key = createHash('sha256').update(`mono-bench:${spec.name}:${spec.seed}:${k}`).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  const zeros = Buffer.alloc(1024 * 1024);
  const fd = openSync(path, 'w', 0o644);
  try {
    let left = spec.binaryBytes;
    while (left > 0) {
      const n = Math.min(left, zeros.length);
      const chunk = cipher.update(n === zeros.length ? zeros : zeros.subarray(0, n));
      let off = 0;
      while (off < chunk.length) off += writeSync(fd, chunk, off);
      left -= n;
    }
  } finally {
    closeSync(fd);
  }
}

function markerOf(spec: SyntheticSpec): string {
  return JSON.stringify({ version: GENERATOR_VERSION, spec, minText: MIN_TEXT, maxText: MAX_TEXT, app: APP_FILES });
}

/** The tree for `spec`, generated unless a complete one with the same spec is cached. */
export function syntheticRelease(spec: SyntheticSpec, log: (message: string) => void = () => undefined): SyntheticRelease {
  const started = performance.now();
  const layout = layoutOf(spec);
  const dir = join(CACHE_DIR, spec.name);
  const markerFile = `${dir}.json`;
  const marker = markerOf(spec);
  let totals: { files: number; bytes: number } | undefined;
  if (existsSync(dir) && existsSync(markerFile)) {
    try {
      const saved = JSON.parse(readFileSync(markerFile, 'utf8')) as { marker: string; files: number; bytes: number };
      if (saved.marker === marker) totals = { files: saved.files, bytes: saved.bytes };
    } catch {
      // regenerate
    }
  }
  const generated = totals === undefined;
  if (totals === undefined) {
    log(`generating the synthetic release ${dir} (${spec.textFiles} text files, ${spec.binaries} × ${(spec.binaryBytes / 1e6).toFixed(0)} MB binaries)…`);
    mkdirSync(CACHE_DIR, { recursive: true });
    rmSync(markerFile, { force: true });
    rmSync(dir, { recursive: true, force: true });
    const partial = `${dir}.partial-${process.pid}`;
    rmSync(partial, { recursive: true, force: true });
    let files = 0;
    let bytes = 0;
    for (const d of layout.dirs) mkdirSync(join(partial, d), { recursive: true });
    for (let i = 0; i < spec.textFiles; i++) {
      const content = textContent(spec, layout, i);
      writeFileSync(join(partial, textPathOf(layout, i)), content);
      files++;
      bytes += content.length;
    }
    mkdirSync(join(partial, 'vendor/native'), { recursive: true });
    for (let k = 0; k < spec.binaries; k++) {
      writeBinary(join(partial, binaryPath(layout, k)), spec, k);
      files++;
      bytes += spec.binaryBytes;
    }
    for (const [name, text] of Object.entries(APP_FILES)) {
      writeFileSync(join(partial, name), text);
      files++;
      bytes += Buffer.byteLength(text);
    }
    renameSync(partial, dir);
    writeFileSync(markerFile, JSON.stringify({ marker, files, bytes }));
    totals = { files, bytes };
  }
  return {
    spec,
    dir,
    files: totals.files,
    bytes: totals.bytes,
    generated,
    seconds: (performance.now() - started) / 1000,
    textPath: (i) => textPathOf(layout, i),
    restoreText: (i) => writeFileSync(join(dir, textPathOf(layout, i)), textContent(spec, layout, i)),
  };
}
