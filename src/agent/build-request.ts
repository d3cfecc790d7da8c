// Validation of a release-build request: release id, manifest paths and link targets, process names, shared paths.
import { MonoError } from '../errors.js';
import { type BuildRequest, type Manifest, RELEASE_ID } from '../release/protocol.js';
import { isRecord } from './stdin.js';
import { isReserved, isWithin, linkTargetProblem, pathProblem, PROCESS_NAME, SHA256 } from './validate.js';

const MAX_SHOWN = 20;

/** Returns the request typed, or throws one usage error that lists every problem (`where: what`). */
export function parseBuildRequest(value: unknown): BuildRequest {
  const problems: string[] = [];
  const add = (where: string, what: string): void => void problems.push(`${where}: ${what}`);
  if (!isRecord(value)) throw new MonoError('USAGE', 'release-build: the request must be a JSON object');
  const { id, manifest, meta, processes, shared } = value;
  if (typeof id !== 'string' || !RELEASE_ID.test(id)) add('id', `must look like 20261130T232000Z-1a2b3c4d, got ${JSON.stringify(id)}`);
  checkManifest(manifest, add);
  if (!isRecord(meta)) add('meta', 'must be an object');
  else if (meta['id'] !== id) add('meta.id', `must equal the release id ${JSON.stringify(id)}`);
  checkProcesses(processes, add);
  checkShared(shared, add);
  if (problems.length > 0) {
    throw new MonoError('USAGE', `release-build: the request is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'})`, {
      details: problems.length > MAX_SHOWN ? [...problems.slice(0, MAX_SHOWN), `… and ${problems.length - MAX_SHOWN} more`] : problems,
      hint: 'nothing was built; the sending mono produced a manifest this box refuses',
    });
  }
  return value as unknown as BuildRequest;
}

type Add = (where: string, what: string) => void;

function checkManifest(manifest: unknown, add: Add): void {
  if (!isRecord(manifest)) return add('manifest', 'must be an object');
  if (manifest['version'] !== 1) add('manifest.version', 'must be 1');
  const { dirs, files, links } = manifest;
  if (!Array.isArray(dirs)) add('manifest.dirs', 'must be an array');
  if (!Array.isArray(files)) add('manifest.files', 'must be an array');
  if (!Array.isArray(links)) add('manifest.links', 'must be an array');
  if (!Array.isArray(dirs) || !Array.isArray(files) || !Array.isArray(links)) return;
  const declared = new Set<string>();
  const taken = new Set<string>();
  const checkEntryPath = (where: string, path: unknown): path is string => {
    const problem = pathProblem(path);
    const p = path as string;
    const refuse = (what: string): false => {
      add(where, `path ${JSON.stringify(path)} ${what}`);
      return false;
    };
    if (problem !== undefined) return refuse(problem);
    if (isReserved(p)) return refuse('is inside .mono/, which mono writes itself');
    if (taken.has(p)) return refuse('is listed twice');
    const parent = p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : undefined;
    if (parent !== undefined && !declared.has(parent)) add(where, `the parent folder ${JSON.stringify(parent)} of ${JSON.stringify(p)} is not listed before it in manifest.dirs`);
    taken.add(p);
    return true;
  };
  dirs.forEach((dir, i) => {
    if (checkEntryPath(`manifest.dirs[${i}]`, dir)) declared.add(dir);
  });
  const sizes = new Map<string, number>();
  files.forEach((file: unknown, i) => {
    const where = `manifest.files[${i}]`;
    if (!isRecord(file)) return add(where, 'must be an object');
    checkEntryPath(where, file['path']);
    const { sha256, size, executable } = file;
    if (typeof sha256 !== 'string' || !SHA256.test(sha256)) add(`${where}.sha256`, 'must be 64 lower-case hex digits');
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) add(`${where}.size`, 'must be a non-negative integer');
    if (typeof executable !== 'boolean') add(`${where}.executable`, 'must be true or false');
    if (typeof sha256 === 'string' && typeof size === 'number') {
      const known = sizes.get(sha256);
      if (known !== undefined && known !== size) add(`${where}.size`, `${size} differs from ${known}, the size of another file with the same sha256`);
      sizes.set(sha256, size);
    }
  });
  links.forEach((link: unknown, i) => {
    const where = `manifest.links[${i}]`;
    if (!isRecord(link)) return add(where, 'must be an object');
    if (!checkEntryPath(where, link['path'])) return;
    const problem = linkTargetProblem(link['path'], link['target']);
    if (problem !== undefined) add(`${where}.target`, `${JSON.stringify(link['target'])} ${problem}`);
  });
}

function checkProcesses(processes: unknown, add: Add): void {
  if (!isRecord(processes)) return add('processes', 'must be an object of name → command');
  for (const [name, command] of Object.entries(processes)) {
    if (!PROCESS_NAME.test(name)) add(`processes.${name}`, 'the name must match ^[a-z][a-z0-9_-]{0,30}$');
    if (typeof command !== 'string' || command.trim() === '') add(`processes.${name}`, 'the command must be a non-empty string');
    else if (/[\n\r\0]/.test(command)) add(`processes.${name}`, 'the command must be one line (no newline or NUL)');
  }
}

function checkShared(shared: unknown, add: Add): void {
  if (!Array.isArray(shared)) return add('shared', 'must be an array of paths');
  const ok: string[] = [];
  shared.forEach((path: unknown, i) => {
    const problem = pathProblem(path);
    if (problem !== undefined) return add(`shared[${i}]`, `${JSON.stringify(path)} ${problem}`);
    const p = path as string;
    if (isReserved(p)) return add(`shared[${i}]`, `${JSON.stringify(p)} is inside .mono/, which mono writes itself`);
    const clash = ok.find((other) => isWithin(p, other) || isWithin(other, p));
    if (clash !== undefined) return add(`shared[${i}]`, `${JSON.stringify(p)} overlaps ${JSON.stringify(clash)} (shared paths may not be nested or repeated)`);
    ok.push(p);
  });
}

/** Total bytes of the manifest's files. */
export function manifestBytes(manifest: Manifest): number {
  let total = 0;
  for (const f of manifest.files) total += f.size;
  return total;
}
