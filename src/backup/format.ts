// How a backup's files are made and read back, as argv chains (data): pg_dump's custom format compressed with zstd,
// natively by pg_dump from PostgreSQL 16 on (the archive stays seekable, so pg_restore -j can restore it in parallel
// straight from the file), or else uncompressed through the zstd program; then, with encryption, through age.

export interface ArchiveFormat {
  /** The dump's file name in the backup's folder: dump.pgdump (native zstd) or dump.zst, plus .age when encrypted. */
  readonly dumpName: string;
  readonly globalsName: string;
  /** pg_dump …, then the stages its output goes through before it is written. */
  readonly dump: (snapshot: string) => string[][];
  /** pg_dumpall --globals-only …, then its stages. */
  readonly globals: (db: string) => string[][];
  /** Programs that print a file of this backup as plain text (globals) or a plain custom-format archive (dump). */
  readonly read: (file: string) => string[][];
}

export interface FormatOptions {
  /** The major version of the box's pg_dump. */
  readonly pgDumpMajor: number;
  /** age: the recipients to encrypt to, and the identity the box reads back with. */
  readonly encrypt?: { readonly recipients: readonly string[]; readonly identity: string };
}

/** PostgreSQL 16 is the first whose pg_dump compresses a custom archive with zstd itself. */
export const NATIVE_ZSTD_FROM = 16;

/** Names of the files a backup may hold (the offsite receiver accepts exactly these). */
export const BACKUP_FILE_NAMES: readonly string[] = ['dump.zst', 'dump.pgdump', 'globals.sql.zst'].flatMap((n) => [n, `${n}.age`]).concat('manifest.json');

export function archiveFormat(o: FormatOptions): ArchiveFormat {
  const native = o.pgDumpMajor >= NATIVE_ZSTD_FROM;
  const enc = o.encrypt;
  const ext = enc === undefined ? '' : '.age';
  const encrypt = enc === undefined ? [] : [['age', '--encrypt', ...enc.recipients.flatMap((k) => ['--recipient', k])]];
  const dumpName = `${native ? 'dump.pgdump' : 'dump.zst'}${ext}`;
  const plain = (file: string): string[][] => (enc === undefined ? [] : [['age', '--decrypt', '--identity', enc.identity, '--', file]]);
  return {
    dumpName,
    globalsName: `globals.sql.zst${ext}`,
    dump: (snapshot) => [
      native
        ? ['pg_dump', '--format=custom', '--compress=zstd:3', `--snapshot=${snapshot}`, '--no-password']
        : ['pg_dump', '--format=custom', '--compress=0', `--snapshot=${snapshot}`, '--no-password'],
      ...(native ? [] : [['zstd', '-q', '-3', '-T2', '-c']]),
      ...encrypt,
    ],
    globals: (db) => [['pg_dumpall', '--globals-only', '--no-role-passwords', '--no-password', '-l', db], ['zstd', '-q', '-3', '-c'], ...encrypt],
    read: (file) => {
      const decrypted = plain(file);
      const isDump = file.endsWith(dumpName) && native;
      if (isDump) return decrypted.length > 0 ? decrypted : [['cat', '--', file]];
      return decrypted.length > 0 ? [...decrypted, ['zstd', '-dc']] : [['zstd', '-dc', '--', file]];
    },
  };
}
