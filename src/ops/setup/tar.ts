// A minimal POSIX ustar writer: regular files only, owned by root, fixed mtime, so the same files make the same bytes.

const BLOCK = 512;

/** Writes `value` as a NUL-terminated octal number filling `width` bytes of `header` at `at`. */
function octal(header: Buffer, at: number, width: number, value: number): void {
  header.write(value.toString(8).padStart(width - 1, '0') + '\0', at, width, 'ascii');
}

function fileHeader(path: string, size: number, mode: number): Buffer {
  if (Buffer.byteLength(path) > 100) throw new Error(`tar: path longer than 100 bytes: ${path}`);
  const h = Buffer.alloc(BLOCK);
  h.write(path, 0, 100, 'utf8');
  octal(h, 100, 8, mode);
  octal(h, 108, 8, 0); // uid
  octal(h, 116, 8, 0); // gid
  octal(h, 124, 12, size);
  octal(h, 136, 12, 0); // mtime
  h.fill(' ', 148, 156); // the checksum is computed with its own field as spaces
  h.write('0', 156, 1, 'ascii'); // a regular file
  h.write('ustar\u000000', 257, 8, 'ascii');
  h.write('root', 265, 32, 'ascii');
  h.write('root', 297, 32, 'ascii');
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'ascii');
  return h;
}

/** A tar archive of the files (folders in their paths are created by tar on extraction). */
export function ustar(files: readonly { readonly path: string; readonly content: Buffer; readonly mode?: number }[]): Buffer {
  const parts: Buffer[] = [];
  for (const f of files) {
    parts.push(fileHeader(f.path, f.content.length, f.mode ?? 0o644), f.content);
    const pad = (BLOCK - (f.content.length % BLOCK)) % BLOCK;
    if (pad > 0) parts.push(Buffer.alloc(pad));
  }
  parts.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(parts);
}
