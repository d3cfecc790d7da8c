// The deploy protocol between the operator's CLI and the agent on the box: manifest, store layout, stream framing, agent replies.

/** One regular file of a release. Modes are normalised: a release is read-only, executables keep their x bit. */
export interface ManifestFile {
  /** POSIX path relative to the release root, no leading "./", never ".." or absolute. */
  readonly path: string;
  readonly size: number;
  readonly executable: boolean;
  /** Lower-case hex sha256 of the content. */
  readonly sha256: string;
}

/** A symlink inside the release. Its target is relative and resolves inside the release (checked on both sides). */
export interface ManifestLink {
  readonly path: string;
  readonly target: string;
}

export interface Manifest {
  readonly version: 1;
  /** Every directory, parents before children (the root itself is not listed). */
  readonly dirs: readonly string[];
  readonly files: readonly ManifestFile[];
  readonly links: readonly ManifestLink[];
}

/** Who made a release, from what; stored as <release>/.mono/release.json. */
export interface ReleaseMeta {
  readonly id: string;
  readonly createdAt: string;
  /** user@hostname of the operator. */
  readonly by: string;
  readonly source: string;
  readonly git?: { readonly commit: string; readonly branch?: string; readonly dirty: boolean };
  readonly manifestSha256: string;
  readonly files: number;
  readonly bytes: number;
  readonly message?: string;
}

/** Release ids: UTC timestamp plus the first 8 hex digits of the manifest's sha256, e.g. 20261130T232000Z-1a2b3c4d. */
export const RELEASE_ID = /^\d{8}T\d{6}Z-[0-9a-f]{8}$/;

/** Read-only modes of release files (and of store blobs, which are the same inodes). */
export const FILE_MODE = 0o444;
export const EXEC_MODE = 0o555;
export const DIR_MODE = 0o555;

/**
 * Store layout under <root>/.mono/store/:
 *   <aa>/<sha256>      content, mode 0444 (aa = first two hex digits)
 *   <aa>/<sha256>.x    the same content, mode 0555, made on demand for executables (hard links share modes)
 *   <aa>/<sha256>.<pid>-<random>-<n>.partial   a blob being received, never used by a release (older versions: .incoming/)
 */
export function blobPath(storeDir: string, sha256: string, executable: boolean): string {
  return `${storeDir}/${sha256.slice(0, 2)}/${sha256}${executable ? '.x' : ''}`;
}

/**
 * The upload stream (stdin of `mono agent receive`), optionally gzip-compressed as a whole:
 *   for each blob: one header line of JSON {"sha256": "<hex>", "size": <bytes>} + "\n", then exactly <size> bytes.
 *   then one line {"end": true} + "\n".
 * A stream that ends early (dropped connection) keeps every blob that arrived whole and verified.
 */
export interface BlobHeader {
  readonly sha256: string;
  readonly size: number;
}
export interface EndHeader {
  readonly end: true;
}

/** What `mono agent receive` prints (one JSON line) when the stream ends. */
export interface ReceiveResult {
  readonly stored: number;
  readonly bytes: number;
  /** Blobs whose content did not match their sha256: deleted; the CLI sends them again. */
  readonly rejected: readonly string[];
  /** Set when the box ran out of space (or another write error): what arrived whole is kept. */
  readonly error?: { readonly code: 'ENOSPC' | 'EDQUOT' | 'EIO' | 'OTHER'; readonly message: string; readonly path: string };
}

/** Input of `mono agent release-build` (stdin, JSON). */
export interface BuildRequest {
  readonly id: string;
  readonly manifest: Manifest;
  readonly meta: ReleaseMeta;
  /** Process types and their commands; each becomes <release>/.mono/procs/<name> ("exec <command>"). */
  readonly processes: Readonly<Record<string, string>>;
  /** Paths linked from <root>/shared/<path> into the release (replacing what the release has there). */
  readonly shared: readonly string[];
}

/** What `mono agent release-build` prints. */
export interface BuildResult {
  readonly id: string;
  readonly files: number;
  readonly bytes: number;
  /** Blobs the manifest needs that the store lacks (nothing was built). */
  readonly missing: readonly string[];
}

export interface ReleaseInfo {
  readonly id: string;
  readonly meta?: ReleaseMeta;
  readonly current: boolean;
  /** systemd units of this release that are active or activating/deactivating. */
  readonly units: readonly { readonly unit: string; readonly state: string }[];
  readonly bytes: number;
  /** Process types it has scripts for (.mono/procs/). */
  readonly processes: readonly string[];
}

export interface PruneResult {
  readonly removedReleases: readonly string[];
  readonly keptReleases: readonly string[];
  readonly removedBlobs: number;
  readonly freedBytes: number;
  readonly dryRun: boolean;
}

/** Contents of <root>/.mono/lock/info.json. */
export interface LockInfo {
  readonly by: string;
  readonly from: string;
  readonly since: string;
  readonly operation: string;
  readonly release?: string;
  readonly message?: string;
  /** Random token: only the holder that wrote it releases the lock without --force. */
  readonly token: string;
  /** Box-side pid of the holding process; absent for a lock taken by hand (`mono lock acquire`). */
  readonly pid?: number;
}

export type LockReply =
  | { readonly locked: true; readonly info: LockInfo }
  | { readonly locked: false; readonly holder: LockInfo; readonly stale: boolean };

// ---------------------------------------------------------------------------------------------------------------------------
// The deploy session (`mono agent session`): it first prints a SessionHello line; then each line in is a SessionRequest (or
// "release"), answered by one SessionReply line, in order.

/** The first line of a session: the agent's version (the CLI refuses a different one). */
export interface SessionHello {
  readonly agent: string;
}

export interface PruneRequest {
  readonly op: 'prune';
  readonly keep: number;
  readonly app: string;
}

export type SessionRequest =
  | { readonly op: 'lock'; readonly request: unknown }
  /** The release to build: answered with the blobs the store lacks ({ missing }); kept for "build". */
  | { readonly op: 'plan'; readonly request: BuildRequest }
  /** Builds the planned release (BuildResult; its "missing" is not empty when blobs are still absent, and nothing was built). */
  | { readonly op: 'build' }
  | { readonly op: 'audit'; readonly entry: Record<string, unknown> }
  /** Starts the handover runner on the box and hands it the lock (the reply: { id, unit, pid }). */
  | { readonly op: 'handover'; readonly spec: unknown }
  /** mono.yml's schedules: <root>/.mono/cron.json, written when it differs (the reply: { changed }). */
  | { readonly op: 'cron'; readonly spec: unknown }
  | PruneRequest;

export type SessionReply =
  | { readonly ok: true; readonly result: unknown }
  | { readonly ok: false; readonly error: { readonly code: string; readonly message: string; readonly hint?: string; readonly details: readonly string[] } };
